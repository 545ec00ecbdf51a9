package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// generation reads the store's generation.
func (f *fixture) generation() int64 {
	f.t.Helper()
	g, err := f.st.Generation(f.ctx)
	ok(f.t, err)
	return g
}

// changes asserts that do changes the generation, or that it does not.
func (f *fixture) changes(what string, want bool, do func()) {
	f.t.Helper()
	before := f.generation()
	do()
	if changed := f.generation() != before; changed != want {
		f.t.Errorf("%s: generation changed = %v, want %v", what, changed, want)
	}
}

func generationCases() []testCase {
	return []testCase{
		{"ChangesWithAppsAndCredentials", func(t *testing.T, f *fixture) {
			var a gatehouse.App
			var c gatehouse.Credential
			f.changes("CreateApp", true, func() { a = f.app("web") })
			f.changes("CreateCredential", true, func() { c = f.credential("c1", a) })
			f.changes("DeleteCredential", true, func() { ok(t, f.st.DeleteCredential(f.ctx, c.ID)) })
			other := f.app("other")
			f.changes("DeleteApp", true, func() { ok(t, f.st.DeleteApp(f.ctx, other.ClientID)) })
		}},
		{"UnchangedByTraffic", func(t *testing.T, f *fixture) {
			a := f.app("web")
			c := f.credential("c1", a)
			u := f.user("alice")
			f.changes("TouchCredential", false, func() { ok(t, f.st.TouchCredential(f.ctx, c.ID, at(time.Hour))) })
			f.changes("CreateToken", false, func() { f.appToken("t1", a) })
			f.changes("CreateGrant", false, func() { f.grant(u, a) })
			f.changes("CreateSession", false, func() {
				ok(t, f.st.CreateSession(f.ctx, gatehouse.Session{Digest: digest("s1"), UserID: u.ID, CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
			})
		}},
	}
}
