package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// fixture is a running dev server with a scope, a confidential app allowed
// client_credentials, a second confidential app and a public app.
type fixture struct {
	srv    *testServer
	dir    string
	app    createdApp
	other  createdApp
	public createdApp
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, srv: startServer(t, dir, nil, "--dev")}
	f.app = createApp(t, dir, "--name", "App", "--type", "confidential", "--scope", "read,write", "--default-scope", "read", "--grant", "client_credentials")
	f.other = createApp(t, dir, "--name", "Other", "--type", "confidential", "--scope", "read", "--grant", "client_credentials")
	f.public = createApp(t, dir, "--name", "SPA", "--type", "public", "--scope", "read", "--redirect-uri", "https://spa.example/cb")
	return f
}

// token gets a client credentials token for app.
func (f *fixture) token(t *testing.T, a createdApp, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	status, body := postForm(t, f.srv.URL+"/token", a.ClientID, a.ClientSecret, form)
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	return body["access_token"].(string)
}

func (f *fixture) active(t *testing.T, caller createdApp, token string) map[string]any {
	t.Helper()
	return introspectAt(t, f.srv.URL, caller, token)
}

// introspectAt introspects token at the server at base as caller and
// returns the whole answer, which must be a 200.
func introspectAt(t *testing.T, base string, caller createdApp, token string) map[string]any {
	t.Helper()
	status, body := postForm(t, base+"/introspect", caller.ClientID, caller.ClientSecret, url.Values{"token": {token}})
	if status != 200 {
		t.Fatalf("introspect: %d %v", status, body)
	}
	return body
}

type rawResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// send makes any request and decodes a JSON body if there is one.
func send(t *testing.T, method, target, contentType, body string, header map[string]string) rawResponse {
	t.Helper()
	return sendVia(t, http.DefaultClient, method, target, contentType, body, header)
}

// sendVia is send through client c (from another address, say).
func sendVia(t *testing.T, c *http.Client, method, target, contentType, body string, header map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := rawResponse{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r
}

func wantError(t *testing.T, name string, r rawResponse, status int, code string) {
	t.Helper()
	if r.status != status || r.body["error"] != code {
		t.Fatalf("%s: got %d %s, want %d %s", name, r.status, r.raw, status, code)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("%s: Cache-Control %q, want no-store (O21-3.2.3-a)", name, cc)
	}
}

// DESIGN invariant 5; O21-8.1-a; BCP-2.5-a: a public app never has a secret
// and can never authenticate with one; a confidential app must authenticate.
func TestInvariant5PublicAppsNeverUseSecrets(t *testing.T) {
	f := newFixture(t)
	if f.public.ClientSecret != "" {
		t.Fatal("a public app was given a client_secret")
	}
	cc := url.Values{"grant_type": {"client_credentials"}}

	// The public app presents the confidential app's secret, by either method.
	r := send(t, "POST", f.srv.URL+"/token", formCT, cc.Encode(), map[string]string{"Authorization": basicAuth(f.public.ClientID, f.app.ClientSecret)})
	wantError(t, "public app with Basic", r, 401, "invalid_client")
	post := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.public.ClientID}, "client_secret": {f.app.ClientSecret}}
	wantError(t, "public app with client_secret_post", send(t, "POST", f.srv.URL+"/token", formCT, post.Encode(), nil), 401, "invalid_client")

	// Without a secret it is identified, and client_credentials is refused.
	none := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.public.ClientID}}
	wantError(t, "public app client_credentials", send(t, "POST", f.srv.URL+"/token", formCT, none.Encode(), nil), 400, "unauthorized_client")

	// A confidential app must authenticate: no secret, a wrong one, another app's.
	none.Set("client_id", f.app.ClientID)
	wantError(t, "confidential app without a secret", send(t, "POST", f.srv.URL+"/token", formCT, none.Encode(), nil), 401, "invalid_client")
	r = send(t, "POST", f.srv.URL+"/token", formCT, cc.Encode(), map[string]string{"Authorization": basicAuth(f.app.ClientID, f.other.ClientSecret)})
	wantError(t, "another app's secret", r, 401, "invalid_client")
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("401 without a Basic challenge: %q", r.header.Get("WWW-Authenticate"))
	}

	// Registration refuses a public app that asks for client_credentials.
	code, _, errOut := runCmd(t, f.dir, nil, "", "app", "create", "--name", "X", "--type", "public", "--grant", "client_credentials")
	if code == 0 || !strings.Contains(errOut, "public app cannot use client_credentials") {
		t.Fatalf("public client_credentials app registered: exit %d %s", code, errOut)
	}
}

// DESIGN invariant 6: secrets and tokens carry a type prefix and a checksum;
// a typo is caught without a lookup and never authenticates.
func TestInvariant6PrefixedCheckedSecrets(t *testing.T) {
	f := newFixture(t)
	if !strings.HasPrefix(f.app.ClientSecret, "gth_cs_") || len(f.app.ClientSecret) != 56 {
		t.Fatalf("client secret has no gth_cs_ prefix or the wrong length (%d)", len(f.app.ClientSecret))
	}
	tok := f.token(t, f.app, "")
	if !strings.HasPrefix(tok, "gth_at_") || len(tok) != 56 {
		t.Fatalf("access token has no gth_at_ prefix or the wrong length (%d)", len(tok))
	}
	typo := func(s string) string { // change one character of the random part
		b := []byte(s)
		if b[20] == 'x' {
			b[20] = 'y'
		} else {
			b[20] = 'x'
		}
		return string(b)
	}
	r := send(t, "POST", f.srv.URL+"/token", formCT, "grant_type=client_credentials", map[string]string{"Authorization": basicAuth(f.app.ClientID, typo(f.app.ClientSecret))})
	wantError(t, "secret with a broken checksum", r, 401, "invalid_client")
	if body := f.active(t, f.app, typo(tok)); len(body) != 1 || body["active"] != false {
		t.Fatalf("a token with a broken checksum introspects as %v", body)
	}
	// The access token is not a client secret, and vice versa.
	r = send(t, "POST", f.srv.URL+"/token", formCT, "grant_type=client_credentials", map[string]string{"Authorization": basicAuth(f.app.ClientID, tok)})
	wantError(t, "access token as a secret", r, 401, "invalid_client")
	if body := f.active(t, f.app, f.app.ClientSecret); body["active"] != false {
		t.Fatal("a client secret introspects as an active token")
	}
}

// Scopes: exactly the requested ones when all are allowed, the defaults
// when omitted, invalid_scope otherwise.
func TestClientCredentialsScopes(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		scope, want, err string
	}{
		{"", "read", ""},
		{"write", "write", ""},
		{"read write", "read write", ""},
		{"read admin", "", "invalid_scope"},
		{"rea", "", "invalid_scope"},
		{"*", "", "invalid_scope"},
	}
	for _, c := range cases {
		form := url.Values{"grant_type": {"client_credentials"}}
		if c.scope != "" {
			form.Set("scope", c.scope)
		}
		status, body := postForm(t, f.srv.URL+"/token", f.app.ClientID, f.app.ClientSecret, form)
		if c.err != "" {
			if status != 400 || body["error"] != c.err {
				t.Errorf("scope %q: %d %v, want %s", c.scope, status, body, c.err)
			}
			continue
		}
		if status != 200 || body["scope"] != c.want {
			t.Errorf("scope %q: %d %v, want scope %q", c.scope, status, body, c.want)
		}
	}
}

const formCT = "application/x-www-form-urlencoded"

func basicAuth(id, secret string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return r.Header.Get("Authorization")
}
