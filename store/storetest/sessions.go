package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// newSession returns an unsaved session of the user, expiring at t0+24h.
func newSession(name string, u gatehouse.User) gatehouse.Session {
	return gatehouse.Session{Digest: digest(name), UserID: u.ID, CreatedAt: at(0), ExpiresAt: at(24 * time.Hour)}
}

// session stores newSession(name, u).
func (f *fixture) session(name string, u gatehouse.User) gatehouse.Session {
	f.t.Helper()
	s := newSession(name, u)
	ok(f.t, f.st.CreateSession(f.ctx, s))
	return s
}

// checkSessions checks that each session reads as want.
func checkSessions(t *testing.T, f *fixture, want ...gatehouse.Session) {
	t.Helper()
	for _, w := range want {
		got, err := f.st.GetSession(f.ctx, w.Digest)
		ok(t, err)
		same(t, "session", got, w)
	}
}

// checkSessionsGone checks that no session has the digest of one of sessions.
func checkSessionsGone(t *testing.T, f *fixture, sessions ...gatehouse.Session) {
	t.Helper()
	for _, s := range sessions {
		_, err := f.st.GetSession(f.ctx, s.Digest)
		isErr(t, err, gatehouse.ErrNotFound)
	}
}

func sessionCases() []testCase {
	return append([]testCase{
		{"RoundTrip", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			expired := newSession("expired", u)
			expired.ExpiresAt = at(-time.Hour) // returned until deleted
			for _, want := range []gatehouse.Session{
				newSession("full", u),
				expired,
				{Digest: digest("zero-times"), UserID: u.ID},
			} {
				ok(t, f.st.CreateSession(f.ctx, want))
				checkSessions(t, f, want)
			}
		}},
		{"GetMissing", func(t *testing.T, f *fixture) {
			f.session("one", f.user("alice"))
			checkSessionsGone(t, f, gatehouse.Session{Digest: digest("two")})
		}},
		{"CreateError/DuplicateDigest", func(t *testing.T, f *fixture) {
			first := f.session("one", f.user("alice"))
			dup := newSession("one", f.user("bob"))
			dup.ExpiresAt = at(48 * time.Hour)
			isErr(t, f.st.CreateSession(f.ctx, dup), gatehouse.ErrAlreadyExists)
			checkSessions(t, f, first)
		}},
		{"CreateError/UnknownUser", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			s := newSession("one", gatehouse.User{ID: u.ID + 1000})
			isErr(t, f.st.CreateSession(f.ctx, s), gatehouse.ErrNotFound)
			checkSessionsGone(t, f, s)
		}},
		{"Delete", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			doomed, kept := f.session("doomed", u), f.session("kept", u)
			ok(t, f.st.DeleteSession(f.ctx, doomed.Digest))
			checkSessionsGone(t, f, doomed)
			checkSessions(t, f, kept)
			isErr(t, f.st.DeleteSession(f.ctx, doomed.Digest), gatehouse.ErrNotFound)
		}},
		{"DeleteMissing", func(t *testing.T, f *fixture) {
			s := f.session("one", f.user("alice"))
			isErr(t, f.st.DeleteSession(f.ctx, digest("two")), gatehouse.ErrNotFound)
			checkSessions(t, f, s)
		}},
	}, openSessionCases()...)
}
