package main

import (
	"net/url"
	"strings"
	"testing"
)

// DESIGN invariant 7; O21-5.1-a, O21-5.1-b, R6750-3-a: an access token is
// accepted only from the Authorization header; in the query string or a
// form body it is refused with invalid_request, never silently ignored.
func TestInvariant7TokenOnlyInTheHeader(t *testing.T) {
	f := newFlowFixture(t)
	tok := f.grantTokens(t, f.web, "https://client.example/cb", "read")
	base := f.srv.URL + "/whoami"
	bearer := map[string]string{"Authorization": "Bearer " + tok.access}

	ok := send(t, "GET", base, "", "", bearer)
	if ok.status != 200 || ok.body["username"] != f.user || ok.body["scope"] != "read" {
		t.Fatalf("header: %d %s", ok.status, ok.raw)
	}
	if r := send(t, "GET", base, "", "", map[string]string{"Authorization": "bearer " + tok.access}); r.status != 200 {
		t.Fatalf("lower-case scheme (R6750-3-a): %d", r.status)
	}
	cases := []struct {
		name, method, target, ct, body string
		header                         map[string]string
	}{
		{"query string (O21-5.1-a)", "GET", base + "?access_token=" + url.QueryEscape(tok.access), "", "", nil},
		{"query string beside the header", "GET", base + "?access_token=" + url.QueryEscape(tok.access), "", "", bearer},
		{"form body", "POST", base, formCT, "access_token=" + url.QueryEscape(tok.access), nil},
		{"form body beside the header (O21-5.1-b)", "POST", base, formCT, "access_token=" + url.QueryEscape(tok.access), bearer},
	}
	for _, c := range cases {
		r := send(t, c.method, c.target, c.ct, c.body, c.header)
		if r.status != 400 || r.body["error"] != "invalid_request" || !strings.Contains(r.body["error_description"].(string), "Authorization header") {
			t.Errorf("%s: %d %s, want 400 invalid_request", c.name, r.status, r.raw)
		}
	}

	// R6750-3-a: no credentials: a Bearer challenge without an error code.
	r := send(t, "GET", base, "", "", nil)
	if r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer realm="gatehouse"` {
		t.Fatalf("no token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	for name, bad := range map[string]string{
		"refresh token":   tok.refresh,
		"garbage":         "not-a-token",
		"revoked":         "",
		"Basic scheme":    "",
		"two credentials": "",
	} {
		h := map[string]string{"Authorization": "Bearer " + bad}
		switch name {
		case "revoked":
			revoke(t, f.srv.URL, f.web, tok.access, 200)
			h["Authorization"] = "Bearer " + tok.access
		case "Basic scheme":
			h["Authorization"] = basicAuth("a", "b")
		case "two credentials":
			h["Authorization"] = "Bearer a b"
		}
		r := send(t, "GET", base, "", "", h)
		if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %q", name, r.status, r.header.Get("WWW-Authenticate"))
		}
	}
	// A client credentials token is an app's, not a user's: no sub.
	cc := f.ccToken(t)
	r = send(t, "GET", base, "", "", map[string]string{"Authorization": "Bearer " + cc})
	if r.status != 200 || r.body["sub"] != nil || r.body["client_id"] != f.cc.ClientID {
		t.Fatalf("client credentials token: %d %s", r.status, r.raw)
	}
}

func (f *flowFixture) ccToken(t *testing.T) string {
	t.Helper()
	status, body := postForm(t, f.srv.URL+"/token", f.cc.ClientID, f.cc.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	if status != 200 {
		t.Fatalf("client credentials: %d %v", status, body)
	}
	return body["access_token"].(string)
}

// DESIGN invariant 7: a token hidden in an oversized form body is refused,
// not ignored.
func TestInvariant7OversizedBodyIsRefused(t *testing.T) {
	f := newFlowFixture(t)
	tok := f.ccToken(t)
	body := "pad=" + strings.Repeat("x", 20000) + "&access_token=" + url.QueryEscape(tok)
	r := send(t, "POST", f.srv.URL+"/whoami", formCT, body, map[string]string{"Authorization": "Bearer " + tok})
	if r.status != 400 || r.body["error"] != "invalid_request" {
		t.Fatalf("oversized body with a token: %d %s", r.status, r.raw)
	}
}
