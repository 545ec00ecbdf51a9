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
	return append(cases, createCodeErrorCases()...)
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
