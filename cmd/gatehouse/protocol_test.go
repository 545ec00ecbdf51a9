package main

import (
	"github.com/gatehouse/gatehouse/secret"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// INT-4-a, INT-2.2-a: a caller sees only its own tokens (a resource server
// sees all); anything else is exactly {"active":false}.
func TestIntrospectionShowsNoDetailsToOthers(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, f.app, "read")
	if body := f.active(t, f.app, tok); body["active"] != true {
		t.Fatalf("own token: %v", body)
	}
	for name, token := range map[string]string{
		"another app's token": tok,
		"unknown token":       secret.New(secret.AccessToken),
		"broken checksum":     "gth_at_" + strings.Repeat("0", 49),
		"random string":       "hello",
	} {
		if body := f.active(t, f.other, token); len(body) != 1 || body["active"] != false {
			t.Errorf("%s: %v, want exactly {\"active\":false}", name, body)
		}
	}
	// A public app cannot introspect (RFC 7662 §2.1: authorization required).
	form := url.Values{"token": {tok}, "client_id": {f.public.ClientID}}
	wantError(t, "public introspection", send(t, "POST", f.srv.URL+"/introspect", formCT, form.Encode(), nil), 401, "invalid_client")
}

// REV-2.1-a, REV-2.2-a: a client revokes only its own tokens; unknown and
// malformed tokens and any hint answer 200.
func TestRevocationRules(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, f.app, "")
	status, body := postForm(t, f.srv.URL+"/revoke", f.other.ClientID, f.other.ClientSecret, url.Values{"token": {tok}})
	if status != 400 || body["error"] != "unauthorized_client" {
		t.Fatalf("another app revoking: %d %v", status, body)
	}
	if f.active(t, f.app, tok)["active"] != true {
		t.Fatal("a refused revocation revoked the token")
	}
	for _, form := range []url.Values{
		{"token": {"not-a-token"}},
		{"token": {"gth_at_" + strings.Repeat("0", 49)}},
		{"token": {secret.New(secret.AccessToken)}},
		{"token": {tok}, "token_type_hint": {"bogus"}},
		{"token": {tok}, "token_type_hint": {"refresh_token"}},
		{"token": {tok}}, // already revoked: still 200
	} {
		if status, body := postForm(t, f.srv.URL+"/revoke", f.app.ClientID, f.app.ClientSecret, form); status != 200 {
			t.Fatalf("revoke %v: %d %v", form, status, body)
		}
	}
	if f.active(t, f.app, tok)["active"] != false {
		t.Fatal("the token is active after revocation with a wrong hint")
	}
}

// DESIGN revocation cascade, "App deleted": everything of the app stops at once.
func TestDeletingAnAppKillsItsTokensAndSecret(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, f.app, "")
	kept := f.token(t, f.other, "")
	// Issue 11 item 5: without --yes, and with no terminal to confirm on
	// (even with the client_id piped in), nothing is deleted.
	code, out, errOut := runCmd(t, f.dir, nil, f.app.ClientID+"\n", "app", "delete", f.app.ClientID)
	if code == 0 || out != "" || !strings.Contains(errOut, "refused without --yes") {
		t.Fatalf("app delete without --yes on a pipe: exit %d, %q, %q", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, f.dir, nil, "", "app", "show", f.app.ClientID); code != 0 {
		t.Fatalf("the app is gone after a refused delete: %s", errOut)
	}
	if code, _, errOut := runCmd(t, f.dir, nil, "", "app", "delete", f.app.ClientID, "--yes"); code != 0 {
		t.Fatalf("app delete: %s", errOut)
	}
	rs := createApp(t, f.dir, "--name", "RS", "--type", "confidential", "--resource-server", "--grant", "client_credentials")
	if body := f.active(t, rs, tok); body["active"] != false {
		t.Fatalf("a deleted app's token is %v", body)
	}
	if body := f.active(t, rs, kept); body["active"] != true {
		t.Fatal("deleting one app revoked another app's token")
	}
	status, _ := postForm(t, f.srv.URL+"/token", f.app.ClientID, f.app.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	if status != 401 {
		t.Fatalf("a deleted app's secret got %d", status)
	}
	if code, _, errOut := runCmd(t, f.dir, nil, "", "app", "delete", f.app.ClientID, "--yes"); code == 0 || !strings.Contains(errOut, "no app") {
		t.Fatalf("deleting twice: exit %d %s", code, errOut)
	}
}

// META-2-a, META-3.3-a, ISS-2.3-a, BCP-2.4-a, BCP-2.1.2-a: metadata lists
// exactly what is supported: no password or implicit grant, only code.
func TestMetadata(t *testing.T) {
	f := newFixture(t)
	r := send(t, "GET", f.srv.URL+"/.well-known/oauth-authorization-server", "", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("metadata: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r.body["issuer"] != f.srv.URL {
		t.Fatalf("issuer %v, want %s", r.body["issuer"], f.srv.URL)
	}
	for ep, path := range map[string]string{"token_endpoint": "/token", "introspection_endpoint": "/introspect", "revocation_endpoint": "/revoke", "device_authorization_endpoint": "/device_authorization"} {
		if r.body[ep] != f.srv.URL+path {
			t.Errorf("%s = %v, want %s", ep, r.body[ep], f.srv.URL+path)
		}
	}
	for field, want := range map[string][]string{
		"grant_types_supported":                 {"authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
		"response_types_supported":              {"code"},
		"code_challenge_methods_supported":      {"S256"},
	} {
		if got := strs(r.body[field]); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
	if r.body["authorization_response_iss_parameter_supported"] != true || r.body["authorization_endpoint"] != f.srv.URL+"/authorize" {
		t.Errorf("iss support %v, authorization_endpoint %v", r.body["authorization_response_iss_parameter_supported"], r.body["authorization_endpoint"])
	}
	if !slices.Contains(strs(r.body["scopes_supported"]), "read") {
		t.Fatal("scopes_supported lacks a registered scope")
	}
	// Every advertised endpoint answers as a protocol endpoint.
	for _, ep := range []string{"token_endpoint", "introspection_endpoint", "revocation_endpoint"} {
		if resp := send(t, "POST", r.body[ep].(string), formCT, "", nil); resp.status != 401 && resp.status != 400 {
			t.Errorf("%s answered %d", ep, resp.status)
		}
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// DESIGN invariant 8: nothing secret is logged, also on failures and on a
// token sent in a URL.
func TestInvariant8NothingSecretIsLogged(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, nil, "--dev", "--log-level", "debug", "--log-format", "json")
	app := createApp(t, dir, "--name", "App", "--type", "confidential", "--scope", "read", "--grant", "client_credentials")
	f := &fixture{srv: srv, dir: dir, app: app}
	tok := f.token(t, app, "")
	wrongSecret := secret.New(secret.ClientSecret) // well-formed, never issued
	send(t, "POST", srv.URL+"/token", formCT, "grant_type=client_credentials", map[string]string{"Authorization": basicAuth(app.ClientID, wrongSecret)})
	send(t, "POST", srv.URL+"/token?client_secret="+url.QueryEscape(app.ClientSecret), formCT, "grant_type=client_credentials", nil)
	send(t, "GET", srv.URL+"/introspect?token="+tok, "", "", nil)
	// A client that swaps client_id and client_secret.
	swapped := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientSecret}, "client_secret": {app.ClientID}}
	send(t, "POST", srv.URL+"/token", formCT, swapped.Encode(), nil)
	send(t, "GET", srv.URL+"/revoke?token="+tok, "", "", nil)
	send(t, "POST", srv.URL+"/token", formCT, "grant_type=client_credentials&client_id="+app.ClientID+"&client_secret="+url.QueryEscape(wrongSecret[:30]), nil)
	postForm(t, srv.URL+"/introspect", app.ClientID, app.ClientSecret, url.Values{"token": {tok}})
	postForm(t, srv.URL+"/revoke", app.ClientID, app.ClientSecret, url.Values{"token": {tok}})
	srv.stop()
	logs := srv.Stderr.String()
	if !strings.Contains(logs, `"client authentication failed"`) || !strings.Contains(logs, `"request_id"`) {
		t.Fatalf("the failures were not logged with request ids:\n%s", logs)
	}
	assertNoSecretsIn(t, "the server log", []byte(logs), []string{app.ClientSecret, tok, wrongSecret})
	if strings.Contains(logs, wrongSecret[:30]) {
		t.Fatal("a partial wrong secret was logged")
	}
}
