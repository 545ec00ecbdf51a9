package oauth_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// writeCounter is a store that counts the calls of the write methods a
// registration or an approval could make.
type writeCounter struct {
	gatehouse.Store
	writes []string
}

func (w *writeCounter) CreateApp(ctx context.Context, a gatehouse.App) (gatehouse.App, error) {
	w.writes = append(w.writes, "CreateApp")
	return w.Store.CreateApp(ctx, a)
}

func (w *writeCounter) CreateAppWithCredential(ctx context.Context, a gatehouse.App, c gatehouse.Credential) (gatehouse.App, error) {
	w.writes = append(w.writes, "CreateAppWithCredential")
	return w.Store.CreateAppWithCredential(ctx, a, c)
}

func (w *writeCounter) CreateCredential(ctx context.Context, c gatehouse.Credential) (gatehouse.Credential, error) {
	w.writes = append(w.writes, "CreateCredential")
	return w.Store.CreateCredential(ctx, c)
}

func (w *writeCounter) CreateGrant(ctx context.Context, g gatehouse.Grant) (gatehouse.Grant, error) {
	w.writes = append(w.writes, "CreateGrant")
	return w.Store.CreateGrant(ctx, g)
}

func (w *writeCounter) PutConsent(ctx context.Context, c gatehouse.Consent) error {
	w.writes = append(w.writes, "PutConsent")
	return w.Store.PutConsent(ctx, c)
}

func (w *writeCounter) CreateCode(ctx context.Context, c gatehouse.Code) error {
	w.writes = append(w.writes, "CreateCode")
	return w.Store.CreateCode(ctx, c)
}

func (w *writeCounter) OpenGrant(ctx context.Context, g gatehouse.Grant, c gatehouse.Code, consent *gatehouse.Consent) (gatehouse.Grant, error) {
	w.writes = append(w.writes, "OpenGrant")
	return w.Store.OpenGrant(ctx, g, c, consent)
}

// DESIGN invariant 10; issue 9 "also seen": registering a confidential app
// and approving a request each write in one store transaction, whose
// all-or-nothing the conformance suite proves of every backend; so a crash
// in between can leave no app without its credential, and no grant without
// its code or consent. (A public app is one write too.)
func TestRegistrationAndApprovalAreOneTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	w := &writeCounter{Store: e.store}
	srv, err := oauth.NewServer(w, serverKey, oauth.Config{Issuer: "https://as.example"}, oauth.Options{Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	want := func(what string, writes ...string) {
		t.Helper()
		if len(w.writes) != len(writes) {
			t.Fatalf("%s wrote %v, want %v", what, w.writes, writes)
		}
		for i := range writes {
			if w.writes[i] != writes[i] {
				t.Fatalf("%s wrote %v, want %v", what, w.writes, writes)
			}
		}
		w.writes = nil
	}
	_, sec, err := srv.RegisterApp(ctx, oauth.AppSpec{Name: "C", Type: gatehouse.Confidential, Scopes: []string{"read"}, RedirectURIs: []string{"https://c.example/cb"}})
	if err != nil || sec == "" {
		t.Fatalf("register: %v", err)
	}
	want("registering a confidential app", "CreateAppWithCredential")
	app, _, err := srv.RegisterApp(ctx, oauth.AppSpec{Name: "P", Type: gatehouse.Public, Scopes: []string{"read"}, RedirectURIs: []string{"https://p.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	want("registering a public app", "CreateApp")
	u, err := srv.CreateUser(ctx, "ann", "long enough password")
	if err != nil {
		t.Fatal(err)
	}
	w.writes = nil
	p := map[string]string{"client_id": app.ClientID, "response_type": "code", "code_challenge_method": "S256",
		"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}
	req, err := srv.CheckAuthorize(app, app.RedirectURIs[0], p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"a first approval (consent too)", "a silent approval"} {
		if _, err := srv.Approve(ctx, u.ID, req); err != nil {
			t.Fatal(err)
		}
		want(what, "OpenGrant")
	}
}
