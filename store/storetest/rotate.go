package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// successors returns the unsaved refresh and access tokens, named after gen,
// that an exchange of old issues: same app, user and grant, Parent old.
func (f *fixture) successors(gen string, old gatehouse.Token) []gatehouse.Token {
	g := grantOf(old)
	next := []gatehouse.Token{
		f.newToken(gen+"-refresh", gatehouse.RefreshToken, g),
		f.newToken(gen+"-access", gatehouse.AccessToken, g),
	}
	for i := range next {
		next[i].Parent = old.Digest
	}
	return next
}

// grantOf returns the grant of tok, as far as newToken needs it.
func grantOf(tok gatehouse.Token) gatehouse.Grant {
	return gatehouse.Grant{ID: tok.GrantID, UserID: tok.UserID, AppID: tok.AppID}
}

// rotate exchanges old for next at t, failing the test on an error.
func (f *fixture) rotate(old gatehouse.Token, t time.Time, retry bool, next []gatehouse.Token) {
	f.t.Helper()
	_, err := f.st.RotateRefreshToken(f.ctx, old.Digest, t, retry, next)
	ok(f.t, err)
}

// checkMissing checks that no token has the digest of one of tokens.
func checkMissing(t *testing.T, f *fixture, tokens ...gatehouse.Token) {
	t.Helper()
	for _, tok := range tokens {
		_, err := f.st.GetToken(f.ctx, tok.Digest)
		isErr(t, err, gatehouse.ErrNotFound)
	}
}

// join concatenates token lists.
func join(lists ...[]gatehouse.Token) []gatehouse.Token {
	var out []gatehouse.Token
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// refreshToken stores a refresh token of a fresh grant.
func (f *fixture) refreshToken(name string) gatehouse.Token {
	f.t.Helper()
	return f.token(name, gatehouse.RefreshToken, f.grant(f.user("alice"), f.app("web")))
}

func rotationCases() []testCase {
	cases := []testCase{
		{"Exchange", testRotate},
		{"ExchangeTwice", testRotateTwice},
		{"Retry", testRotateRetry},
		{"RetryAfterSuccessorUsed", testRetryAfterSuccessorUsed},
		{"RetryUnused", func(t *testing.T, f *fixture) {
			old := f.refreshToken("old")
			next := f.successors("gen1", old)
			got, err := f.st.RotateRefreshToken(f.ctx, old.Digest, at(time.Minute), true, next)
			isErr(t, err, gatehouse.ErrAlreadyUsed)
			same(t, "token returned with ErrAlreadyUsed", got, old)
			checkTokens(t, f, old)
			checkMissing(t, f, next...)
		}},
		{"RevokedToken", func(t *testing.T, f *fixture) {
			old := f.refreshToken("old")
			ok(t, f.st.RevokeToken(f.ctx, old.Digest, at(time.Second)))
			next := f.successors("gen1", old)
			_, err := f.st.RotateRefreshToken(f.ctx, old.Digest, at(time.Minute), false, next)
			isErr(t, err, gatehouse.ErrAlreadyUsed)
			checkMissing(t, f, next...)
		}},
		{"RevokedGrant", func(t *testing.T, f *fixture) {
			old := f.refreshToken("old")
			f.rotate(old, at(time.Second), false, f.successors("gen1", old))
			ok(t, f.st.RevokeGrant(f.ctx, old.GrantID, at(2*time.Second)))
			for _, retry := range []bool{false, true} {
				next := f.successors("gen2", old)
				_, err := f.st.RotateRefreshToken(f.ctx, old.Digest, at(3*time.Second), retry, next)
				isErr(t, err, gatehouse.ErrAlreadyUsed)
				checkMissing(t, f, next...)
			}
		}},
		{"Missing", func(t *testing.T, f *fixture) {
			old := f.refreshToken("old")
			missing := old
			missing.Digest = digest("missing")
			next := f.successors("gen1", missing)
			for _, retry := range []bool{false, true} {
				_, err := f.st.RotateRefreshToken(f.ctx, digest("missing"), at(time.Minute), retry, next)
				isErr(t, err, gatehouse.ErrNotFound)
				checkMissing(t, f, next...)
			}
			checkTokens(t, f, old)
		}},
	}
	return append(cases, rotateRollbackCases()...)
}

// testRotate: an exchange marks old used, returns it, and stores its
// successors, which can be exchanged in turn; other tokens stay as they are.
func testRotate(t *testing.T, f *fixture) {
	old := f.refreshToken("old")
	other := f.token("other", gatehouse.RefreshToken, grantOf(old))
	gen1 := f.successors("gen1", old)
	got, err := f.st.RotateRefreshToken(f.ctx, old.Digest, at(time.Minute), false, gen1)
	ok(t, err)
	old.UsedAt = at(time.Minute)
	same(t, "exchanged token", got, old)
	checkTokens(t, f, join(gen1, []gatehouse.Token{old, other})...)

	gen2 := f.successors("gen2", gen1[0])
	got, err = f.st.RotateRefreshToken(f.ctx, gen1[0].Digest, at(2*time.Minute), false, gen2)
	ok(t, err)
	gen1[0].UsedAt = at(2 * time.Minute)
	same(t, "exchanged successor", got, gen1[0])
	checkTokens(t, f, join(gen1, gen2, []gatehouse.Token{old, other})...)
}

// testRotateTwice: a second exchange of a used token fails with
// ErrAlreadyUsed and the token as the first exchange left it; it stores
// nothing and revokes nothing (the cascade is the caller's rule).
func testRotateTwice(t *testing.T, f *fixture) {
	old := f.refreshToken("old")
	gen1, gen2 := f.successors("gen1", old), f.successors("gen2", old)
	f.rotate(old, at(time.Minute), false, gen1)
	got, err := f.st.RotateRefreshToken(f.ctx, old.Digest, at(2*time.Minute), false, gen2)
	isErr(t, err, gatehouse.ErrAlreadyUsed)
	old.UsedAt = at(time.Minute) // the first use, as stored
	same(t, "token returned with ErrAlreadyUsed", got, old)
	checkTokens(t, f, join(gen1, []gatehouse.Token{old})...)
	checkMissing(t, f, gen2...)
}

// testRotateRetry: a retry of a used token whose successors are unused
// revokes every successor (refresh and access, keeping earlier revocation
// times) and stores the new ones; a second retry does it again.
func testRotateRetry(t *testing.T, f *fixture) {
	old := f.refreshToken("old")
	unrelated := f.token("unrelated", gatehouse.RefreshToken, grantOf(old))
	gen1, gen2, gen3 := f.successors("gen1", old), f.successors("gen2", old), f.successors("gen3", old)
	f.rotate(old, at(time.Minute), false, gen1)
	ok(t, f.st.RevokeToken(f.ctx, gen1[1].Digest, at(90*time.Second)))

	got, err := f.st.RotateRefreshToken(f.ctx, old.Digest, at(2*time.Minute), true, gen2)
	ok(t, err)
	old.UsedAt = at(time.Minute) // a retry keeps the first use
	same(t, "retried token", got, old)
	gen1[0].RevokedAt, gen1[1].RevokedAt = at(2*time.Minute), at(90*time.Second)
	checkTokens(t, f, join(gen1, gen2, []gatehouse.Token{old, unrelated})...)

	f.rotate(old, at(3*time.Minute), true, gen3)
	gen2[0].RevokedAt, gen2[1].RevokedAt = at(3*time.Minute), at(3*time.Minute)
	checkTokens(t, f, join(gen1, gen2, gen3, []gatehouse.Token{old, unrelated})...)
}

// testRetryAfterSuccessorUsed: once a successor was exchanged, a retry of
// old fails with ErrAlreadyUsed and old, and changes nothing.
func testRetryAfterSuccessorUsed(t *testing.T, f *fixture) {
	old := f.refreshToken("old")
	gen1, late := f.successors("gen1", old), f.successors("late", old)
	gen2 := f.successors("gen2", gen1[0])
	f.rotate(old, at(time.Minute), false, gen1)
	f.rotate(gen1[0], at(2*time.Minute), false, gen2)
	got, err := f.st.RotateRefreshToken(f.ctx, old.Digest, at(3*time.Minute), true, late)
	isErr(t, err, gatehouse.ErrAlreadyUsed)
	old.UsedAt, gen1[0].UsedAt = at(time.Minute), at(2*time.Minute)
	same(t, "token returned with ErrAlreadyUsed", got, old)
	checkTokens(t, f, join(gen1, gen2, []gatehouse.Token{old})...)
	checkMissing(t, f, late...)
}

// rotateRollbackCases: when a token of next cannot be stored, the exchange
// changes nothing (old stays unused, or its successors unrevoked), the error
// is CreateToken's, and a correct exchange succeeds afterwards.
func rotateRollbackCases() []testCase {
	tests := []struct {
		name string
		edit func(bad *gatehouse.Token, taken gatehouse.Token)
		want error
	}{
		{"DuplicateDigest", func(bad *gatehouse.Token, taken gatehouse.Token) {
			bad.Digest = taken.Digest
		}, gatehouse.ErrAlreadyExists},
		{"UnknownGrant", func(bad *gatehouse.Token, _ gatehouse.Token) { bad.GrantID += 1000 }, gatehouse.ErrNotFound},
	}
	var cases []testCase
	for _, tt := range tests {
		for _, retry := range []bool{false, true} {
			name := "Rollback/" + tt.name
			if retry {
				name += "/Retry"
			}
			cases = append(cases, testCase{name, func(t *testing.T, f *fixture) {
				old := f.refreshToken("old")
				taken := f.token("taken", gatehouse.AccessToken, grantOf(old))
				var gen1 []gatehouse.Token
				if retry {
					gen1 = f.successors("gen1", old)
					f.rotate(old, at(time.Minute), false, gen1)
					old.UsedAt = at(time.Minute)
				}
				next := f.successors("gen2", old)
				tt.edit(&next[1], taken) // the first insert succeeds, the second fails
				_, err := f.st.RotateRefreshToken(f.ctx, old.Digest, at(2*time.Minute), retry, next)
				isErr(t, err, tt.want)
				checkTokens(t, f, join(gen1, []gatehouse.Token{old, taken})...)
				checkMissing(t, f, next[0])
				f.rotate(old, at(3*time.Minute), retry, f.successors("gen3", old))
			}})
		}
	}
	return cases
}
