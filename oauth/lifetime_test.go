package oauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"github.com/gatehouse/gatehouse/secret"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

// userFlow registers a public app and a user, approves a request and
// returns the code.
func (e *env) userFlow(t *testing.T) (gatehouse.App, string) {
	t.Helper()
	ctx := t.Context()
	app, _, err := e.srv.RegisterApp(ctx, oauth.AppSpec{Name: "SPA", Type: gatehouse.Public, Scopes: []string{"read"}, RedirectURIs: []string{"https://spa.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.srv.CreateUser(ctx, "ann", "long enough password")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(verifier))
	p := map[string]string{"client_id": app.ClientID, "response_type": "code", "code_challenge_method": "S256",
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:])}
	app, uri, err := e.srv.CheckClient(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, err := e.srv.CheckAuthorize(app, uri, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	to, err := e.srv.Approve(ctx, u.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := url.Parse(to)
	return app, loc.Query().Get("code")
}

func (e *env) redeem(t *testing.T, app gatehouse.App, code string) (oauth.TokenResponse, error) {
	return e.srv.Token(t.Context(), oauth.TokenRequest{
		Client: oauth.ClientAuth{Method: oauth.AuthNone, ClientID: app.ClientID}, GrantType: gatehouse.GrantAuthorizationCode,
		Params: map[string]string{"code": code, "code_verifier": verifier},
	})
}

func (e *env) refresh(t *testing.T, app gatehouse.App, rt string) (oauth.TokenResponse, error) {
	return e.srv.Token(t.Context(), oauth.TokenRequest{
		Client: oauth.ClientAuth{Method: oauth.AuthNone, ClientID: app.ClientID}, GrantType: gatehouse.GrantRefreshToken,
		Params: map[string]string{"refresh_token": rt},
	})
}

func isCode(err error, code string) bool {
	var e *oauth.Error
	return errors.As(err, &e) && e.Code == code
}

// O21-4.1.2-a, DESIGN invariant 2: a code lives at most 60 seconds.
func TestO21_4_1_2_a_CodeExpires(t *testing.T) {
	for _, c := range []struct {
		age time.Duration
		ok  bool
	}{{oauth.CodeTTL - time.Millisecond, true}, {oauth.CodeTTL, false}, {10*time.Minute + time.Second, false}} {
		e := newEnv(t)
		app, code := e.userFlow(t)
		e.clock.add(c.age)
		_, err := e.redeem(t, app, code)
		if c.ok != (err == nil) || (!c.ok && !isCode(err, oauth.CodeInvalidGrant)) {
			t.Errorf("code redeemed after %v: %v", c.age, err)
		}
	}
}

// BCP-4.14.2-d: a refresh token left idle expires.
func TestBCP_4_14_2_d_IdleRefreshTokenExpires(t *testing.T) {
	e := newEnv(t)
	app, code := e.userFlow(t)
	tok, err := e.redeem(t, app, code)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.add(oauth.DefaultRefreshIdleTTL - time.Second)
	tok, err = e.refresh(t, app, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh before the idle limit: %v", err)
	}
	e.clock.add(oauth.DefaultRefreshIdleTTL)
	if _, err := e.refresh(t, app, tok.RefreshToken); !isCode(err, oauth.CodeInvalidGrant) {
		t.Fatalf("an idle refresh token refreshed: %v", err)
	}
}

// BBA-6.3.2.3-a: rotation never extends a grant beyond its absolute
// lifetime, however often it refreshes.
func TestBBA_6_3_2_3_a_AbsoluteLifetime(t *testing.T) {
	e := newEnv(t)
	app, code := e.userFlow(t)
	tok, err := e.redeem(t, app, code)
	if err != nil {
		t.Fatal(err)
	}
	step := 6 * 24 * time.Hour
	for elapsed := time.Duration(0); elapsed+step < oauth.DefaultRefreshMaxTTL; elapsed += step {
		e.clock.add(step)
		if tok, err = e.refresh(t, app, tok.RefreshToken); err != nil {
			t.Fatalf("refresh at %v: %v", elapsed+step, err)
		}
	}
	e.clock.add(step)
	if _, err := e.refresh(t, app, tok.RefreshToken); !isCode(err, oauth.CodeInvalidGrant) {
		t.Fatalf("the grant outlived its absolute lifetime: %v", err)
	}
}

// DESIGN "The retry window": outside it, the old token is theft.
func TestRetryAfterTheWindowKillsTheGrant(t *testing.T) {
	e := newEnv(t)
	app, code := e.userFlow(t)
	t0, err := e.redeem(t, app, code)
	if err != nil {
		t.Fatal(err)
	}
	t1, err := e.refresh(t, app, t0.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.add(oauth.DefaultRetryWindow + time.Millisecond)
	if _, err := e.refresh(t, app, t0.RefreshToken); !isCode(err, oauth.CodeInvalidGrant) {
		t.Fatalf("a retry after the window: %v", err)
	}
	if _, err := e.refresh(t, app, t1.RefreshToken); !isCode(err, oauth.CodeInvalidGrant) {
		t.Fatal("the grant survived a reuse after the retry window")
	}
	events, err := e.store.ListEvents(t.Context(), gatehouse.EventFilter{Limit: 10})
	if err != nil || len(events) == 0 || events[0].Kind != gatehouse.EventRefreshReuse {
		t.Fatalf("events %v %v", events, err)
	}
}

// Sessions expire; login answers unknown users and wrong passwords alike.
func TestSessionsAndLogin(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u, err := e.srv.CreateUser(ctx, "bob", "correct password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Login(ctx, "bob", "wrong password"); !errors.Is(err, oauth.ErrLoginFailed) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := e.srv.Login(ctx, "nobody", "correct password"); !errors.Is(err, oauth.ErrLoginFailed) {
		t.Fatalf("unknown user: %v", err)
	}
	if got, err := e.srv.Login(ctx, "bob", "correct password"); err != nil || got.ID != u.ID {
		t.Fatalf("login: %v", err)
	}
	id, _, err := e.srv.SignIn(ctx, u, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.srv.SessionUser(ctx, id); err != nil || got.ID != u.ID {
		t.Fatalf("session: %v", err)
	}
	e.clock.add(oauth.DefaultSessionTTL)
	if _, err := e.srv.SessionUser(ctx, id); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("an expired session works: %v", err)
	}
}

// A redemption that loses the race against a replay of its code gets
// invalid_grant, not a token of the dead grant: the store refuses to write
// into a revoked grant, and the engine answers that as a bad code.
func TestRedemptionLosingToARevocationGetsNoToken(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	app, code := e.userFlow(t)
	g, err := e.store.GetGrant(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The revocation commits after the code was issued and before the
	// redemption writes its tokens.
	if err := e.store.RevokeGrant(ctx, g.ID, e.clock.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.redeem(t, app, code); !isCode(err, oauth.CodeInvalidGrant) {
		t.Fatalf("redemption into a revoked grant: %v", err)
	}
	late := gatehouse.Token{Digest: mustDigest(t, secret.New(secret.AccessToken)), Kind: gatehouse.AccessToken, AppID: app.ID,
		UserID: g.UserID, GrantID: g.ID, IssuedAt: e.clock.now(), ExpiresAt: e.clock.now().Add(time.Hour)}
	if err := e.store.CreateToken(ctx, late); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("a token was written into a revoked grant: %v", err)
	}
}

func mustDigest(t *testing.T, s string) []byte {
	t.Helper()
	d, err := secret.NewDigester(serverKey)
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest(s)
}
