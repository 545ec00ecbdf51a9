package main

import (
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// exchange redeems a code at the token endpoint with raw parameters, as app.
func (f *flowFixture) exchange(t *testing.T, app createdApp, form url.Values) rawResponse {
	t.Helper()
	form.Set("grant_type", "authorization_code")
	var h map[string]string
	if app.ClientSecret != "" {
		h = map[string]string{"Authorization": basicAuth(app.ClientID, app.ClientSecret)}
	} else {
		form.Set("client_id", app.ClientID)
	}
	return send(t, "POST", f.srv.URL+"/token", formCT, form.Encode(), h)
}

func (f *flowFixture) introspect(t *testing.T, token string) bool {
	t.Helper()
	status, body := postForm(t, f.srv.URL+"/introspect", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {token}})
	if status != 200 {
		t.Fatalf("introspect: %d %v", status, body)
	}
	return body["active"] == true
}

// R6749-4.1.2-a: a code is redeemed once; a replay is refused and revokes
// every token issued from it.
func TestR6749_4_1_2_a_CodeReplayRevokesItsTokens(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	code, verifier := f.code(t, b, f.config(f.web, "https://client.example/cb", "read"))
	first := f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}})
	if first.status != 200 {
		t.Fatalf("first redemption: %d %s", first.status, first.raw)
	}
	at, rt := first.body["access_token"].(string), first.body["refresh_token"].(string)
	wantError(t, "replay", f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}}), 400, "invalid_grant")
	// Introspection is by the web app itself, which owns the tokens.
	if f.introspect(t, at) || f.introspect(t, rt) {
		t.Fatal("tokens issued from a replayed code are still active")
	}
}

// O21-7.5.2-a: a replay with a wrong verifier (or by another app) is refused
// without revoking anything: it could be anyone.
func TestO21_7_5_2_a_BadReplayRevokesNothing(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	code, verifier := f.code(t, b, f.config(f.web, "https://client.example/cb", "read"))
	first := f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}})
	at := first.body["access_token"].(string)
	wantError(t, "replay with a wrong verifier", f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {oauth2.GenerateVerifier()}}), 400, "invalid_grant")
	wantError(t, "replay by another app", f.exchange(t, f.tenant, url.Values{"code": {code}, "code_verifier": {verifier}}), 400, "invalid_grant")
	if !f.introspect(t, at) {
		t.Fatal("a bad replay revoked the tokens")
	}
}

// O21-4.1.2-b: a code is bound to its app; BCP-2.1.1-a, BCP-2.1.1-b: and to
// its PKCE challenge; O21-10.2-a: and to its redirect URI.
func TestCodeBindings(t *testing.T) {
	f := newFlowFixture(t)
	cases := []struct {
		name   string
		app    *createdApp
		form   func(verifier string) url.Values
		status int
		code   string
	}{
		{"O21-4.1.2-b another app", &f.tenant, func(v string) url.Values { return url.Values{"code_verifier": {v}} }, 400, "invalid_grant"},
		{"O21-4.1.2-b public app with the verifier", &f.spa, func(v string) url.Values { return url.Values{"code_verifier": {v}} }, 400, "invalid_grant"},
		{"BCP-2.1.1-a wrong verifier", &f.web, func(string) url.Values { return url.Values{"code_verifier": {oauth2.GenerateVerifier()}} }, 400, "invalid_grant"},
		{"BCP-2.1.1-b no verifier", &f.web, func(string) url.Values { return url.Values{} }, 400, "invalid_request"},
		{"BCP-2.1.1-b 42-character verifier", &f.web, func(v string) url.Values { return url.Values{"code_verifier": {v[:42]}} }, 400, "invalid_request"},
		{"BCP-2.1.1-b 129-character verifier", &f.web, func(v string) url.Values { return url.Values{"code_verifier": {strings.Repeat("a", 129)}} }, 400, "invalid_request"},
		{"BCP-2.1.1-b illegal characters", &f.web, func(v string) url.Values { return url.Values{"code_verifier": {v[:42] + "+"}} }, 400, "invalid_request"},
		{"O21-10.2-a other redirect_uri", &f.web, func(v string) url.Values {
			return url.Values{"code_verifier": {v}, "redirect_uri": {"https://client.example/other"}}
		}, 400, "invalid_grant"},
		{"confidential app without authentication", nil, func(v string) url.Values {
			return url.Values{"code_verifier": {v}, "client_id": {f.web.ClientID}}
		}, 401, "invalid_client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBrowser(t, f.srv.URL)
			code, verifier := f.code(t, b, f.config(f.web, "https://client.example/cb", "read"))
			form := c.form(verifier)
			form.Set("code", code)
			var r rawResponse
			if c.app == nil {
				form.Set("grant_type", "authorization_code")
				r = send(t, "POST", f.srv.URL+"/token", formCT, form.Encode(), nil)
			} else {
				r = f.exchange(t, *c.app, form)
			}
			wantError(t, c.name, r, c.status, c.code)
		})
	}
	// The identical redirect_uri and the right verifier work (O21-10.2-a).
	b := newBrowser(t, f.srv.URL)
	code, verifier := f.code(t, b, f.config(f.web, "https://client.example/cb", "read"))
	if r := f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}, "redirect_uri": {"https://client.example/cb"}}); r.status != 200 {
		t.Fatalf("the right redemption: %d %s", r.status, r.raw)
	}
}

// DESIGN invariant 2: of many concurrent redemptions of one code at most one
// gets tokens, and since the others are replays by the rightful app, nothing
// issued from the code stays active, whatever the interleaving.
func TestConcurrentRedemptionsOneWins(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	code, verifier := f.code(t, b, f.config(f.web, "https://client.example/cb", "read"))
	var wg sync.WaitGroup
	results := make([]rawResponse, 8)
	for i := range results {
		wg.Go(func() {
			results[i] = f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}})
		})
	}
	wg.Wait()
	wins := 0
	for _, r := range results {
		switch {
		case r.status == 200:
			wins++
			if f.introspect(t, r.body["access_token"].(string)) || f.introspect(t, r.body["refresh_token"].(string)) {
				t.Fatal("a token issued from a replayed code is still active")
			}
		case r.status != 400 || r.body["error"] != "invalid_grant":
			t.Fatalf("status %d %s", r.status, r.raw)
		}
	}
	if wins > 1 {
		t.Fatalf("%d redemptions of one code succeeded", wins)
	}
}
