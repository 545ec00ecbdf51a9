package oauth_test

import (
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// DESIGN's cascade "User disconnects an app": every grant of the user for
// the app dies with its tokens, the consent is forgotten (the next
// authorization asks again), another user's consent stays (the positive
// control), and the disconnection is audited with the user as the actor.
// Issue 11 item 3; the operation the connected-apps page calls.
func TestDisconnectAppEndsGrantsAndConsent(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	app, _, err := e.srv.RegisterApp(ctx, oauth.AppSpec{Name: "P", Type: gatehouse.Public, Scopes: []string{"read"}, RedirectURIs: []string{"https://p.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	ann, err := e.srv.CreateUser(ctx, "ann", "ann's long enough password")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := e.srv.CreateUser(ctx, "bob", "bob's long enough password")
	if err != nil {
		t.Fatal(err)
	}
	p := map[string]string{"client_id": app.ClientID, "response_type": "code", "code_challenge_method": "S256",
		"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "scope": "read"}
	req, err := e.srv.CheckAuthorize(app, app.RedirectURIs[0], p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []gatehouse.User{ann, ann, bob} {
		if _, err := e.srv.Approve(ctx, u.ID, req); err != nil {
			t.Fatal(err)
		}
	}
	r, err := e.srv.DisconnectApp(ctx, ann.ID, app.ID)
	if err != nil || r.Grants != 2 {
		t.Fatalf("DisconnectApp: %+v, %v; want ann's 2 grants revoked", r, err)
	}
	grants, err := e.store.ListGrants(ctx, 0, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grants {
		if revoked := !g.RevokedAt.IsZero(); revoked != (g.UserID == ann.ID) {
			t.Errorf("grant %d of user %d: revoked %v", g.ID, g.UserID, revoked)
		}
	}
	for _, tt := range []struct {
		u    gatehouse.User
		want bool
	}{{ann, true}, {bob, false}} {
		needs, _, err := e.srv.NeedsConsent(ctx, tt.u.ID, req)
		if err != nil || needs != tt.want {
			t.Errorf("%s needs consent: %v, %v; want %v", tt.u.Username, needs, err, tt.want)
		}
	}
	es, err := e.store.ListEvents(ctx, gatehouse.EventFilter{AppID: app.ID, Limit: 10})
	if err != nil || len(es) == 0 || es[0].Kind != gatehouse.EventAppDisconnected || es[0].Actor != gatehouse.ActorUser || es[0].UserID != ann.ID {
		t.Fatalf("events: %+v, %v; want app_disconnected by ann", es, err)
	}
}

// Disconnecting an app the user has no live grant for (a second click, or
// another user's app) revokes nothing and records no event: the audit log
// holds what happened, not what was asked.
func TestDisconnectNothingIsNotAudited(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u, err := e.srv.CreateUser(ctx, "ann", "ann's long enough password")
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.srv.DisconnectApp(ctx, u.ID, e.app.ID)
	if err != nil || r.Grants != 0 {
		t.Fatalf("DisconnectApp of nothing: %+v, %v", r, err)
	}
	es, err := e.store.ListEvents(ctx, gatehouse.EventFilter{AppID: e.app.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range es {
		if ev.Kind == gatehouse.EventAppDisconnected {
			t.Fatalf("an app_disconnected event for nothing disconnected: %+v", ev)
		}
	}
}
