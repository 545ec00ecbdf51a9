package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// credential stores a credential of the app that expires at t0+24h.
func (f *fixture) credential(name string, a gatehouse.App) gatehouse.Credential {
	f.t.Helper()
	c, err := f.st.CreateCredential(f.ctx, gatehouse.Credential{
		AppID: a.ID, Digest: digest(name), Hint: "…" + name[len(name)-2:],
		CreatedAt: at(0), ExpiresAt: at(24 * time.Hour),
	})
	ok(f.t, err)
	return c
}

func credentialCases() []testCase {
	cases := []testCase{
		{"RoundTrip", func(t *testing.T, f *fixture) {
			a := f.app("web")
			for _, want := range []gatehouse.Credential{
				{AppID: a.ID, Digest: digest("never"), Hint: "er", CreatedAt: at(0)},
				{AppID: a.ID, Name: "ci-2026", Digest: digest("full"), Hint: "ll", CreatedAt: at(0), ExpiresAt: at(time.Hour), LastUsedAt: at(time.Minute)},
			} {
				got, err := f.st.CreateCredential(f.ctx, want)
				ok(t, err)
				if got.ID == 0 {
					t.Fatal("CreateCredential returned no ID")
				}
				want.ID = got.ID
				same(t, "CreateCredential", got, want)
				got, err = f.st.GetCredentialByDigest(f.ctx, want.Digest)
				ok(t, err)
				same(t, "GetCredentialByDigest", got, want)
			}
		}},
		{"GetMissing", func(t *testing.T, f *fixture) {
			f.credential("one", f.app("web"))
			_, err := f.st.GetCredentialByDigest(f.ctx, digest("two"))
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"ListByApp", func(t *testing.T, f *fixture) {
			a, b, c := f.app("a"), f.app("b"), f.app("c")
			wantA := []gatehouse.Credential{f.credential("a1", a), f.credential("a2", a)}
			wantB := []gatehouse.Credential{f.credential("b1", b)}
			wantA = append(wantA, f.credential("a3", a))
			for _, tt := range []struct {
				app  gatehouse.App
				want []gatehouse.Credential
			}{{a, wantA}, {b, wantB}, {c, nil}} {
				got, err := f.st.ListCredentials(f.ctx, tt.app.ID)
				ok(t, err)
				sameList(t, "ListCredentials("+tt.app.ClientID+")", got, tt.want)
			}
		}},
		{"Delete", func(t *testing.T, f *fixture) {
			a := f.app("web")
			gone, kept := f.credential("gone", a), f.credential("kept", a)
			ok(t, f.st.DeleteCredential(f.ctx, gone.ID))
			_, err := f.st.GetCredentialByDigest(f.ctx, gone.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
			list, err := f.st.ListCredentials(f.ctx, a.ID)
			ok(t, err)
			sameList(t, "ListCredentials", list, []gatehouse.Credential{kept})
			isErr(t, f.st.DeleteCredential(f.ctx, gone.ID), gatehouse.ErrNotFound)
		}},
		{"TouchMissing", func(t *testing.T, f *fixture) {
			c := f.credential("one", f.app("web"))
			isErr(t, f.st.TouchCredential(f.ctx, c.ID+1000, at(0)), gatehouse.ErrNotFound)
		}},
	}
	return append(append(append(cases, createCredentialErrorCases()...), touchCases()...), credentialLifecycleCases()...)
}

func createCredentialErrorCases() []testCase {
	tests := []struct {
		name string
		edit func(c *gatehouse.Credential, other gatehouse.App)
		want error
	}{
		{"DuplicateDigest", func(c *gatehouse.Credential, _ gatehouse.App) { c.Hint = "xx" }, gatehouse.ErrAlreadyExists},
		{"DuplicateDigestOtherApp", func(c *gatehouse.Credential, o gatehouse.App) { c.AppID = o.ID }, gatehouse.ErrAlreadyExists},
		{"UnknownApp", func(c *gatehouse.Credential, o gatehouse.App) {
			c.AppID, c.Digest = o.ID+1000, digest("fresh")
		}, gatehouse.ErrNotFound},
	}
	var cases []testCase
	for _, tt := range tests {
		cases = append(cases, testCase{"CreateError/" + tt.name, func(t *testing.T, f *fixture) {
			a, other := f.app("web"), f.app("other")
			first := f.credential("secret", a)
			c := first
			c.ID = 0
			tt.edit(&c, other)
			_, err := f.st.CreateCredential(f.ctx, c)
			isErr(t, err, tt.want)
			for _, app := range []gatehouse.App{a, other} {
				list, err := f.st.ListCredentials(f.ctx, app.ID)
				ok(t, err)
				if app.ID == a.ID {
					sameList(t, "ListCredentials", list, []gatehouse.Credential{first})
				} else {
					sameList(t, "ListCredentials", list, nil)
				}
			}
		}})
	}
	return cases
}

// touchCases check that TouchCredential never moves the last use back.
func touchCases() []testCase {
	t1, t2, t3 := at(time.Minute), at(time.Hour), at(2*time.Hour)
	tests := []struct {
		name    string
		initial time.Time
		touches []time.Time
		want    time.Time
	}{
		{"FirstUse", time.Time{}, []time.Time{t1}, t1},
		{"Later", t1, []time.Time{t2}, t2},
		{"Earlier", t2, []time.Time{t1}, t2},
		{"Same", t2, []time.Time{t2}, t2},
		{"Sequence", time.Time{}, []time.Time{t2, t1, t3, t0, t2}, t3},
	}
	var cases []testCase
	for _, tt := range tests {
		cases = append(cases, testCase{"Touch/" + tt.name, func(t *testing.T, f *fixture) {
			a := f.app("web")
			c, err := f.st.CreateCredential(f.ctx, gatehouse.Credential{
				AppID: a.ID, Digest: digest("touched"), Hint: "ed", CreatedAt: at(0), LastUsedAt: tt.initial,
			})
			ok(t, err)
			other := f.credential("other", a)
			for _, when := range tt.touches {
				ok(t, f.st.TouchCredential(f.ctx, c.ID, when))
			}
			got, err := f.st.GetCredentialByDigest(f.ctx, c.Digest)
			ok(t, err)
			c.LastUsedAt = tt.want
			same(t, "credential", got, c)
			got, err = f.st.GetCredentialByDigest(f.ctx, other.Digest)
			ok(t, err)
			same(t, "untouched credential", got, other)
		}})
	}
	return cases
}
