package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Population is one record of every kind the store keeps, written by
// Populate: the fixture of the export/import tests. When a later feature
// adds a table, Populate must write a row into it, or the export test that
// checks every table has rows fails.
type Population struct {
	Scope      gatehouse.Scope
	App        gatehouse.App
	DeletedApp gatehouse.App // deleted: its ID must never be given again
	Credential gatehouse.Credential
	ScopeUse   []gatehouse.ScopeUse
	User       gatehouse.User
	Grant      gatehouse.Grant
	Revoked    gatehouse.Grant // revoked with its tokens
	Consent    gatehouse.Consent
	Code       gatehouse.Code
	DeviceCode gatehouse.DeviceCode // approved, with the grant it opened
	Access     gatehouse.Token
	Refresh    gatehouse.Token // used: exchanged for Successor
	Successor  gatehouse.Token
	RevokedTok gatehouse.Token
	ServiceTok gatehouse.Token // client credentials: no user, no grant
	Session    gatehouse.Session
	Device     gatehouse.Device
	Events     []gatehouse.Event
	// Throttled is the key of an attempt bucket left empty until an hour
	// after t0.
	Throttled []byte
}

// Populate writes one record of every kind into st (fresh and migrated)
// and returns them as stored.
func Populate(t testing.TB, ctx context.Context, st gatehouse.Store) Population {
	t.Helper()
	var p Population
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("populate: %v", err)
		}
	}
	for _, name := range []string{"admin", "read", "write"} {
		sc := gatehouse.Scope{Name: name, Description: "Allows " + name + " — ünïcode", CreatedAt: at(0)}
		must(st.CreateScope(ctx, sc))
		p.Scope = sc
	}
	p.DeletedApp, err = st.CreateApp(ctx, appRecord("deleted"))
	must(err)
	p.App, err = st.CreateApp(ctx, appRecord("web"))
	must(err)
	must(st.DeleteApp(ctx, p.DeletedApp.ClientID))
	p.Credential, err = st.CreateCredential(ctx, gatehouse.Credential{AppID: p.App.ID, Name: "prod", Digest: digest("credential"), Hint: "x1Yz",
		CreatedAt: at(time.Second), ExpiresAt: at(90 * 24 * time.Hour)})
	must(err)
	must(st.TouchCredential(ctx, p.Credential.ID, at(2*time.Second)))
	p.Credential.LastUsedAt = at(2 * time.Second)
	must(st.TouchScopes(ctx, p.App.ID, []string{"write", "read"}, at(3*time.Second)))
	p.ScopeUse = []gatehouse.ScopeUse{{AppID: p.App.ID, Scope: "read", LastUsedAt: at(3 * time.Second)}, {AppID: p.App.ID, Scope: "write", LastUsedAt: at(3 * time.Second)}}
	p.User, err = st.CreateUser(ctx, gatehouse.User{Username: "ada", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", CreatedAt: at(0), Developer: true})
	must(err)
	// The app is the user's, with a profile: the columns of the developer
	// portal travel too.
	p.App.OwnerID, p.App.Description = p.User.ID, "Ada's notes, synced."
	p.App.HomepageURL, p.App.PrivacyURL, p.App.TermsURL = "https://web.example/", "https://web.example/privacy", "https://web.example/terms"
	p.App, err = st.UpdateApp(ctx, p.App)
	must(err)
	p.Grant, err = st.CreateGrant(ctx, gatehouse.Grant{UserID: p.User.ID, AppID: p.App.ID, Scopes: []string{"read", "write"}, CreatedAt: at(time.Minute)})
	must(err)
	p.Revoked, err = st.CreateGrant(ctx, gatehouse.Grant{UserID: p.User.ID, AppID: p.App.ID, Scopes: []string{"read"}, CreatedAt: at(time.Minute)})
	must(err)
	p.Consent = gatehouse.Consent{UserID: p.User.ID, AppID: p.App.ID, Scopes: []string{"read", "write"}, UpdatedAt: at(time.Minute)}
	must(st.PutConsent(ctx, p.Consent))
	p.Code = gatehouse.Code{Digest: digest("code"), AppID: p.App.ID, UserID: p.User.ID, GrantID: p.Grant.ID,
		RedirectURI: p.App.RedirectURIs[0], Scopes: []string{"read"}, Challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CreatedAt: at(time.Minute), ExpiresAt: at(2 * time.Minute)}
	must(st.CreateCode(ctx, p.Code))
	p.Code, err = st.ConsumeCode(ctx, p.Code.Digest, at(time.Minute+time.Second))
	must(err)
	p.DeviceCode = newDeviceCode("device code", p.App)
	must(st.CreateDeviceCode(ctx, p.DeviceCode))
	must(st.PollDeviceCode(ctx, p.DeviceCode.Digest, at(time.Minute), 10*time.Second))
	p.DeviceCode, err = st.DecideDeviceCode(ctx, p.DeviceCode.UserCode, at(time.Minute+time.Second), p.User.ID,
		&gatehouse.Grant{UserID: p.User.ID, AppID: p.App.ID, Scopes: []string{"read"}, CreatedAt: at(time.Minute + time.Second)})
	must(err)
	tok := func(name string, kind gatehouse.TokenKind, g gatehouse.Grant, parent []byte) gatehouse.Token {
		t := gatehouse.Token{Digest: digest(name), Kind: kind, AppID: p.App.ID, UserID: g.UserID, GrantID: g.ID,
			Scopes: g.Scopes, IssuedAt: at(time.Minute), ExpiresAt: at(24 * time.Hour), Parent: parent}
		return t
	}
	p.Access = tok("access", gatehouse.AccessToken, p.Grant, nil)
	p.Refresh = tok("refresh", gatehouse.RefreshToken, p.Grant, nil)
	must(st.CreateToken(ctx, p.Access))
	must(st.CreateToken(ctx, p.Refresh))
	p.Successor = tok("successor", gatehouse.RefreshToken, p.Grant, p.Refresh.Digest)
	_, err = st.RotateRefreshToken(ctx, p.Refresh.Digest, at(time.Hour), false, []gatehouse.Token{p.Successor})
	must(err)
	p.Refresh.UsedAt = at(time.Hour)
	p.RevokedTok = tok("revoked", gatehouse.AccessToken, p.Revoked, nil)
	must(st.CreateToken(ctx, p.RevokedTok))
	must(st.RevokeGrant(ctx, p.Revoked.ID, at(2*time.Hour)))
	p.Revoked.RevokedAt, p.RevokedTok.RevokedAt = at(2*time.Hour), at(2*time.Hour)
	p.ServiceTok = gatehouse.Token{Digest: digest("service"), Kind: gatehouse.AccessToken, AppID: p.App.ID,
		Scopes: []string{"read"}, IssuedAt: at(time.Minute), ExpiresAt: at(time.Hour)}
	must(st.CreateToken(ctx, p.ServiceTok))
	p.Session = gatehouse.Session{Digest: digest("session"), UserID: p.User.ID, CreatedAt: at(0), ExpiresAt: at(12 * time.Hour)}
	must(st.CreateSession(ctx, p.Session))
	p.Device = gatehouse.Device{Digest: digest("device"), UserID: p.User.ID, CreatedAt: at(0), ExpiresAt: at(180 * 24 * time.Hour)}
	must(st.CreateDevice(ctx, p.Device))
	p.Throttled = digest("throttled")
	for range 2 {
		taken, _, err := st.TakeAttempt(ctx, p.Throttled, at(0), 30*time.Minute, 2)
		must(err)
		if !taken {
			t.Fatal("populate: an attempt was refused")
		}
	}
	for _, e := range []gatehouse.Event{
		{Kind: "grant.revoked", At: at(2 * time.Hour), Actor: "user", AppID: p.App.ID, UserID: p.User.ID, GrantID: p.Revoked.ID, Address: "192.0.2.7", Detail: `{"message":"revoked by the user"}`},
		{Kind: "app.deleted", At: at(3 * time.Hour), AppID: p.DeletedApp.ID, Detail: "deleted \"from\" the command line"},
	} {
		e, err := st.RecordEvent(ctx, e)
		must(err)
		p.Events = append(p.Events, e)
	}
	return p
}

// Check fails t unless st holds exactly what Populate wrote (as read
// through the store), and gives new records IDs never given before.
func (p Population) Check(t testing.TB, ctx context.Context, st gatehouse.Store) {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	scopes, err := st.ListScopes(ctx)
	must("scopes", err)
	if len(scopes) != 3 {
		t.Errorf("%d scopes, want 3", len(scopes))
	}
	sc, err := st.GetScope(ctx, p.Scope.Name)
	must("scope", err)
	same(t, "scope", sc, p.Scope)
	apps, err := st.ListApps(ctx)
	must("apps", err)
	sameList(t, "apps", apps, []gatehouse.App{p.App})
	creds, err := st.ListCredentials(ctx, p.App.ID)
	must("credentials", err)
	sameList(t, "credentials", creds, []gatehouse.Credential{p.Credential})
	cr, err := st.GetCredentialByDigest(ctx, p.Credential.Digest)
	must("credential", err)
	same(t, "credential", cr, p.Credential)
	use, err := st.ListScopeUse(ctx, p.App.ID)
	must("scope use", err)
	sameList(t, "scope use", use, p.ScopeUse)
	u, err := st.GetUserByUsername(ctx, p.User.Username)
	must("user", err)
	same(t, "user", u, p.User)
	for _, g := range []gatehouse.Grant{p.Grant, p.Revoked} {
		got, err := st.GetGrant(ctx, g.ID)
		must("grant", err)
		same(t, "grant", got, g)
	}
	c, err := st.GetConsent(ctx, p.User.ID, p.App.ID)
	must("consent", err)
	same(t, "consent", c, p.Consent)
	code, err := st.ConsumeCode(ctx, p.Code.Digest, at(3*time.Minute))
	if !errors.Is(err, gatehouse.ErrAlreadyUsed) {
		t.Errorf("consume the used code: %v, want ErrAlreadyUsed", err)
	}
	same(t, "code", code, p.Code)
	dc, err := st.GetDeviceCodeByUserCode(ctx, p.DeviceCode.UserCode)
	must("device code", err)
	same(t, "device code", dc, p.DeviceCode)
	for _, tk := range []gatehouse.Token{p.Access, p.Refresh, p.Successor, p.RevokedTok, p.ServiceTok} {
		got, err := st.GetToken(ctx, tk.Digest)
		must("token", err)
		same(t, "token", got, tk)
	}
	s, err := st.GetSession(ctx, p.Session.Digest)
	must("session", err)
	same(t, "session", s, p.Session)
	d, err := st.GetDevice(ctx, p.Device.Digest)
	must("device", err)
	same(t, "device", d, p.Device)
	ev, err := st.ListEvents(ctx, gatehouse.EventFilter{Limit: 10})
	must("events", err)
	sameList(t, "events", ev, []gatehouse.Event{p.Events[1], p.Events[0]})

	taken, wait, err := st.TakeAttempt(ctx, p.Throttled, at(time.Minute), 30*time.Minute, 2)
	must("take an attempt", err)
	if taken || (wait-29*time.Minute).Abs() > time.Second {
		t.Errorf("the emptied attempt bucket: taken %v, wait %v; want refused for 29m", taken, wait)
	}

	// New records get new IDs: not the deleted app's, not an event's.
	a, err := st.CreateApp(ctx, appRecord("after-import"))
	must("create an app after the import", err)
	if a.ID <= p.DeletedApp.ID || a.ID <= p.App.ID {
		t.Errorf("an app created after the import got ID %d; IDs up to %d were given before", a.ID, max(p.App.ID, p.DeletedApp.ID))
	}
	e, err := st.RecordEvent(ctx, gatehouse.Event{Kind: "x", At: at(4 * time.Hour), Detail: "after"})
	must("record an event after the import", err)
	if e.ID <= p.Events[1].ID {
		t.Errorf("an event recorded after the import got ID %d, after %d", e.ID, p.Events[1].ID)
	}
	g, err := st.CreateGrant(ctx, gatehouse.Grant{UserID: p.User.ID, AppID: p.App.ID, Scopes: []string{"read"}, CreatedAt: at(5 * time.Hour)})
	must("create a grant after the import", err)
	if g.ID <= p.Revoked.ID {
		t.Errorf("a grant created after the import got ID %d, after %d", g.ID, p.Revoked.ID)
	}
	if err := st.CreateToken(ctx, gatehouse.Token{Digest: digest("revoked-2"), Kind: gatehouse.AccessToken, AppID: p.App.ID,
		UserID: p.User.ID, GrantID: p.Revoked.ID, IssuedAt: at(5 * time.Hour), ExpiresAt: at(6 * time.Hour)}); err == nil {
		t.Error("a token was written into a grant revoked before the import")
	}
}
