package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// newCredential returns an unsaved credential of the app, created at
// t0, expiring at expires (zero: never).
func newCredential(name string, a gatehouse.App, expires time.Time) gatehouse.Credential {
	return gatehouse.Credential{AppID: a.ID, Name: name, Digest: digest(name), Hint: "…" + name[len(name)-2:], CreatedAt: at(0), ExpiresAt: expires}
}

// credentialLifecycleCases check the limit of credentials per app,
// rotation, revocation of a compromised credential and the noting of
// expiries.
func credentialLifecycleCases() []testCase {
	return []testCase{
		{"Limit", func(t *testing.T, f *fixture) {
			a, other := f.app("web"), f.app("other")
			// An expired credential does not count; MaxCredentials live
			// ones fill the app.
			_, err := f.st.CreateCredential(f.ctx, newCredential("expired", a, at(-time.Minute)))
			ok(t, err)
			for i := range gatehouse.MaxCredentials {
				_, err := f.st.CreateCredential(f.ctx, newCredential(fmt.Sprintf("live-%02d", i), a, at(time.Hour)))
				ok(t, err)
			}
			_, err = f.st.CreateCredential(f.ctx, newCredential("one-too-many", a, time.Time{}))
			isErr(t, err, gatehouse.ErrLimitReached)
			list, err := f.st.ListCredentials(f.ctx, a.ID)
			ok(t, err)
			if len(list) != gatehouse.MaxCredentials+1 {
				t.Fatalf("%d credentials after a refused create, want %d", len(list), gatehouse.MaxCredentials+1)
			}
			// The limit is per app, and later in time the expired ones
			// make room.
			_, err = f.st.CreateCredential(f.ctx, newCredential("other-app", other, time.Time{}))
			ok(t, err)
			late := newCredential("after-expiry", a, time.Time{})
			late.CreatedAt = at(time.Hour)
			_, err = f.st.CreateCredential(f.ctx, late)
			ok(t, err)
		}},
		{"LimitConcurrent", func(t *testing.T, f *fixture) {
			a := f.app("web")
			var wg sync.WaitGroup
			errs := make([]error, 2*gatehouse.MaxCredentials)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = f.st.CreateCredential(f.ctx, newCredential(fmt.Sprintf("racer-%02d", i), a, time.Time{}))
				})
			}
			wg.Wait()
			created := 0
			for _, err := range errs {
				if err == nil {
					created++
				} else {
					isErr(t, err, gatehouse.ErrLimitReached)
				}
			}
			list, err := f.st.ListCredentials(f.ctx, a.ID)
			ok(t, err)
			if created != gatehouse.MaxCredentials || len(list) != gatehouse.MaxCredentials {
				t.Fatalf("%d concurrent creates succeeded, %d stored; want %d", created, len(list), gatehouse.MaxCredentials)
			}
		}},
		{"Rotate", func(t *testing.T, f *fixture) {
			a := f.app("web")
			old, err := f.st.CreateCredential(f.ctx, newCredential("old", a, time.Time{}))
			ok(t, err)
			later, err := f.st.CreateCredential(f.ctx, newCredential("soon", a, at(time.Hour)))
			ok(t, err)
			next := newCredential("next", a, time.Time{})
			got, err := f.st.RotateCredential(f.ctx, old.ID, at(7*24*time.Hour), next)
			ok(t, err)
			next.ID = got.ID
			same(t, "RotateCredential", got, next)
			old.ExpiresAt = at(7 * 24 * time.Hour)
			// An expiry earlier than the overlap stays.
			_, err = f.st.RotateCredential(f.ctx, later.ID, at(24*time.Hour), newCredential("next2", a, time.Time{}))
			ok(t, err)
			list, err := f.st.ListCredentials(f.ctx, a.ID)
			ok(t, err)
			if len(list) != 4 {
				t.Fatalf("%d credentials, want 4", len(list))
			}
			same(t, "rotated credential", list[0], old)
			same(t, "rotated credential expiring earlier", list[1], later)
		}},
		{"RotateErrors", func(t *testing.T, f *fixture) {
			a, other := f.app("web"), f.app("other")
			mine, err := f.st.CreateCredential(f.ctx, newCredential("mine", a, time.Time{}))
			ok(t, err)
			theirs, err := f.st.CreateCredential(f.ctx, newCredential("theirs", other, time.Time{}))
			ok(t, err)
			// Another app's credential, an unknown one, a taken digest:
			// nothing changes.
			_, err = f.st.RotateCredential(f.ctx, theirs.ID, at(time.Hour), newCredential("new-1", a, time.Time{}))
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.RotateCredential(f.ctx, mine.ID+1000, at(time.Hour), newCredential("new-2", a, time.Time{}))
			isErr(t, err, gatehouse.ErrNotFound)
			dup := newCredential("new-3", a, time.Time{})
			dup.Digest = theirs.Digest
			_, err = f.st.RotateCredential(f.ctx, mine.ID, at(time.Hour), dup)
			isErr(t, err, gatehouse.ErrAlreadyExists)
			for i := range gatehouse.MaxCredentials - 1 {
				_, err := f.st.CreateCredential(f.ctx, newCredential(fmt.Sprintf("fill-%02d", i), a, time.Time{}))
				ok(t, err)
			}
			_, err = f.st.RotateCredential(f.ctx, mine.ID, at(time.Hour), newCredential("new-4", a, time.Time{}))
			isErr(t, err, gatehouse.ErrLimitReached)
			got, err := f.st.GetCredentialByDigest(f.ctx, mine.Digest)
			ok(t, err)
			same(t, "credential after refused rotations", got, mine)
			got, err = f.st.GetCredentialByDigest(f.ctx, theirs.Digest)
			ok(t, err)
			same(t, "another app's credential", got, theirs)
		}},
		{"RevokeCascades", func(t *testing.T, f *fixture) {
			alice, bob := f.user("alice"), f.user("bob")
			w := f.world("web", alice)
			g2 := f.grant(bob, w.app)
			bobs := f.token("bob-refresh", gatehouse.RefreshToken, g2)
			spare := f.credential("spare-secret", w.app)
			kept := f.world("kept", alice)
			revokedAt := at(time.Hour)
			r, err := f.st.RevokeCredential(f.ctx, w.cred.ID, revokedAt)
			ok(t, err)
			if r.Tokens != 4 || r.Grants != 2 {
				t.Errorf("RevokeCredential revoked %+v, want 4 tokens and 2 grants", r)
			}
			_, err = f.st.GetCredentialByDigest(f.ctx, w.cred.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
			got, err := f.st.GetCredentialByDigest(f.ctx, spare.Digest)
			ok(t, err)
			same(t, "the app's other credential", got, spare)
			for _, tok := range []gatehouse.Token{w.access, w.refresh, w.creds, bobs} {
				got, err := f.st.GetToken(f.ctx, tok.Digest)
				ok(t, err)
				tok.RevokedAt = revokedAt
				same(t, "token of the app", got, tok)
			}
			for _, g := range []gatehouse.Grant{w.grant, g2} {
				got, err := f.st.GetGrant(f.ctx, g.ID)
				ok(t, err)
				g.RevokedAt = revokedAt
				same(t, "grant of the app", got, g)
			}
			// No token goes into a revoked grant afterwards.
			isErr(t, f.st.CreateToken(f.ctx, f.newToken("late", gatehouse.AccessToken, g2)), gatehouse.ErrNotFound)
			kept.checkIntact(t, f)
			_, err = f.st.RevokeCredential(f.ctx, w.cred.ID, revokedAt)
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"NoteExpired", func(t *testing.T, f *fixture) {
			a := f.app("web")
			var expired []gatehouse.Credential
			for i := range 3 {
				c, err := f.st.CreateCredential(f.ctx, newCredential(fmt.Sprintf("gone-%02d", i), a, at(time.Duration(i+1)*time.Minute)))
				ok(t, err)
				expired = append(expired, c)
			}
			_, err := f.st.CreateCredential(f.ctx, newCredential("future", a, at(time.Hour)))
			ok(t, err)
			_, err = f.st.CreateCredential(f.ctx, newCredential("forever", a, time.Time{}))
			ok(t, err)
			got, err := f.st.NoteExpiredCredentials(f.ctx, at(3*time.Minute), 2)
			ok(t, err)
			sameList(t, "NoteExpiredCredentials (first batch)", got, expired[:2])
			got, err = f.st.NoteExpiredCredentials(f.ctx, at(3*time.Minute), 10)
			ok(t, err)
			sameList(t, "NoteExpiredCredentials (second batch)", got, expired[2:])
			got, err = f.st.NoteExpiredCredentials(f.ctx, at(30*time.Minute), 10)
			ok(t, err)
			sameList(t, "NoteExpiredCredentials (all noted)", got, nil)
			if _, err := f.st.NoteExpiredCredentials(f.ctx, at(0), 0); err == nil {
				t.Error("NoteExpiredCredentials accepted a limit of 0")
			}
		}},
		{"NoteExpiredConcurrent", func(t *testing.T, f *fixture) {
			a := f.app("web")
			for i := range 20 {
				_, err := f.st.CreateCredential(f.ctx, newCredential(fmt.Sprintf("gone-%02d", i), a, at(-time.Minute)))
				ok(t, err) // expired at t0: none counts against the limit
			}
			var mu sync.Mutex
			seen := map[int64]int{}
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for {
						cs, err := f.st.NoteExpiredCredentials(f.ctx, at(0), 3)
						if err != nil {
							t.Error(err)
							return
						}
						if len(cs) == 0 {
							return
						}
						mu.Lock()
						for _, c := range cs {
							seen[c.ID]++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(seen) != 20 {
				t.Errorf("%d credentials noted, want 20", len(seen))
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("credential %d noted %d times", id, n)
				}
			}
		}},
	}
}
