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
			c = f.credential("c2", a)
			f.changes("RotateCredential", true, func() {
				_, err := f.st.RotateCredential(f.ctx, c.ID, at(time.Hour), newCredential("c3", a, time.Time{}))
				ok(t, err)
			})
			f.changes("NoteExpiredCredentials", false, func() {
				_, err := f.st.NoteExpiredCredentials(f.ctx, at(2*time.Hour), 10)
				ok(t, err)
			})
			f.changes("RevokeCredential", true, func() {
				_, err := f.st.RevokeCredential(f.ctx, c.ID, at(time.Hour))
				ok(t, err)
			})
			renamed := a
			renamed.Name = "Renamed"
			f.changes("UpdateApp of the name", true, func() { _, err := f.st.UpdateApp(f.ctx, renamed); ok(t, err) })
			fewer := renamed
			fewer.RedirectURIs = fewer.RedirectURIs[:1]
			f.changes("UpdateApp of a list", true, func() { _, err := f.st.UpdateApp(f.ctx, fewer); ok(t, err) })
			f.changes("UpdateApp of an unknown app", false, func() {
				_, err := f.st.UpdateApp(f.ctx, f.newApp("ghost"))
				isErr(t, err, gatehouse.ErrNotFound)
			})
			bad := fewer
			bad.Scopes = []string{"nosuch"}
			f.changes("UpdateApp that fails", false, func() {
				_, err := f.st.UpdateApp(f.ctx, bad)
				isErr(t, err, gatehouse.ErrNotFound)
			})
			other := f.app("other")
			f.changes("DeleteApp", true, func() { ok(t, f.st.DeleteApp(f.ctx, other.ClientID)) })
		}},
		{"CreateTokenAtCurrentGeneration", func(t *testing.T, f *fixture) {
			a := f.app("web")
			g := f.generation()
			tok := f.newToken("t1", gatehouse.AccessToken, gatehouse.Grant{AppID: a.ID})
			ok(t, f.st.CreateTokenAt(f.ctx, tok, g))
			checkTokens(t, f, tok)
			isErr(t, f.st.CreateTokenAt(f.ctx, tok, g), gatehouse.ErrAlreadyExists)
			// In a grant, too; a revoked grant is ErrNotFound, not stale.
			u := f.user("alice")
			gr := f.grant(u, a)
			inGrant := f.newToken("t2", gatehouse.RefreshToken, gr)
			ok(t, f.st.CreateTokenAt(f.ctx, inGrant, g))
			checkTokens(t, f, inGrant)
			ok(t, f.st.RevokeGrant(f.ctx, gr.ID, at(time.Minute)))
			isErr(t, f.st.CreateTokenAt(f.ctx, f.newToken("t3", gatehouse.AccessToken, gr), g), gatehouse.ErrNotFound)
		}},
		{"CreateTokenAtStaleGenerationStoresNothing", func(t *testing.T, f *fixture) {
			a := f.app("web")
			u := f.user("alice")
			gr := f.grant(u, a)
			g := f.generation()
			c := f.credential("c1", a) // a credential changes: g is stale
			for _, tok := range []gatehouse.Token{
				f.newToken("service", gatehouse.AccessToken, gatehouse.Grant{AppID: a.ID}),
				f.newToken("in-grant", gatehouse.AccessToken, gr),
			} {
				isErr(t, f.st.CreateTokenAt(f.ctx, tok, g), gatehouse.ErrStale)
				_, err := f.st.GetToken(f.ctx, tok.Digest)
				isErr(t, err, gatehouse.ErrNotFound)
			}
			ok(t, f.st.DeleteCredential(f.ctx, c.ID))
			isErr(t, f.st.CreateTokenAt(f.ctx, f.newToken("late", gatehouse.AccessToken, gatehouse.Grant{AppID: a.ID}), g+1), gatehouse.ErrStale)
			ok(t, f.st.CreateTokenAt(f.ctx, f.newToken("fresh", gatehouse.AccessToken, gatehouse.Grant{AppID: a.ID}), f.generation()))
		}},
		{"GetTokenAtReadsTheGeneration", func(t *testing.T, f *fixture) {
			a := f.app("web")
			tok := f.appToken("t1", a)
			got, g, err := f.st.GetTokenAt(f.ctx, tok.Digest)
			ok(t, err)
			same(t, "token", got, tok)
			if g != f.generation() {
				t.Fatalf("GetTokenAt generation %d, Generation %d", g, f.generation())
			}
			f.credential("c1", a)
			_, g2, err := f.st.GetTokenAt(f.ctx, digest("unknown"))
			isErr(t, err, gatehouse.ErrNotFound)
			if g2 != f.generation() || g2 == g {
				t.Fatalf("GetTokenAt of an unknown token: generation %d, want the current %d (was %d)", g2, f.generation(), g)
			}
			ok(t, f.st.RevokeToken(f.ctx, tok.Digest, at(time.Minute)))
			got, _, err = f.st.GetTokenAt(f.ctx, tok.Digest)
			ok(t, err)
			tok.RevokedAt = at(time.Minute)
			same(t, "revoked token", got, tok)
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
