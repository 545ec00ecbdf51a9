package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestTokenRevokeFromStdin: an operator revokes one leaked token, read
// from stdin, with DESIGN's cascade — an access token alone, a refresh
// token with its grant — and a second instance on the same database
// refuses it from the next request on. An unknown token says so and exits
// non-zero; a token on the command line is never accepted. Issue 11 item 2.
func TestTokenRevokeFromStdin(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		first := f.grantTokens(t, f.web, "https://client.example/cb", "read")
		second := f.grantTokens(t, f.web, "https://client.example/cb", "read")
		// A second instance on the same database (on SQLite, the same file).
		other := startServer(t, f.dir, vars, "--dev")

		out := f.cmd(t, first.access+"\n", "token", "revoke", "--token-stdin", "-o", "json")
		var r map[string]any
		if err := json.Unmarshal([]byte(out), &r); err != nil || r["status"] != "revoked" || r["kind"] != "access token" || r["client_id"] != f.web.ClientID || r["user"] != f.user {
			t.Fatalf("token revoke (access): %v: %s", err, out)
		}
		for _, base := range []string{f.srv.URL, other.URL} {
			resp := send(t, "GET", base+"/whoami", "", "", map[string]string{"Authorization": "Bearer " + first.access})
			wantError(t, "the revoked access token at "+base, resp, 401, "invalid_token")
		}
		// An access token alone: its refresh token still works.
		first = f.mustRefresh(t, f.web, first.refresh, nil)

		// A refresh token: the whole grant, its access tokens included.
		f.cmd(t, first.refresh+"\n", "token", "revoke", "--token-stdin")
		if f.introspectAs(t, f.web, first.access) {
			t.Error("revoking a refresh token left its grant's access token active")
		}
		_, resp := f.refresh(t, f.web, first.refresh, nil)
		wantError(t, "refresh after the operator revoked it", resp, 400, "invalid_grant")
		// The positive control: the user's other grant lives on.
		if !f.introspectAs(t, f.web, second.access) {
			t.Error("revoking one grant killed another")
		}
		e := f.event(t, "token_revoked", "--app", f.web.ClientID)
		if e.Actor != "operator" || e.User != f.user || e.Detail["token_kind"] != "refresh" {
			t.Errorf("token_revoked event: %+v", e)
		}

		// Revoking again (pasted with spaces) says so and succeeds; an
		// unknown token fails.
		if out := f.cmd(t, "  "+first.access+" \r\n", "token", "revoke", "--token-stdin"); !strings.Contains(out, "already") {
			t.Errorf("revoking a revoked token: %q", out)
		}
		for _, tt := range []struct {
			stdin string
			args  []string
			want  string
		}{
			{"gth_at_" + strings.Repeat("A", 43) + "\n", []string{"token", "revoke", "--token-stdin"}, ""},
			{"not-a-token\n", []string{"token", "revoke", "--token-stdin"}, "not a Gatehouse token"},
			{"", []string{"token", "revoke", "--token-stdin"}, "standard input is empty"},
			{second.access + "\n", []string{"token", "revoke"}, "--token-stdin"},
			{"", []string{"token", "revoke", second.access}, "unknown command"},
			{f.web.ClientSecret + "\n", []string{"token", "revoke", "--token-stdin"}, "credential delete"},
		} {
			code, out, errOut := runCmd(t, f.dir, vars, tt.stdin, tt.args...)
			if code == 0 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("%v with stdin %.12q: exit %d, %q, %q; want one line saying %q", tt.args, tt.stdin, code, out, errOut, tt.want)
			}
			if strings.Contains(errOut, second.access) || strings.Contains(errOut, f.web.ClientSecret) {
				t.Errorf("%v: the error repeats the secret", tt.args)
			}
		}
		if !f.introspectAs(t, f.web, second.access) {
			t.Error("a refused revocation revoked the token")
		}
	})
}

// TestRevokedAccessTokensAPI: the bearer of an access token revokes it
// with POST /api/v1/revoked_access_tokens and the token in the
// Authorization header; a token in the query string or the body is
// refused with a clear error and revokes nothing (DESIGN invariant 7,
// O21-5.1-b), every instance refuses the revoked token from the next
// request on, and the metadata document advertises the endpoint. Issue 11
// item 2.
func TestRevokedAccessTokensAPI(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		other := startServer(t, f.dir, vars, "--dev")
		user := f.grantTokens(t, f.web, "https://client.example/cb", "read")
		service := f.ccToken(t)

		md := send(t, "GET", f.srv.URL+"/.well-known/oauth-authorization-server", "", "", nil)
		endpoint, _ := md.body["gatehouse_revoked_access_tokens_endpoint"].(string)
		if endpoint != f.srv.URL+"/api/v1/revoked_access_tokens" {
			t.Fatalf("metadata advertises %q", endpoint)
		}
		bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
		for _, tt := range []struct {
			name, target, ct, body string
			header                 map[string]string
		}{
			{"token in the query", endpoint + "?access_token=" + url.QueryEscape(user.access), "", "", nil},
			{"token= in the query", endpoint + "?token=" + url.QueryEscape(user.access), "", "", nil},
			{"token in a form body", endpoint, formCT, "token=" + url.QueryEscape(user.access), nil},
			{"access_token in a form body", endpoint, formCT, "access_token=" + url.QueryEscape(user.access), nil},
			{"token in a JSON body", endpoint, "application/json", `{"token":"` + user.access + `"}`, nil},
			{"bare token as the body", endpoint, "text/plain", user.access, nil},
			{"header and query", endpoint + "?access_token=" + url.QueryEscape(service), "", "", bearer(user.access)},
			{"header and body", endpoint, formCT, "token=" + url.QueryEscape(service), bearer(user.access)},
		} {
			r := send(t, "POST", tt.target, tt.ct, tt.body, tt.header)
			wantError(t, tt.name, r, 400, "invalid_request")
			if !strings.Contains(r.raw, "Authorization header") {
				t.Errorf("%s: the error does not say where the token goes: %s", tt.name, r.raw)
			}
		}
		if !f.introspectAs(t, f.web, user.access) || !f.introspectAs(t, f.web, service) {
			t.Fatal("a refused request revoked a token")
		}
		wantError(t, "no token", send(t, "POST", endpoint, "", "", nil), 401, "invalid_request")
		wantError(t, "a refresh token as the bearer", send(t, "POST", endpoint, "", "", bearer(user.refresh)), 401, "invalid_token")
		wantError(t, "an unknown token", send(t, "POST", endpoint, "", "", bearer("gth_at_"+strings.Repeat("B", 43))), 401, "invalid_token")
		if r := send(t, "GET", endpoint, "", "", bearer(user.access)); r.status != 405 {
			t.Errorf("GET: %d, want 405", r.status)
		}
		f.mustRefresh(t, f.web, user.refresh, nil) // the refresh token was not revoked either

		// The bearer revokes its own token, and only it.
		if r := send(t, "POST", endpoint, "", "", bearer(user.access)); r.status != 200 || r.body["revoked"] != true {
			t.Fatalf("revoke own token: %d %s", r.status, r.raw)
		}
		for _, base := range []string{f.srv.URL, other.URL} {
			wantError(t, "the revoked token at "+base, send(t, "GET", base+"/whoami", "", "", bearer(user.access)), 401, "invalid_token")
		}
		wantError(t, "revoking it again", send(t, "POST", other.URL+"/api/v1/revoked_access_tokens", "", "", bearer(user.access)), 401, "invalid_token")
		if !f.introspectAs(t, f.web, service) {
			t.Error("revoking one token revoked another")
		}
		// A client credentials token revokes itself too, at the other instance.
		if r := send(t, "POST", other.URL+"/api/v1/revoked_access_tokens", "", "", bearer(service)); r.status != 200 {
			t.Fatalf("revoke own client credentials token: %d %s", r.status, r.raw)
		}
		if f.introspectAs(t, f.web, service) {
			t.Error("the revoked client credentials token is active")
		}
		e := f.event(t, "token_revoked", "--app", f.web.ClientID)
		if e.Actor != "user" || e.User != f.user || e.Address != "127.0.0.1" || !strings.Contains(e.Detail["how"].(string), "bearer") {
			t.Errorf("token_revoked event: %+v", e)
		}
	})
}

// 'token revoke' takes any kind of token: an unused authorization code
// stops with everything issued from it (redeeming it then fails), and a
// login session id ends that session (its cookie no longer signs in);
// the same browser's other session — the positive control — is untouched.
func TestTokenRevokeCodeAndSession(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	cfg := f.config(f.web, "https://client.example/cb", "read")
	code, verifier := f.code(t, b, cfg)
	out := f.cmd(t, code+"\n", "token", "revoke", "--token-stdin")
	if !strings.Contains(out, "authorization code") {
		t.Errorf("token revoke of a code: %q", out)
	}
	r := f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}})
	wantError(t, "redeeming a revoked code", r, 400, "invalid_grant")

	victim, other := f.signedIn(t), f.signedIn(t)
	session := func(br *browser) string {
		u, _ := url.Parse(f.srv.URL)
		for _, c := range br.c.Jar.Cookies(u) {
			if c.Name == "gatehouse_session" {
				return c.Value
			}
		}
		t.Fatal("no session cookie")
		return ""
	}
	if out := f.cmd(t, session(victim)+"\n", "token", "revoke", "--token-stdin"); !strings.Contains(out, "session") {
		t.Errorf("token revoke of a session: %q", out)
	}
	if p := victim.get("/account/apps"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login") {
		t.Errorf("the revoked session still signs in: %d %q", p.status, p.location)
	}
	if p := other.get("/account/apps"); p.status != http.StatusOK {
		t.Errorf("another session was ended too: %d %q", p.status, p.location)
	}
}
