package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The methods that write several records in one transaction (DESIGN
// invariant 10), devices, code reads, the deletion of old events, and the
// grants that go with their last token.

func atomicCases() []testCase {
	return []testCase{
		{"AppWithCredential", func(t *testing.T, f *fixture) {
			want := f.newApp("web")
			c := gatehouse.Credential{Digest: digest("secret"), Hint: "x1Yz", CreatedAt: at(time.Minute)}
			got, err := f.st.CreateAppWithCredential(f.ctx, want, c)
			ok(t, err)
			if got.ID == 0 {
				t.Fatal("CreateAppWithCredential returned no ID")
			}
			want.ID = got.ID
			stored, err := f.st.GetApp(f.ctx, want.ClientID)
			ok(t, err)
			same(t, "app", stored, want)
			cred, err := f.st.GetCredentialByDigest(f.ctx, c.Digest)
			ok(t, err)
			c.ID, c.AppID = cred.ID, got.ID
			same(t, "credential", cred, c)
		}},
		{"AppWithCredentialTakenDigestStoresNothing", func(t *testing.T, f *fixture) {
			other := f.app("other")
			taken := f.credential("taken", other)
			_, err := f.st.CreateAppWithCredential(f.ctx, f.newApp("web"), gatehouse.Credential{Digest: taken.Digest, Hint: "x"})
			isErr(t, err, gatehouse.ErrAlreadyExists)
			_, err = f.st.GetApp(f.ctx, "web")
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"AppWithCredentialUnknownScopeStoresNothing", func(t *testing.T, f *fixture) {
			a := f.newApp("web")
			a.Scopes = append(a.Scopes, "unregistered")
			c := gatehouse.Credential{Digest: digest("secret"), Hint: "x"}
			_, err := f.st.CreateAppWithCredential(f.ctx, a, c)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetApp(f.ctx, "web")
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetCredentialByDigest(f.ctx, c.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"OpenGrant", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			g := gatehouse.Grant{UserID: u.ID, AppID: a.ID, Scopes: []string{"read"}, CreatedAt: at(time.Minute)}
			c := f.newCode("code", gatehouse.Grant{UserID: u.ID, AppID: a.ID})
			consent := gatehouse.Consent{UserID: u.ID, AppID: a.ID, Scopes: []string{"read"}, UpdatedAt: at(time.Minute)}
			got, err := f.st.OpenGrant(f.ctx, g, c, &consent)
			ok(t, err)
			g.ID, c.GrantID = got.ID, got.ID
			stored, err := f.st.GetGrant(f.ctx, g.ID)
			ok(t, err)
			same(t, "grant", stored, g)
			code, err := f.st.GetCode(f.ctx, c.Digest)
			ok(t, err)
			same(t, "code", code, c)
			cons, err := f.st.GetConsent(f.ctx, u.ID, a.ID)
			ok(t, err)
			same(t, "consent", cons, consent)

			// Without a consent, the remembered one is left as it is.
			c2 := f.newCode("code2", gatehouse.Grant{UserID: u.ID, AppID: a.ID})
			_, err = f.st.OpenGrant(f.ctx, g, c2, nil)
			ok(t, err)
			cons, err = f.st.GetConsent(f.ctx, u.ID, a.ID)
			ok(t, err)
			same(t, "consent after a silent approval", cons, consent)
		}},
		{"OpenGrantFailureStoresNothing", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			before := f.grant(u, a)
			taken := f.code("taken", before)
			g := gatehouse.Grant{UserID: u.ID, AppID: a.ID, Scopes: []string{"read"}, CreatedAt: at(time.Minute)}
			c := f.newCode("taken", gatehouse.Grant{UserID: u.ID, AppID: a.ID})
			consent := gatehouse.Consent{UserID: u.ID, AppID: a.ID, Scopes: []string{"read"}, UpdatedAt: at(time.Minute)}
			_, err := f.st.OpenGrant(f.ctx, g, c, &consent)
			isErr(t, err, gatehouse.ErrAlreadyExists)
			_, err = f.st.GetConsent(f.ctx, u.ID, a.ID)
			isErr(t, err, gatehouse.ErrNotFound)
			// IDs grow: the grant of the failed call would have had the next one.
			_, err = f.st.GetGrant(f.ctx, before.ID+1)
			isErr(t, err, gatehouse.ErrNotFound)
			code, err := f.st.GetCode(f.ctx, taken.Digest)
			ok(t, err)
			same(t, "the code that was there", code, taken)
		}},
		{"GetCode", func(t *testing.T, f *fixture) {
			g := f.grant(f.user("alice"), f.app("web"))
			c := f.code("code", g)
			got, err := f.st.GetCode(f.ctx, c.Digest)
			ok(t, err)
			same(t, "unused code", got, c)
			_, err = f.st.ConsumeCode(f.ctx, c.Digest, at(time.Second))
			ok(t, err)
			got, err = f.st.GetCode(f.ctx, c.Digest)
			ok(t, err)
			c.UsedAt = at(time.Second)
			same(t, "used code", got, c)
			_, err = f.st.GetCode(f.ctx, digest("missing"))
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"Devices", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := gatehouse.Device{Digest: digest("device"), UserID: u.ID, CreatedAt: at(0), ExpiresAt: at(24 * time.Hour)}
			ok(t, f.st.CreateDevice(f.ctx, d))
			got, err := f.st.GetDevice(f.ctx, d.Digest)
			ok(t, err)
			same(t, "device", got, d)
			isErr(t, f.st.CreateDevice(f.ctx, d), gatehouse.ErrAlreadyExists)
			isErr(t, f.st.CreateDevice(f.ctx, gatehouse.Device{Digest: digest("other"), UserID: u.ID + 100, ExpiresAt: at(time.Hour)}), gatehouse.ErrNotFound)
			_, err = f.st.GetDevice(f.ctx, digest("missing"))
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"DeleteEvents", func(t *testing.T, f *fixture) {
			var es []gatehouse.Event
			for i := range 5 {
				e, err := f.st.RecordEvent(f.ctx, gatehouse.Event{Kind: "k", At: at(time.Duration(i) * time.Hour), Detail: "d"})
				ok(t, err)
				es = append(es, e)
			}
			_, err := f.st.DeleteEvents(f.ctx, at(time.Hour), 0)
			if err == nil {
				t.Fatal("DeleteEvents accepted a limit of 0")
			}
			// Before 3h: events 0, 1, 2, oldest first, two at a time.
			n, err := f.st.DeleteEvents(f.ctx, at(3*time.Hour), 2)
			ok(t, err)
			if n != 2 {
				t.Fatalf("DeleteEvents = %d, want 2", n)
			}
			checkEvents(t, f, 10, es[4], es[3], es[2])
			n, err = f.st.DeleteEvents(f.ctx, at(3*time.Hour), 2)
			ok(t, err)
			if n != 1 {
				t.Fatalf("DeleteEvents = %d, want 1", n)
			}
			checkEvents(t, f, 10, es[4], es[3])
		}},
		{"DeleteExpiredDevices", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			old := gatehouse.Device{Digest: digest("old"), UserID: u.ID, ExpiresAt: at(time.Hour)}
			live := gatehouse.Device{Digest: digest("live"), UserID: u.ID, ExpiresAt: at(time.Hour + time.Millisecond)}
			ok(t, f.st.CreateDevice(f.ctx, old))
			ok(t, f.st.CreateDevice(f.ctx, live))
			n, err := f.st.DeleteExpired(f.ctx, at(time.Hour), 10)
			ok(t, err)
			if n != 1 {
				t.Fatalf("DeleteExpired = %d, want 1", n)
			}
			_, err = f.st.GetDevice(f.ctx, old.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetDevice(f.ctx, live.Digest)
			ok(t, err)
		}},
		{"DeleteExpiredGrantsGoWithTheirLastTokenOrCode", testGrantsGoWithTheirLastRecord},
	}
}

// testGrantsGoWithTheirLastRecord: a grant is deleted with the last of its
// tokens and codes, and not while one of them lives on; a grant that still
// has a token, a code, or a revoked token is kept.
func testGrantsGoWithTheirLastRecord(t *testing.T, f *fixture) {
	u, a := f.user("alice"), f.app("web")
	before := at(30 * time.Minute) // the fixture's tokens expire at t0+1h
	expiredToken := func(name string, g gatehouse.Grant) {
		tok := f.newToken(name, gatehouse.RefreshToken, g)
		tok.ExpiresAt = before
		ok(t, f.st.CreateToken(f.ctx, tok))
	}
	expiredCode := func(name string, g gatehouse.Grant) {
		c := f.newCode(name, g)
		c.ExpiresAt = before
		ok(t, f.st.CreateCode(f.ctx, c))
	}
	dead := f.grant(u, a) // an expired code and token: goes
	expiredCode("dead-code", dead)
	expiredToken("dead-token", dead)
	liveToken := f.grant(u, a) // an expired code and a live token: stays
	expiredCode("lt-code", liveToken)
	f.token("lt-token", gatehouse.AccessToken, liveToken)
	liveCode := f.grant(u, a) // an expired token and a live code: stays
	expiredToken("lc-token", liveCode)
	c := f.newCode("lc-code", liveCode)
	c.ExpiresAt = before.Add(time.Second)
	ok(t, f.st.CreateCode(f.ctx, c))
	revoked := f.grant(u, a) // a revoked, unexpired token: stays
	f.token("rv-token", gatehouse.AccessToken, revoked)
	ok(t, f.st.RevokeGrant(f.ctx, revoked.ID, at(time.Minute)))
	f.appToken("service", a) // no grant at all

	n, err := f.st.DeleteExpired(f.ctx, before, 100)
	ok(t, err)
	if n != 5 {
		t.Fatalf("DeleteExpired = %d, want 5 (2 tokens, 2 codes, 1 grant)", n)
	}
	_, err = f.st.GetGrant(f.ctx, dead.ID)
	isErr(t, err, gatehouse.ErrNotFound)
	for _, g := range []gatehouse.Grant{liveToken, liveCode, revoked} {
		_, err := f.st.GetGrant(f.ctx, g.ID)
		ok(t, err)
	}
}
