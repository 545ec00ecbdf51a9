package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestAuthorizationCodeFlowEndToEnd plays a browser through login and
// consent with golang.org/x/oauth2 and its PKCE helpers as the app: code,
// tokens, a protected call, two refreshes, revocation.
func TestAuthorizationCodeFlowEndToEnd(t *testing.T) {
	f := newFlowFixture(t)
	secrets := []string{f.password, f.web.ClientSecret}
	for _, app := range []createdApp{f.web, f.spa} {
		redirect := "https://client.example/cb"
		if app == f.spa {
			redirect = "https://spa.example/cb"
		}
		cfg := f.config(app, redirect, "read", "write")
		b := newBrowser(t, f.srv.URL)
		authURL, verifier := f.authURL(cfg, "state-123")
		q := callback(t, b.authorize(authURL, f.user, f.password))
		if q.Get("state") != "state-123" || q.Get("iss") != f.srv.URL || !strings.HasPrefix(q.Get("code"), "gth_ac_") {
			t.Fatalf("callback %v", q)
		}
		if !strings.Contains(b.get("/").body, f.user) {
			t.Fatal("the browser has no session after login")
		}
		for _, c := range b.c.Jar.Cookies(mustURL(t, f.srv.URL)) {
			secrets = append(secrets, c.Value) // the session id
		}
		secrets = append(secrets, q.Get("code"))
		tok, err := cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if tok.RefreshToken == "" || tok.Extra("scope") != "read write" {
			t.Fatalf("token response: refresh %t scope %v", tok.RefreshToken != "", tok.Extra("scope"))
		}
		who := whoami(t, f.srv.URL, tok.AccessToken)
		if who["username"] != f.user || who["client_id"] != app.ClientID || !strings.HasPrefix(who["sub"].(string), "user:") {
			t.Fatalf("whoami %v", who)
		}

		// Two refreshes: each rotates the refresh token.
		seen := map[string]bool{tok.RefreshToken: true}
		var accessTokens []string
		accessTokens = append(accessTokens, tok.AccessToken)
		for i := range 2 {
			tok.Expiry = time.Now().Add(-time.Minute)
			next, err := cfg.TokenSource(t.Context(), tok).Token()
			if err != nil {
				t.Fatalf("refresh %d: %v", i+1, err)
			}
			if seen[next.RefreshToken] || next.AccessToken == tok.AccessToken {
				t.Fatalf("refresh %d did not rotate", i+1)
			}
			seen[next.RefreshToken] = true
			accessTokens = append(accessTokens, next.AccessToken)
			tok = next
		}
		secrets = append(secrets, accessTokens...)
		for rt := range seen {
			secrets = append(secrets, rt)
		}

		// Revoking the refresh token ends the grant: every access token dies.
		revoke(t, f.srv.URL, app, tok.RefreshToken, http.StatusOK)
		for i, at := range accessTokens {
			if status := whoamiStatus(t, f.srv.URL, at); status != http.StatusUnauthorized {
				t.Fatalf("access token %d still works after the grant's refresh token was revoked: %d", i, status)
			}
		}
		tok.Expiry = time.Now().Add(-time.Minute)
		if _, err := cfg.TokenSource(t.Context(), tok).Token(); err == nil {
			t.Fatal("a revoked refresh token refreshed")
		}
	}
	// DESIGN invariants 6 and 8: no code, token, session id or password in
	// the database files or the log, in any encoding.
	if code := f.srv.stop(); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	assertNoSecretsIn(t, "the database files", readDir(t, f.dir), secrets[1:])
	assertNoSecretsIn(t, "the server log", []byte(f.srv.Stderr.String()), secrets[1:])
	for _, where := range [][]byte{readDir(t, f.dir), []byte(f.srv.Stderr.String())} {
		if strings.Contains(string(where), f.password) {
			t.Fatal("the user's password is stored or logged")
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func whoami(t *testing.T, base, token string) map[string]any {
	t.Helper()
	r := send(t, "GET", base+"/whoami", "", "", map[string]string{"Authorization": "Bearer " + token})
	if r.status != 200 {
		t.Fatalf("whoami: %d %s", r.status, r.raw)
	}
	return r.body
}

func whoamiStatus(t *testing.T, base, token string) int {
	t.Helper()
	return send(t, "GET", base+"/whoami", "", "", map[string]string{"Authorization": "Bearer " + token}).status
}

// revoke revokes a token as app (a public app by client_id).
func revoke(t *testing.T, base string, app createdApp, token string, want int) {
	t.Helper()
	form := url.Values{"token": {token}}
	var h map[string]string
	if app.ClientSecret != "" {
		h = map[string]string{"Authorization": basicAuth(app.ClientID, app.ClientSecret)}
	} else {
		form.Set("client_id", app.ClientID)
	}
	if r := send(t, "POST", base+"/revoke", formCT, form.Encode(), h); r.status != want {
		t.Fatalf("revoke: %d %s, want %d", r.status, r.raw, want)
	}
}
