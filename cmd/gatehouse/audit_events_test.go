package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// countKind counts the events of one kind in the audit log.
func (f *flowFixture) countKind(t *testing.T, kind string) (int, []auditEvent) {
	t.Helper()
	n, of := 0, []auditEvent{}
	for _, e := range f.events(t, "--limit", "1000") {
		if e.Kind == kind {
			n++
			of = append(of, e)
		}
	}
	return n, of
}

// Issue 11 item 3: repeated failed sign-ins and client authentications
// are audited once per lockout, not once per failure; the failures before
// the limit runs out make no event (the positive control that the count is
// not of failures).
func TestLockoutsAuditedOncePerLockout(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	wrong := url.Values{"username": {f.user}, "password": {"wrong " + f.password}}
	for range 5 { // the account-and-address limit holds 5
		if p := b.post("/login", wrong); p.status != 401 {
			t.Fatalf("a wrong password before the limit: %d", p.status)
		}
	}
	if n, _ := f.countKind(t, "login_throttled"); n != 0 {
		t.Fatalf("%d login_throttled events before any lockout", n)
	}
	for range 8 {
		if p := b.post("/login", wrong); p.status != 429 {
			t.Fatalf("a wrong password past the limit: %d", p.status)
		}
	}
	n, es := f.countKind(t, "login_throttled")
	if n != 1 || es[0].User != f.user || es[0].Address != "127.0.0.1" || es[0].Detail["limit"] != "account_address" || es[0].Actor != "server" {
		t.Fatalf("after one lockout of 8 refusals: %d login_throttled events %+v, want 1 naming %s, the address and the limit", n, es, f.user)
	}
	for _, e := range f.events(t) {
		for _, v := range e.Detail {
			if s, ok := v.(string); ok && s == wrong.Get("password") {
				t.Fatal("the audit log holds the typed password")
			}
		}
	}

	bad := wrongSecretFor(f.cc, f.web)
	cc := url.Values{"grant_type": {"client_credentials"}}
	for range 9 { // the client-and-address limit holds 10; the 10th failure empties it
		wantError(t, "a wrong secret", f.postFrom(t, "127.0.0.31", "/token", clientForm(bad, cc)), 401, "invalid_client")
	}
	if n, _ := f.countKind(t, "client_auth_throttled"); n != 0 {
		t.Fatalf("%d client_auth_throttled events before any lockout", n)
	}
	wantError(t, "the failure that empties the limit", f.postFrom(t, "127.0.0.31", "/token", clientForm(bad, cc)), 401, "invalid_client")
	for range 10 {
		wantError(t, "a wrong secret past the limit", f.postFrom(t, "127.0.0.31", "/token", clientForm(bad, cc)), 429, "invalid_client")
	}
	n, es = f.countKind(t, "client_auth_throttled")
	if n != 1 || es[0].Address != "127.0.0.31" || es[0].Detail["client_id"] != f.cc.ClientID || es[0].Actor != "app" || es[0].ClientID != f.cc.ClientID {
		t.Fatalf("after one client lockout: %d client_auth_throttled events %+v, want 1 with the address and client_id", n, es)
	}
}

// Issue 11 item 3: the events of the protocol are in the audit log with
// their actor, app, user and address — a replayed code, a reused refresh
// token, an RFC 7009 revocation (by whom and how), a new credential — and
// a refused request that changes nothing records nothing (the control).
func TestProtocolEventsAudited(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	code, verifier := f.code(t, b, f.config(f.web, "https://client.example/cb", "read"))
	form := url.Values{"code": {code}, "code_verifier": {verifier}}
	if r := f.exchange(t, f.web, form); r.status != 200 {
		t.Fatalf("redeem: %d %s", r.status, r.raw)
	}
	wantError(t, "the code again", f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}}), 400, "invalid_grant")
	if e := f.event(t, "code_replay"); e.ClientID != f.web.ClientID || e.User != f.user || e.Address != "127.0.0.1" {
		t.Errorf("code_replay event: %+v", e)
	}

	spa := f.grantTokens(t, f.spa, spaCB, "read")
	t1 := f.mustRefresh(t, f.spa, spa.refresh, nil)
	f.mustRefresh(t, f.spa, t1.refresh, nil) // the successor is used: presenting the first again is theft
	_, r := f.refresh(t, f.spa, spa.refresh, nil)
	wantError(t, "reuse", r, 400, "invalid_grant")
	if e := f.event(t, "refresh_token_reuse"); e.ClientID != f.spa.ClientID || e.User != f.user || e.Actor != "server" {
		t.Errorf("refresh_token_reuse event: %+v", e)
	}

	web := f.grantTokens(t, f.web, "https://client.example/cb", "read")
	if n, _ := f.countKind(t, "token_revoked"); n != 0 {
		t.Fatalf("%d token_revoked events before any revocation", n)
	}
	status, _ := postForm(t, f.srv.URL+"/revoke", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {web.access}})
	if status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	e := f.event(t, "token_revoked")
	if e.Actor != "app" || e.ClientID != f.web.ClientID || e.User != f.user || e.Detail["token_kind"] != "access" ||
		!strings.Contains(e.Detail["how"].(string), "RFC 7009") {
		t.Errorf("token_revoked event: %+v", e)
	}
	// Revoking it again changes nothing and records nothing.
	postForm(t, f.srv.URL+"/revoke", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {web.access}})
	if n, _ := f.countKind(t, "token_revoked"); n != 1 {
		t.Errorf("%d token_revoked events after revoking one token twice, want 1", n)
	}

	f.cmd(t, "", "credential", "create", "--app", f.web.ClientID, "--name", "ci")
	if e := f.event(t, "credential_created", "--app", f.web.ClientID); e.Actor != "operator" || e.Detail["name"] != "ci" || e.Address != "" {
		t.Errorf("credential_created event: %+v", e)
	}
}

// Issue 11 item 3: each audit event is also one JSON log line of the
// server (--log-format json), with its kind, actor, address and detail as
// an object, and never the token; 'audit log --since' and '--app' select.
func TestAuditEventIsOneJSONLogLine(t *testing.T) {
	f := newFlowFixture(t, "--log-format", "json")
	tok := f.ccToken(t)
	r := send(t, "POST", f.srv.URL+"/api/v1/revoked_access_tokens", "", "", map[string]string{"Authorization": "Bearer " + tok})
	if r.status != 200 {
		t.Fatalf("revoke own token: %d %s", r.status, r.raw)
	}
	var lines []map[string]any
	for _, l := range strings.Split(f.srv.Stderr.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "audit event" {
			lines = append(lines, m)
		}
		if strings.Contains(l, tok) {
			t.Fatalf("a log line holds the token: %s", l)
		}
	}
	var found map[string]any
	for _, m := range lines {
		if m["kind"] == "token_revoked" {
			if found != nil {
				t.Fatal("two log lines for one revocation")
			}
			found = m
		}
	}
	detail, _ := found["detail"].(map[string]any)
	if found == nil || found["actor"] != "app" || found["address"] != "127.0.0.1" || detail == nil || detail["token_kind"] != "access" {
		t.Fatalf("the token_revoked log line: %v (of %d audit lines)", found, len(lines))
	}

	if es := f.events(t, "--since", "1h", "--app", f.cc.ClientID); len(es) != 2 || es[0].Kind != "token_revoked" || es[1].Kind != "app_created" {
		t.Errorf("audit log --since 1h --app: %+v, want the revocation and the app's creation", es)
	}
	if es := f.events(t, "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(es) != 0 {
		t.Errorf("audit log --since an hour ahead: %+v, want none", es)
	}
	if es := f.events(t, "--app", f.web.ClientID); len(es) != 1 || es[0].Kind != "app_created" {
		t.Errorf("audit log --app of another app: %+v, want its creation only", es)
	}
	for _, args := range [][]string{{"--since", "yesterday"}, {"--limit", "0"}, {"--app", "app_nosuch"}} {
		code, out, errOut := runCmd(t, f.dir, nil, "", append([]string{"audit", "log"}, args...)...)
		if code == 0 || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("audit log %v: exit %d, %q, %q; want one line of refusal", args, code, out, errOut)
		}
	}
}

// The audit log's source address is the one the limits use: behind a
// trusted proxy, the forwarded client; from anyone else, the TCP peer,
// whatever X-Forwarded-For it sends (a client cannot write its own
// address into the audit log).
func TestAuditAddressFollowsTrustedProxies(t *testing.T) {
	for _, tt := range []struct {
		name  string
		serve []string
		want  string
	}{
		{"untrusted peer", nil, "127.0.0.1"},
		{"trusted proxy", []string{"--trusted-proxy", "127.0.0.1/32"}, "203.0.113.9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlowFixture(t, tt.serve...)
			tok := f.ccToken(t)
			r := send(t, "POST", f.srv.URL+"/api/v1/revoked_access_tokens", "", "",
				map[string]string{"Authorization": "Bearer " + tok, "X-Forwarded-For": "203.0.113.9"})
			if r.status != 200 {
				t.Fatalf("revoke own token: %d %s", r.status, r.raw)
			}
			if e := f.event(t, "token_revoked"); e.Address != tt.want {
				t.Errorf("the event's address is %q, want %q", e.Address, tt.want)
			}
		})
	}
}
