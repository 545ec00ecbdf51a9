package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func grantCases() []testCase {
	cases := []testCase{
		{"List", func(t *testing.T, f *fixture) {
			alice, bob := f.user("alice"), f.user("bob")
			web, cli := f.app("web"), f.app("cli")
			aw, bw, ac := f.grant(alice, web), f.grant(bob, web), f.grant(alice, cli)
			ok(t, f.st.RevokeGrant(f.ctx, aw.ID, at(time.Minute)))
			aw.RevokedAt = at(time.Minute)
			for _, tt := range []struct {
				name          string
				userID, appID int64
				want          []gatehouse.Grant
			}{
				{"of a user", alice.ID, 0, []gatehouse.Grant{aw, ac}},
				{"of an app", 0, web.ID, []gatehouse.Grant{aw, bw}},
				{"of a user for an app", bob.ID, web.ID, []gatehouse.Grant{bw}},
				{"of anyone", 0, 0, []gatehouse.Grant{aw, bw, ac}},
				{"of nobody", bob.ID, cli.ID, nil},
			} {
				got, err := f.st.ListGrants(f.ctx, tt.userID, tt.appID)
				ok(t, err)
				if len(got) != len(tt.want) {
					t.Fatalf("ListGrants %s: %d grants, want %d: %v", tt.name, len(got), len(tt.want), got)
				}
				for i := range got {
					same(t, "ListGrants "+tt.name, got[i], tt.want[i])
				}
			}
		}},
		{"RoundTrip", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			for _, want := range []gatehouse.Grant{
				{UserID: u.ID, AppID: a.ID, Scopes: []string{"write", "read"}, CreatedAt: at(0)},
				{UserID: u.ID, AppID: a.ID, Scopes: nil, CreatedAt: at(0), RevokedAt: at(time.Hour)},
			} {
				got, err := f.st.CreateGrant(f.ctx, want)
				ok(t, err)
				if got.ID == 0 {
					t.Fatal("CreateGrant returned no ID")
				}
				want.ID = got.ID
				same(t, "CreateGrant", got, want)
				got, err = f.st.GetGrant(f.ctx, want.ID)
				ok(t, err)
				same(t, "GetGrant", got, want)
			}
		}},
		{"GetMissing", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			_, err := f.st.GetGrant(f.ctx, g.ID+1000)
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"CreateError/UnknownUser", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			_, err := f.st.CreateGrant(f.ctx, gatehouse.Grant{UserID: u.ID + 1000, AppID: a.ID, CreatedAt: at(0)})
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"CreateError/UnknownApp", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			_, err := f.st.CreateGrant(f.ctx, gatehouse.Grant{UserID: u.ID, AppID: a.ID + 1000, CreatedAt: at(0)})
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"RevokeMissing", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			isErr(t, f.st.RevokeGrant(f.ctx, g.ID+1000, at(0)), gatehouse.ErrNotFound)
			got, err := f.st.GetGrant(f.ctx, g.ID)
			ok(t, err)
			same(t, "grant", got, g)
		}},
		{"Revoke", testRevokeGrant},
	}
	return cases
}

// testRevokeGrant checks that RevokeGrant revokes the grant and its tokens
// only, keeps earlier revocation times, and keeps the first time when
// repeated.
func testRevokeGrant(t *testing.T, f *fixture) {
	u, a := f.user("alice"), f.app("web")
	g, sibling := f.grant(u, a), f.grant(u, a)
	access, refresh := f.token("access", gatehouse.AccessToken, g), f.token("refresh", gatehouse.RefreshToken, g)
	early := f.newToken("early", gatehouse.AccessToken, g)
	early.RevokedAt = at(time.Minute)
	ok(t, f.st.CreateToken(f.ctx, early))
	other := f.token("sibling", gatehouse.RefreshToken, sibling)
	cc := f.appToken("cc", a)

	first, second := at(time.Hour), at(2*time.Hour)
	ok(t, f.st.RevokeGrant(f.ctx, g.ID, first))
	ok(t, f.st.RevokeGrant(f.ctx, g.ID, second))

	gotGrant, err := f.st.GetGrant(f.ctx, g.ID)
	ok(t, err)
	g.RevokedAt = first
	same(t, "revoked grant", gotGrant, g)
	gotSibling, err := f.st.GetGrant(f.ctx, sibling.ID)
	ok(t, err)
	same(t, "sibling grant", gotSibling, sibling)

	access.RevokedAt, refresh.RevokedAt = first, first
	for _, want := range []gatehouse.Token{access, refresh, early, other, cc} {
		got, err := f.st.GetToken(f.ctx, want.Digest)
		ok(t, err)
		same(t, "token", got, want)
	}
}

func consentCases() []testCase {
	return []testCase{
		{"PutGetReplace", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			want := gatehouse.Consent{UserID: u.ID, AppID: a.ID, Scopes: []string{"write", "read"}, UpdatedAt: at(0)}
			ok(t, f.st.PutConsent(f.ctx, want))
			got, err := f.st.GetConsent(f.ctx, u.ID, a.ID)
			ok(t, err)
			same(t, "consent", got, want)
			want.Scopes, want.UpdatedAt = []string{"admin"}, at(time.Hour)
			ok(t, f.st.PutConsent(f.ctx, want))
			got, err = f.st.GetConsent(f.ctx, u.ID, a.ID)
			ok(t, err)
			same(t, "replaced consent", got, want)
		}},
		{"PutError/UnknownUser", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			err := f.st.PutConsent(f.ctx, gatehouse.Consent{UserID: u.ID + 1000, AppID: a.ID, UpdatedAt: at(0)})
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"PutError/UnknownApp", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			err := f.st.PutConsent(f.ctx, gatehouse.Consent{UserID: u.ID, AppID: a.ID + 1000, UpdatedAt: at(0)})
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"GetMissing", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			_, err := f.st.GetConsent(f.ctx, u.ID, a.ID)
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"Delete", testDeleteConsent},
	}
}

// testDeleteConsent checks that DeleteConsent deletes one user's consent for
// one app, and reports a missing one.
func testDeleteConsent(t *testing.T, f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	web, cli := f.app("web"), f.app("cli")
	var kept []gatehouse.Consent
	for _, c := range []gatehouse.Consent{
		{UserID: alice.ID, AppID: web.ID, Scopes: []string{"read"}, UpdatedAt: at(0)},
		{UserID: alice.ID, AppID: cli.ID, Scopes: []string{"write"}, UpdatedAt: at(time.Second)},
		{UserID: bob.ID, AppID: web.ID, Scopes: []string{"admin"}, UpdatedAt: at(time.Minute)},
	} {
		ok(t, f.st.PutConsent(f.ctx, c))
		kept = append(kept, c)
	}
	ok(t, f.st.DeleteConsent(f.ctx, alice.ID, web.ID))
	_, err := f.st.GetConsent(f.ctx, alice.ID, web.ID)
	isErr(t, err, gatehouse.ErrNotFound)
	isErr(t, f.st.DeleteConsent(f.ctx, alice.ID, web.ID), gatehouse.ErrNotFound)
	for _, want := range kept[1:] {
		got, err := f.st.GetConsent(f.ctx, want.UserID, want.AppID)
		ok(t, err)
		same(t, "other consent", got, want)
	}
}
