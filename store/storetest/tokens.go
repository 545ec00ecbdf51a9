package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func tokenCases() []testCase {
	cases := []testCase{
		{"NotIntoARevokedGrant", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			ok(t, f.st.RevokeGrant(f.ctx, g.ID, at(time.Second)))
			late := f.newToken("late", gatehouse.AccessToken, g)
			isErr(t, f.st.CreateToken(f.ctx, late), gatehouse.ErrNotFound)
			checkMissing(t, f, late)
		}},
		{"RoundTrip", func(t *testing.T, f *fixture) {
			a := f.app("web")
			g := f.grant(f.user("alice"), a)
			revoked := f.newToken("revoked", gatehouse.RefreshToken, g)
			revoked.ExpiresAt, revoked.RevokedAt = at(-time.Hour), at(-2*time.Hour) // returned until deleted
			noScopes := f.newToken("no-scopes", gatehouse.AccessToken, g)
			noScopes.Scopes = nil
			successor := f.newToken("successor", gatehouse.RefreshToken, g)
			successor.Parent, successor.UsedAt = digest("refresh"), at(time.Minute)
			for _, want := range []gatehouse.Token{
				f.newToken("access", gatehouse.AccessToken, g),
				f.newToken("refresh", gatehouse.RefreshToken, g),
				f.newToken("client-credentials", gatehouse.AccessToken, gatehouse.Grant{AppID: a.ID}),
				revoked,
				noScopes,
				successor,
			} {
				ok(t, f.st.CreateToken(f.ctx, want))
				got, err := f.st.GetToken(f.ctx, want.Digest)
				ok(t, err)
				same(t, "token", got, want)
			}
		}},
		{"GetMissing", func(t *testing.T, f *fixture) {
			f.appToken("one", f.app("web"))
			_, err := f.st.GetToken(f.ctx, digest("two"))
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"Revoke", func(t *testing.T, f *fixture) {
			a := f.app("web")
			tok, other := f.appToken("tok", a), f.appToken("other", a)
			ok(t, f.st.RevokeToken(f.ctx, tok.Digest, at(time.Hour)))
			ok(t, f.st.RevokeToken(f.ctx, tok.Digest, at(2*time.Hour))) // idempotent
			ok(t, f.st.RevokeToken(f.ctx, tok.Digest, at(time.Minute))) // even with an earlier time
			tok.RevokedAt = at(time.Hour)
			checkTokens(t, f, tok, other)
		}},
		{"RevokeMissing", func(t *testing.T, f *fixture) {
			tok := f.appToken("tok", f.app("web"))
			isErr(t, f.st.RevokeToken(f.ctx, digest("other"), at(0)), gatehouse.ErrNotFound)
			checkTokens(t, f, tok)
		}},
		{"RevokeAppTokens", testRevokeAppTokens},
	}
	return append(cases, createTokenErrorCases()...)
}

// checkTokens checks that each token reads as want.
func checkTokens(t *testing.T, f *fixture, want ...gatehouse.Token) {
	t.Helper()
	for _, w := range want {
		got, err := f.st.GetToken(f.ctx, w.Digest)
		ok(t, err)
		same(t, "token", got, w)
	}
}

// testRevokeAppTokens checks that RevokeAppTokens revokes the unrevoked
// tokens of one app, counts them, and leaves other apps alone.
func testRevokeAppTokens(t *testing.T, f *fixture) {
	u := f.user("alice")
	a, b := f.app("a"), f.app("b")
	ga, gb := f.grant(u, a), f.grant(u, b)
	access, refresh, cc := f.token("a-access", gatehouse.AccessToken, ga), f.token("a-refresh", gatehouse.RefreshToken, ga), f.appToken("a-cc", a)
	early := f.newToken("a-early", gatehouse.AccessToken, ga)
	early.RevokedAt = at(time.Minute)
	ok(t, f.st.CreateToken(f.ctx, early))
	otherApp := []gatehouse.Token{f.token("b-access", gatehouse.AccessToken, gb), f.appToken("b-cc", b)}

	n, err := f.st.RevokeAppTokens(f.ctx, a.ID, at(time.Hour))
	ok(t, err)
	if n != 3 {
		t.Fatalf("RevokeAppTokens = %d, want 3", n)
	}
	n, err = f.st.RevokeAppTokens(f.ctx, a.ID, at(2*time.Hour))
	ok(t, err)
	if n != 0 {
		t.Fatalf("RevokeAppTokens again = %d, want 0", n)
	}
	access.RevokedAt, refresh.RevokedAt, cc.RevokedAt = at(time.Hour), at(time.Hour), at(time.Hour)
	checkTokens(t, f, append(otherApp, access, refresh, cc, early)...)
	n, err = f.st.RevokeAppTokens(f.ctx, b.ID+1000, at(time.Hour))
	ok(t, err)
	if n != 0 {
		t.Fatalf("RevokeAppTokens of an unknown app = %d, want 0", n)
	}
}

func createTokenErrorCases() []testCase {
	tests := []struct {
		name string
		edit func(tok *gatehouse.Token)
		want error
	}{
		{"DuplicateDigest", func(tok *gatehouse.Token) { tok.Kind, tok.Scopes = gatehouse.RefreshToken, []string{"admin"} }, gatehouse.ErrAlreadyExists},
		{"DuplicateDigestNoGrant", func(tok *gatehouse.Token) { tok.UserID, tok.GrantID = 0, 0 }, gatehouse.ErrAlreadyExists},
		{"UnknownApp", func(tok *gatehouse.Token) { tok.Digest, tok.AppID = digest("fresh"), tok.AppID+1000 }, gatehouse.ErrNotFound},
		{"UnknownUser", func(tok *gatehouse.Token) { tok.Digest, tok.UserID = digest("fresh"), tok.UserID+1000 }, gatehouse.ErrNotFound},
		{"UnknownGrant", func(tok *gatehouse.Token) { tok.Digest, tok.GrantID = digest("fresh"), tok.GrantID+1000 }, gatehouse.ErrNotFound},
	}
	var cases []testCase
	for _, tt := range tests {
		cases = append(cases, testCase{"CreateError/" + tt.name, func(t *testing.T, f *fixture) {
			first := f.token("tok", gatehouse.AccessToken, f.grant(f.user("alice"), f.app("web")))
			tok := first
			tt.edit(&tok)
			isErr(t, f.st.CreateToken(f.ctx, tok), tt.want)
			if tt.want == gatehouse.ErrNotFound {
				_, err := f.st.GetToken(f.ctx, tok.Digest)
				isErr(t, err, gatehouse.ErrNotFound)
			}
			checkTokens(t, f, first)
		}})
	}
	return cases
}
