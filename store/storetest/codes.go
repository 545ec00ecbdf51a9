package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func codeCases() []testCase {
	cases := []testCase{
		{"ConsumeRoundTrip", func(t *testing.T, f *fixture) {
			want := f.code("code", f.grant(f.user("alice"), f.app("web")))
			got, err := f.st.ConsumeCode(f.ctx, want.Digest, at(10*time.Second))
			ok(t, err)
			want.UsedAt = at(10 * time.Second)
			same(t, "consumed code", got, want)
		}},
		{"ConsumeTwice", func(t *testing.T, f *fixture) {
			want := f.code("code", f.grant(f.user("alice"), f.app("web")))
			_, err := f.st.ConsumeCode(f.ctx, want.Digest, at(10*time.Second))
			ok(t, err)
			got, err := f.st.ConsumeCode(f.ctx, want.Digest, at(20*time.Second))
			isErr(t, err, gatehouse.ErrAlreadyUsed)
			want.UsedAt = at(10 * time.Second) // the first use, as stored
			same(t, "code returned with ErrAlreadyUsed", got, want)
		}},
		{"ConsumeMissing", func(t *testing.T, f *fixture) {
			f.code("code", f.grant(f.user("alice"), f.app("web")))
			_, err := f.st.ConsumeCode(f.ctx, digest("other"), at(0))
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"ConsumeExpired", func(t *testing.T, f *fixture) {
			// Expiry is the caller's rule: the store consumes an expired code.
			want := f.code("code", f.grant(f.user("alice"), f.app("web")))
			got, err := f.st.ConsumeCode(f.ctx, want.Digest, want.ExpiresAt.Add(time.Hour))
			ok(t, err)
			want.UsedAt = want.ExpiresAt.Add(time.Hour)
			same(t, "consumed code", got, want)
		}},
		{"ConsumeOneOfTwo", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			one, two := f.code("one", g), f.code("two", g)
			_, err := f.st.ConsumeCode(f.ctx, one.Digest, at(time.Second))
			ok(t, err)
			got, err := f.st.ConsumeCode(f.ctx, two.Digest, at(2*time.Second))
			ok(t, err)
			two.UsedAt = at(2 * time.Second)
			same(t, "second code", got, two)
		}},
	}
	cases = append(cases, redeemCases()...)
	return append(cases, createCodeErrorCases()...)
}

// redeemCases: RedeemCode consumes the code and stores its tokens in one
// transaction, or changes nothing.
func redeemCases() []testCase {
	pair := func(f *fixture, name string, g gatehouse.Grant) []gatehouse.Token {
		return []gatehouse.Token{f.newToken(name+"-access", gatehouse.AccessToken, g), f.newToken(name+"-refresh", gatehouse.RefreshToken, g)}
	}
	return []testCase{
		{"RedeemStoresTokens", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			want, next := f.code("code", g), pair(f, "first", g)
			got, err := f.st.RedeemCode(f.ctx, want.Digest, at(10*time.Second), next)
			ok(t, err)
			want.UsedAt = at(10 * time.Second)
			same(t, "redeemed code", got, want)
			checkTokens(t, f, next...)
		}},
		{"RedeemTwiceStoresNothing", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			want := f.code("code", g)
			_, err := f.st.RedeemCode(f.ctx, want.Digest, at(10*time.Second), pair(f, "first", g))
			ok(t, err)
			second := pair(f, "second", g)
			got, err := f.st.RedeemCode(f.ctx, want.Digest, at(20*time.Second), second)
			isErr(t, err, gatehouse.ErrAlreadyUsed)
			want.UsedAt = at(10 * time.Second)
			same(t, "code returned with ErrAlreadyUsed", got, want)
			for _, tok := range second {
				_, err := f.st.GetToken(f.ctx, tok.Digest)
				isErr(t, err, gatehouse.ErrNotFound)
			}
		}},
		{"RedeemIntoRevokedGrantChangesNothing", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			c := f.code("code", g)
			ok(t, f.st.RevokeGrant(f.ctx, g.ID, at(time.Second)))
			next := pair(f, "late", g)
			_, err := f.st.RedeemCode(f.ctx, c.Digest, at(2*time.Second), next)
			isErr(t, err, gatehouse.ErrNotFound)
			for _, tok := range next {
				_, err := f.st.GetToken(f.ctx, tok.Digest)
				isErr(t, err, gatehouse.ErrNotFound)
			}
			got, err := f.st.GetCode(f.ctx, c.Digest)
			ok(t, err)
			same(t, "code after a refused redemption", got, c) // still unused
		}},
		{"RedeemWithTakenDigestChangesNothing", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			c := f.code("code", g)
			taken := f.token("taken", gatehouse.AccessToken, g)
			fresh := f.newToken("fresh", gatehouse.RefreshToken, g)
			dup := taken
			dup.Scopes = []string{"other"}
			_, err := f.st.RedeemCode(f.ctx, c.Digest, at(2*time.Second), []gatehouse.Token{fresh, dup})
			isErr(t, err, gatehouse.ErrAlreadyExists)
			_, err = f.st.GetToken(f.ctx, fresh.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
			checkTokens(t, f, taken)
			got, err := f.st.GetCode(f.ctx, c.Digest)
			ok(t, err)
			same(t, "code after a refused redemption", got, c)
		}},
		{"RedeemMissing", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			next := pair(f, "none", g)
			_, err := f.st.RedeemCode(f.ctx, digest("other"), at(0).Add(time.Second), next)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetToken(f.ctx, next[0].Digest)
			isErr(t, err, gatehouse.ErrNotFound)
		}},
	}
}

func createCodeErrorCases() []testCase {
	tests := []struct {
		name string
		edit func(c *gatehouse.Code)
		want error
	}{
		{"DuplicateDigest", func(c *gatehouse.Code) { c.RedirectURI, c.Challenge = "https://evil.example/", "x" }, gatehouse.ErrAlreadyExists},
		{"UnknownApp", func(c *gatehouse.Code) { c.Digest, c.AppID = digest("fresh"), c.AppID+1000 }, gatehouse.ErrNotFound},
		{"UnknownUser", func(c *gatehouse.Code) { c.Digest, c.UserID = digest("fresh"), c.UserID+1000 }, gatehouse.ErrNotFound},
		{"UnknownGrant", func(c *gatehouse.Code) { c.Digest, c.GrantID = digest("fresh"), c.GrantID+1000 }, gatehouse.ErrNotFound},
	}
	var cases []testCase
	for _, tt := range tests {
		cases = append(cases, testCase{"CreateError/" + tt.name, func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			first := f.code("code", g)
			c := first
			tt.edit(&c)
			isErr(t, f.st.CreateCode(f.ctx, c), tt.want)
			if tt.want == gatehouse.ErrNotFound {
				_, err := f.st.ConsumeCode(f.ctx, c.Digest, at(time.Second))
				isErr(t, err, gatehouse.ErrNotFound)
			}
			got, err := f.st.ConsumeCode(f.ctx, first.Digest, at(time.Second))
			ok(t, err)
			first.UsedAt = at(time.Second)
			same(t, "first code", got, first)
		}})
	}
	return cases
}
