package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// world is an app with one record of every kind that belongs to it.
type world struct {
	app                    gatehouse.App
	cred                   gatehouse.Credential
	grant                  gatehouse.Grant
	consent                gatehouse.Consent
	code                   gatehouse.Code
	access, refresh, creds gatehouse.Token
}

// world stores an app and its records; u is the user of its grant.
func (f *fixture) world(clientID string, u gatehouse.User) world {
	f.t.Helper()
	w := world{app: f.app(clientID)}
	w.cred = f.credential(clientID+"-secret", w.app)
	w.grant = f.grant(u, w.app)
	w.consent = gatehouse.Consent{UserID: u.ID, AppID: w.app.ID, Scopes: []string{"read"}, UpdatedAt: at(0)}
	ok(f.t, f.st.PutConsent(f.ctx, w.consent))
	w.code = f.code(clientID+"-code", w.grant)
	w.access = f.token(clientID+"-access", gatehouse.AccessToken, w.grant)
	w.refresh = f.token(clientID+"-refresh", gatehouse.RefreshToken, w.grant)
	w.creds = f.appToken(clientID+"-cc", w.app)
	return w
}

// checkGone checks that none of the world's records can be read.
func (w world) checkGone(t *testing.T, f *fixture) {
	t.Helper()
	_, err := f.st.GetApp(f.ctx, w.app.ClientID)
	isErr(t, err, gatehouse.ErrNotFound)
	_, err = f.st.GetAppByID(f.ctx, w.app.ID)
	isErr(t, err, gatehouse.ErrNotFound)
	_, err = f.st.GetCredentialByDigest(f.ctx, w.cred.Digest)
	isErr(t, err, gatehouse.ErrNotFound)
	creds, err := f.st.ListCredentials(f.ctx, w.app.ID)
	ok(t, err)
	sameList(t, "ListCredentials", creds, nil)
	_, err = f.st.GetGrant(f.ctx, w.grant.ID)
	isErr(t, err, gatehouse.ErrNotFound)
	_, err = f.st.GetConsent(f.ctx, w.consent.UserID, w.consent.AppID)
	isErr(t, err, gatehouse.ErrNotFound)
	for _, tok := range []gatehouse.Token{w.access, w.refresh, w.creds} {
		_, err = f.st.GetToken(f.ctx, tok.Digest)
		isErr(t, err, gatehouse.ErrNotFound)
	}
	_, err = f.st.ConsumeCode(f.ctx, w.code.Digest, at(time.Second))
	isErr(t, err, gatehouse.ErrNotFound)
}

// checkIntact checks that every record of the world reads as stored.
func (w world) checkIntact(t *testing.T, f *fixture) {
	t.Helper()
	checkStoredApp(t, f, w.app)
	cred, err := f.st.GetCredentialByDigest(f.ctx, w.cred.Digest)
	ok(t, err)
	same(t, "credential", cred, w.cred)
	g, err := f.st.GetGrant(f.ctx, w.grant.ID)
	ok(t, err)
	same(t, "grant", g, w.grant)
	c, err := f.st.GetConsent(f.ctx, w.consent.UserID, w.consent.AppID)
	ok(t, err)
	same(t, "consent", c, w.consent)
	for _, want := range []gatehouse.Token{w.access, w.refresh, w.creds} {
		tok, err := f.st.GetToken(f.ctx, want.Digest)
		ok(t, err)
		same(t, "token", tok, want)
	}
	code, err := f.st.ConsumeCode(f.ctx, w.code.Digest, at(time.Second))
	ok(t, err)
	w.code.UsedAt = at(time.Second)
	same(t, "code", code, w.code)
}

// checkStoredApp checks that GetApp and GetAppByID return want.
func checkStoredApp(t *testing.T, f *fixture, want gatehouse.App) {
	t.Helper()
	got, err := f.st.GetApp(f.ctx, want.ClientID)
	ok(t, err)
	same(t, "GetApp", got, want)
	got, err = f.st.GetAppByID(f.ctx, want.ID)
	ok(t, err)
	same(t, "GetAppByID", got, want)
}

func deleteAppCases() []testCase {
	return []testCase{
		{"Cascade", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			doomed, kept := f.world("doomed", u), f.world("kept", u)
			ok(t, f.st.DeleteApp(f.ctx, "doomed"))
			doomed.checkGone(t, f)
			kept.checkIntact(t, f)
			apps, err := f.st.ListApps(f.ctx)
			ok(t, err)
			sameList(t, "ListApps", apps, []gatehouse.App{kept.app})
			got, err := f.st.GetUser(f.ctx, u.ID)
			ok(t, err)
			same(t, "user", got, u)
			scopes, err := f.st.ListScopes(f.ctx)
			ok(t, err)
			if len(scopes) != 3 {
				t.Fatalf("%d scopes left, want 3", len(scopes))
			}
		}},
		{"Missing", func(t *testing.T, f *fixture) {
			a := f.app("web")
			isErr(t, f.st.DeleteApp(f.ctx, "web2"), gatehouse.ErrNotFound)
			checkStored(t, f, a)
		}},
		{"Twice", func(t *testing.T, f *fixture) {
			f.app("web")
			ok(t, f.st.DeleteApp(f.ctx, "web"))
			isErr(t, f.st.DeleteApp(f.ctx, "web"), gatehouse.ErrNotFound)
		}},
		{"ClientIDReusable", func(t *testing.T, f *fixture) {
			f.world("web", f.user("alice"))
			ok(t, f.st.DeleteApp(f.ctx, "web"))
			checkStored(t, f, f.app("web"))
		}},
	}
}
