package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// openSessionCases check OpenSession: a session (and device) only for the
// password hash the sign-in verified, all or nothing, and never one that
// outlives a concurrent SetPasswordHash or DeleteUser.
func openSessionCases() []testCase {
	device := func(name string, u gatehouse.User) *gatehouse.Device {
		return &gatehouse.Device{Digest: digest(name), UserID: u.ID, CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	}
	return []testCase{
		{"OpenSession", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			s, d := newSession("s1", u), device("d1", u)
			ok(t, f.st.OpenSession(f.ctx, s, d, u.PasswordHash))
			got, err := f.st.GetSession(f.ctx, s.Digest)
			ok(t, err)
			same(t, "session", got, s)
			gotD, err := f.st.GetDevice(f.ctx, d.Digest)
			ok(t, err)
			same(t, "device", gotD, *d)
			// Without a device.
			s2 := newSession("s2", u)
			ok(t, f.st.OpenSession(f.ctx, s2, nil, u.PasswordHash))
			_, err = f.st.GetSession(f.ctx, s2.Digest)
			ok(t, err)
		}},
		{"OpenSessionRefused", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			taken := newSession("taken", u)
			ok(t, f.st.CreateSession(f.ctx, taken))
			for _, tt := range []struct {
				name string
				s    gatehouse.Session
				hash string
				want error
			}{
				{"another hash", newSession("s1", u), u.PasswordHash + "x", gatehouse.ErrNotFound},
				{"an unknown user", newSession("s2", gatehouse.User{ID: u.ID + 1000}), u.PasswordHash, gatehouse.ErrNotFound},
				{"a taken digest", taken, u.PasswordHash, gatehouse.ErrAlreadyExists},
			} {
				d := device("d-"+tt.name, u)
				isErr(t, f.st.OpenSession(f.ctx, tt.s, d, tt.hash), tt.want)
				if tt.name != "a taken digest" {
					_, err := f.st.GetSession(f.ctx, tt.s.Digest)
					isErr(t, err, gatehouse.ErrNotFound)
				}
				_, err := f.st.GetDevice(f.ctx, d.Digest)
				isErr(t, err, gatehouse.ErrNotFound)
			}
		}},
		{"OpenSessionRacesSetPassword", func(t *testing.T, f *fixture) {
			// Each round: a sign-in that verified the old hash and a
			// password change run at once. Whoever wins, no session of the
			// old password is left.
			for i := range 20 {
				u := f.user(fmt.Sprint("user", i))
				s := newSession(fmt.Sprint("race", i), u)
				var wg sync.WaitGroup
				wg.Go(func() { _ = f.st.OpenSession(f.ctx, s, device(fmt.Sprint("race-d", i), u), u.PasswordHash) })
				wg.Go(func() { ok(t, f.st.SetPasswordHash(f.ctx, u.ID, u.PasswordHash+"-new")) })
				wg.Wait()
				if _, err := f.st.GetSession(f.ctx, s.Digest); err == nil {
					t.Fatalf("round %d: a session opened with the old password outlived SetPasswordHash", i)
				}
				if _, err := f.st.GetDevice(f.ctx, digest(fmt.Sprint("race-d", i))); err == nil {
					t.Fatalf("round %d: a device remembered with the old password outlived SetPasswordHash", i)
				}
			}
		}},
		{"OpenSessionRacesDeleteUser", func(t *testing.T, f *fixture) {
			for i := range 20 {
				u := f.user(fmt.Sprint("user", i))
				s := newSession(fmt.Sprint("race", i), u)
				var wg sync.WaitGroup
				var openErr error
				wg.Go(func() { openErr = f.st.OpenSession(f.ctx, s, device(fmt.Sprint("race-d", i), u), u.PasswordHash) })
				wg.Go(func() { ok(t, f.st.DeleteUser(f.ctx, u.ID)) })
				wg.Wait()
				if openErr != nil {
					isErr(t, openErr, gatehouse.ErrNotFound)
				}
				if _, err := f.st.GetSession(f.ctx, s.Digest); err == nil {
					t.Fatalf("round %d: a session outlived its deleted user", i)
				}
			}
		}},
	}
}
