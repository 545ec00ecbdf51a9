package oauth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// portal is an env with two developers, ann (who owns app) and bob, and a
// user who is not a developer, carl.
type portal struct {
	*env
	ann, bob, carl gatehouse.User
	app            gatehouse.App
	sec            string
}

func newPortal(t *testing.T) *portal {
	t.Helper()
	p := &portal{env: newEnv(t)}
	ctx := t.Context()
	for _, u := range []struct {
		dst       *gatehouse.User
		name      string
		developer bool
	}{{&p.ann, "ann", true}, {&p.bob, "bob", true}, {&p.carl, "carl", false}} {
		var err error
		*u.dst, err = p.srv.RegisterUser(ctx, oauth.UserSpec{Username: u.name, Password: "correct horse " + u.name, Developer: u.developer})
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	p.app, p.sec, err = p.srv.CreateAppAsDeveloper(ctx, p.ann, oauth.AppSpec{Name: "Notes", Type: gatehouse.Confidential,
		RedirectURIs: []string{"https://notes.example/cb"}, Scopes: []string{"read"}, HomepageURL: "https://notes.example/"})
	if err != nil {
		t.Fatal(err)
	}
	if p.app.OwnerID != p.ann.ID || p.sec == "" {
		t.Fatalf("CreateAppAsDeveloper: owner %d (want %d), secret given: %v", p.app.OwnerID, p.ann.ID, p.sec != "")
	}
	return p
}

func TestOwnedAppOnlyForItsDeveloperOwner(t *testing.T) {
	p := newPortal(t)
	ctx := t.Context()
	// carl owns an app by the operator's hand, but is no developer.
	carls, _, err := p.srv.RegisterApp(ctx, oauth.AppSpec{Name: "Carl's", Type: gatehouse.Public,
		RedirectURIs: []string{"https://carl.example/cb"}, Scopes: []string{"read"}, OwnerID: p.carl.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		user     gatehouse.User
		clientID string
	}{
		{"not a developer", p.carl, p.app.ClientID},
		{"not a developer, own app", p.carl, carls.ClientID},
		{"another developer", p.bob, p.app.ClientID},
		{"unknown client_id", p.ann, "app_nosuchapp"},
		{"implausible client_id", p.ann, "a b\x00"},
		{"no user", gatehouse.User{}, p.app.ClientID},
		{"a user claiming the developer flag", gatehouse.User{ID: p.carl.ID, Username: "carl", Developer: true}, carls.ClientID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := p.srv.OwnedApp(ctx, tt.user, tt.clientID)
			if !errors.Is(err, gatehouse.ErrNotFound) || a.ID != 0 {
				t.Fatalf("OwnedApp = %+v, %v; want gatehouse.ErrNotFound and no app", a, err)
			}
			if strings.Contains(err.Error(), tt.clientID) && tt.clientID != "" {
				t.Errorf("the error names the client_id: %v", err)
			}
		})
	}
	// The positive control: the owner gets the app as stored.
	a, err := p.srv.OwnedApp(ctx, p.ann, p.app.ClientID)
	if err != nil || a.ID != p.app.ID || a.HomepageURL != "https://notes.example/" {
		t.Fatalf("OwnedApp of the owner = %+v, %v", a, err)
	}
	// A developer who stops being one loses the app at once.
	if _, _, err := p.srv.SetDeveloper(ctx, "ann", false); err != nil {
		t.Fatal(err)
	}
	if _, err := p.srv.OwnedApp(ctx, p.ann, p.app.ClientID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("OwnedApp of a former developer: %v", err)
	}
}

func TestOwnedOperationsRefuseOthers(t *testing.T) {
	p := newPortal(t)
	ctx := t.Context()
	name := "Taken"
	uris := []string{"https://evil.example/cb"}
	for _, who := range []gatehouse.User{p.bob, p.carl} {
		checks := map[string]error{}
		_, _, checks["UpdateOwnedApp"] = p.srv.UpdateOwnedApp(ctx, who, p.app.ClientID, oauth.AppChange{Name: &name, RedirectURIs: &uris})
		_, _, checks["AddRedirectURI"] = p.srv.AddRedirectURI(ctx, who, p.app.ClientID, uris[0])
		_, _, checks["RemoveRedirectURI"] = p.srv.RemoveRedirectURI(ctx, who, p.app.ClientID, p.app.RedirectURIs[0])
		_, _, checks["OwnedCredentials"] = p.srv.OwnedCredentials(ctx, who, p.app.ClientID)
		_, _, checks["CreateOwnedCredential"] = p.srv.CreateOwnedCredential(ctx, who, p.app.ClientID, "x", time.Time{})
		_, _, _, checks["RotateOwnedCredential"] = p.srv.RotateOwnedCredential(ctx, who, p.app.ClientID, 1, time.Hour, "")
		_, _, checks["RevokeOwnedCredential"] = p.srv.RevokeOwnedCredential(ctx, who, p.app.ClientID, 1)
		checks["DeleteOwnedApp"] = p.srv.DeleteOwnedApp(ctx, who, p.app.ClientID)
		for op, err := range checks {
			if !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("%s by %s: %v, want gatehouse.ErrNotFound", op, who.Username, err)
			}
		}
	}
	if _, _, err := p.srv.CreateAppAsDeveloper(ctx, p.carl, oauth.AppSpec{Name: "X", Type: gatehouse.Public,
		RedirectURIs: []string{"https://x.example/cb"}, Scopes: []string{"read"}}); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Errorf("CreateAppAsDeveloper by a non-developer: %v", err)
	}
	// Nothing changed, and the owner still authenticates.
	a, creds, err := p.srv.OwnedCredentials(ctx, p.ann, p.app.ClientID)
	if err != nil || a.Name != "Notes" || len(a.RedirectURIs) != 1 || len(creds) != 1 {
		t.Fatalf("after the refusals: %+v, %d credentials, %v", a, len(creds), err)
	}
	if _, err := p.srv.AuthenticateClient(ctx, oauth.ClientAuth{Method: oauth.AuthBasic, ClientID: a.ClientID, Secret: p.sec}); err != nil {
		t.Fatalf("the owner's secret stopped working: %v", err)
	}
}

func TestOwnerOperationsAuditedAsTheUser(t *testing.T) {
	p := newPortal(t)
	ctx := t.Context()
	if _, changed, err := p.srv.AddRedirectURI(ctx, p.ann, p.app.ClientID, "https://notes.example/cb2"); err != nil || len(changed) != 1 {
		t.Fatalf("AddRedirectURI: %v %v", changed, err)
	}
	if _, _, err := p.srv.AddRedirectURI(ctx, p.ann, p.app.ClientID, "http://notes.example/cb"); err == nil {
		t.Fatal("AddRedirectURI took an http:// URI of a non-loopback host")
	}
	a, _, err := p.srv.RemoveRedirectURI(ctx, p.ann, p.app.ClientID, "https://notes.example/cb")
	if err != nil || len(a.RedirectURIs) != 1 || a.RedirectURIs[0] != "https://notes.example/cb2" {
		t.Fatalf("RemoveRedirectURI: %+v %v", a.RedirectURIs, err)
	}
	if _, _, err := p.srv.RemoveRedirectURI(ctx, p.ann, p.app.ClientID, "https://notes.example/cb2"); err == nil {
		t.Fatal("RemoveRedirectURI dropped the last redirect URI of an authorization_code app")
	}
	bob := p.bob.ID
	if _, _, err := p.srv.UpdateOwnedApp(ctx, p.ann, p.app.ClientID, oauth.AppChange{OwnerID: &bob}); err == nil {
		t.Fatal("a developer gave the app away")
	}
	_, cred, err := p.srv.CreateOwnedCredential(ctx, p.ann, p.app.ClientID, "ci", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := p.srv.RotateOwnedCredential(ctx, p.ann, p.app.ClientID, cred.ID, time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.srv.RevokeOwnedCredential(ctx, p.ann, p.app.ClientID, cred.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.srv.DeleteOwnedApp(ctx, p.ann, p.app.ClientID); err != nil {
		t.Fatal(err)
	}
	events, err := p.store.ListEvents(ctx, gatehouse.EventFilter{AppID: p.app.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range events {
		kinds[e.Kind] = true
		if e.Actor != gatehouse.ActorUser || e.UserID != p.ann.ID {
			t.Errorf("event %s: actor %q, user %d; want user %d", e.Kind, e.Actor, e.UserID, p.ann.ID)
		}
	}
	for _, k := range []string{gatehouse.EventAppCreated, gatehouse.EventAppUpdated, gatehouse.EventCredentialCreated,
		gatehouse.EventCredentialRotated, gatehouse.EventCredentialDeleted, gatehouse.EventAppDeleted} {
		if !kinds[k] {
			t.Errorf("no %s event: %v", k, kinds)
		}
	}
	if apps, err := p.srv.OwnedApps(ctx, p.ann); err != nil || len(apps) != 0 {
		t.Fatalf("OwnedApps after the delete: %v %v", apps, err)
	}
}

func TestProfileValidation(t *testing.T) {
	p := newPortal(t)
	ctx := t.Context()
	for _, tt := range []struct {
		name, url string
		ok        bool
	}{
		{"https", "https://notes.example/privacy?lang=en", true},
		{"empty clears", "", true},
		{"http", "http://notes.example/privacy", false},
		{"javascript", "javascript:alert(1)", false},
		{"data", "data:text/html,hi", false},
		{"relative", "/privacy", false},
		{"no host", "https:///privacy", false},
		{"userinfo", "https://user:pw@notes.example/", false},
		{"fragment", "https://notes.example/#top", false},
		{"space", "https://notes.example/a b", false},
		{"newline", "https://notes.example/\nx", false},
		{"too long", "https://notes.example/" + strings.Repeat("a", 2000), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url
			_, _, err := p.srv.UpdateOwnedApp(ctx, p.ann, p.app.ClientID, oauth.AppChange{PrivacyURL: &u})
			if (err == nil) != tt.ok {
				t.Fatalf("privacy URL %q: %v", tt.url, err)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("the refusal is more than one line: %q", err)
			}
			_, _, err = p.srv.RegisterApp(ctx, oauth.AppSpec{Name: "R", Type: gatehouse.Public, RedirectURIs: []string{"https://r.example/cb"},
				Scopes: []string{"read"}, TermsURL: tt.url})
			if (err == nil) != tt.ok {
				t.Fatalf("RegisterApp with terms URL %q: %v", tt.url, err)
			}
		})
	}
	for _, d := range []string{"two\nparagraphs", strings.Repeat("é", 501)} {
		if _, _, err := p.srv.UpdateOwnedApp(ctx, p.ann, p.app.ClientID, oauth.AppChange{Description: &d}); err == nil {
			t.Errorf("description %.20q accepted", d)
		}
	}
	d := strings.Repeat("é", 500)
	if _, _, err := p.srv.UpdateOwnedApp(ctx, p.ann, p.app.ClientID, oauth.AppChange{Description: &d}); err != nil {
		t.Errorf("a description of 500 characters: %v", err)
	}
	if _, _, err := p.srv.RegisterApp(ctx, oauth.AppSpec{Name: "R", Type: gatehouse.Public, RedirectURIs: []string{"https://r.example/cb"},
		Scopes: []string{"read"}, OwnerID: 4242}); err == nil {
		t.Error("RegisterApp accepted an owner that does not exist")
	}
}

// The portal shows a refusal's message on its page and any other failure
// without detail: Refused tells them apart.
func TestPortalRefusalsAreRefused(t *testing.T) {
	p := newPortal(t)
	ctx := t.Context()
	bad := "http://notes.example/insecure"
	checks := map[string]error{}
	_, _, checks["bad redirect URI"] = p.srv.AddRedirectURI(ctx, p.ann, p.app.ClientID, bad)
	_, _, checks["remove the last redirect URI"] = p.srv.RemoveRedirectURI(ctx, p.ann, p.app.ClientID, p.app.RedirectURIs[0])
	_, _, checks["bad credential name"] = p.srv.CreateOwnedCredential(ctx, p.ann, p.app.ClientID, "", time.Time{})
	_, _, _, checks["overlap too long"] = p.srv.RotateOwnedCredential(ctx, p.ann, p.app.ClientID, 1, 1000*24*time.Hour, "")
	_, _, checks["resource server"] = p.srv.CreateAppAsDeveloper(ctx, p.ann, oauth.AppSpec{Name: "RS", Type: gatehouse.Confidential, ResourceServer: true})
	_, _, checks["no name"] = p.srv.CreateAppAsDeveloper(ctx, p.ann, oauth.AppSpec{Type: gatehouse.Public, RedirectURIs: []string{"https://x.example/cb"}})
	for name, err := range checks {
		if err == nil || !oauth.Refused(err) {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
	for name, err := range map[string]error{
		"another owner's app":  func() error { _, err := p.srv.OwnedApp(ctx, p.bob, p.app.ClientID); return err }(),
		"a store failure":      errors.New("sqlite: disk I/O error"),
		"an unavailable store": errors.Join(oauth.Refusal("the name must be 1 to 100 characters"), gatehouse.ErrUnavailable),
		"nil":                  nil,
	} {
		if oauth.Refused(err) {
			t.Errorf("%s: %v is a refusal", name, err)
		}
	}
}

// The review of issue 13's pages: names and descriptions that users read
// on the consent page must say what they seem to — no bidi overrides,
// zero-width characters, tabs or white space only — while ordinary text
// (the positive control, accents and CJK included) is accepted.
func TestAppTextIsDisplayable(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, tt := range []struct {
		name, description string
		ok                bool
	}{
		{"Notes & Co", "Syncs your notes. Café 日本", true},
		{"a\u202eb", "", false},
		{" ", "", false},
		{"\u00a0", "", false},
		{"a\u200bb", "", false},
		{"a\tb", "", false},
		{" padded", "", false},
		{"Notes", "Safe \u202eevil", false},
		{"Notes", "   ", false},
	} {
		_, _, err := e.srv.RegisterApp(ctx, oauth.AppSpec{Name: tt.name, Description: tt.description, Type: gatehouse.Public,
			RedirectURIs: []string{"https://x.example/cb"}, Scopes: []string{"read"}})
		if (err == nil) != tt.ok {
			t.Errorf("name %q, description %q: %v, want ok=%v", tt.name, tt.description, err, tt.ok)
		}
	}
}
