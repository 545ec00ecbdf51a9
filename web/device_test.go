package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// DEV-5.1-a: the global limit of wrong user codes holds whatever the
// number of users and addresses guessing, and only wrong codes count: the
// guesses of many users at many addresses exhaust it, after which a right
// code is refused too, from anyone; before that, right codes pass at no
// cost. (The per-user and per-address limits are attacked end to end in
// cmd/gatehouse, TestUserCodeGuessesThrottled.)
func TestUserCodeGlobalLimit(t *testing.T) {
	p, mux := newPages(t)
	srv := p.OAuth
	p.UserCodeGlobalLimit = srv.AttemptLimit("user-code-global", ratelimit.Limit{Burst: 5, Every: time.Hour})
	ctx := t.Context()
	if _, err := srv.CreateScope(ctx, "read", "Read your data"); err != nil {
		t.Fatal(err)
	}
	app, _, err := srv.RegisterApp(ctx, oauth.AppSpec{Name: "TV", Type: gatehouse.Public, Scopes: []string{"read"}, Grants: []string{"device_code"}})
	if err != nil {
		t.Fatal(err)
	}
	da, err := srv.AuthorizeDevice(ctx, oauth.ClientAuth{ClientID: app.ClientID, Method: oauth.AuthNone}, "")
	if err != nil {
		t.Fatal(err)
	}
	enter := func(user int, code string) int {
		u, err := srv.Store().GetUserByUsername(ctx, fmt.Sprint("user", user))
		if err != nil {
			u, err = srv.CreateUser(ctx, fmt.Sprint("user", user), "a long enough password "+fmt.Sprint(user))
			if err != nil {
				t.Fatal(err)
			}
		}
		session, _, err := srv.SignIn(ctx, u, false)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequestWithContext(ctx, "POST", "https://as.example/device", strings.NewReader(url.Values{"user_code": {code}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.AddCookie(&http.Cookie{Name: "__Host-gatehouse_session", Value: session})
		req.RemoteAddr = fmt.Sprintf("203.0.113.%d:4444", user)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	wrong := "BBBB-BBBB"
	if wrong == da.UserCode {
		wrong = "CCCC-CCCC"
	}
	for i := range 10 {
		if code := enter(100+i, da.UserCode); code != 200 {
			t.Fatalf("right code %d: %d", i, code)
		}
	}
	for i := range 5 {
		if code := enter(i, wrong); code != http.StatusBadRequest {
			t.Fatalf("wrong code by user %d: %d, want 400", i, code)
		}
	}
	if code := enter(50, da.UserCode); code != http.StatusTooManyRequests {
		t.Fatalf("the right code by a fresh user at a fresh address once 5 wrong ones were guessed server-wide: %d, want 429", code)
	}
}

// User codes are forgiving to type (case, dash, spaces), and anything
// else is no code at all (refused without a lookup). Their drawing is
// tested in oauth (TestUserCodeDraws).
func TestUserCodes(t *testing.T) {
	for typed, want := range map[string]string{
		"BCDF-GHJK": "BCDFGHJK", "bcdf-ghjk": "BCDFGHJK", " bcdf ghjk ": "BCDFGHJK", "BCDFGHJK": "BCDFGHJK",
	} {
		if got, ok := oauth.NormalizeUserCode(typed); !ok || got != want {
			t.Errorf("NormalizeUserCode(%q) = %q, %v; want %q", typed, got, ok, want)
		}
	}
	for _, typed := range []string{"", "BCDF-GHJ", "BCDF-GHJKL", "BCDF-GHJA", "BCDF-GHJ0", "BCDF_GHJK", "ВCDF-GHJK", "BCDF-GHJK\x00"} {
		if got, ok := oauth.NormalizeUserCode(typed); ok {
			t.Errorf("NormalizeUserCode(%q) = %q, accepted", typed, got)
		}
	}
}
