package main

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// DESIGN invariant 10: bad input never yields a 5xx or a panic; every
// protocol endpoint answers it with RFC 6749 error JSON and the right status.
func TestInvariant10BadInputGetsProtocolErrors(t *testing.T) {
	f := newFixture(t)
	auth := map[string]string{"Authorization": basicAuth(f.app.ClientID, f.app.ClientSecret)}
	cc := "grant_type=client_credentials"
	cases := []struct {
		name, method, path, ct, body string
		header                       map[string]string
		status                       int
		code                         string
	}{
		{"GET token (O21-3.2-a)", "GET", "/token?grant_type=client_credentials", "", "", nil, 405, "invalid_request"},
		{"PUT introspect", "PUT", "/introspect", formCT, "token=x", auth, 405, "invalid_request"},
		{"GET revoke with token and callback (REV-2-a)", "GET", "/revoke?token=x&callback=y", "", "", nil, 405, "invalid_request"},
		{"secret in the URL (O21-3.2-a)", "POST", "/token?client_secret=" + f.app.ClientSecret, formCT, cc, auth, 400, "invalid_request"},
		{"JSON body", "POST", "/token", "application/json", `{"grant_type":"client_credentials"}`, auth, 400, "invalid_request"},
		{"no content type", "POST", "/token", "", cc, auth, 400, "invalid_request"},
		{"broken form", "POST", "/token", formCT, "grant_type=%zz", auth, 400, "invalid_request"},
		{"repeated grant_type (O21-3.1-a)", "POST", "/token", formCT, cc + "&" + cc, auth, 400, "invalid_request"},
		{"repeated scope", "POST", "/token", formCT, cc + "&scope=read&scope=write", auth, 400, "invalid_request"},
		{"oversized body", "POST", "/token", formCT, cc + "&scope=" + strings.Repeat("a", 20000), auth, 413, "invalid_request"},
		{"no grant_type", "POST", "/token", formCT, "scope=read", auth, 400, "invalid_request"},
		{"unknown grant_type", "POST", "/token", formCT, "grant_type=magic", auth, 400, "unsupported_grant_type"},
		{"password grant (BCP-2.4-a)", "POST", "/token", formCT, "grant_type=password&username=a&password=b", auth, 400, "unsupported_grant_type"},
		{"implicit as a grant", "POST", "/token", formCT, "grant_type=implicit", auth, 400, "unsupported_grant_type"},
		{"malformed scope", "POST", "/token", formCT, cc + "&scope=" + url.QueryEscape("read\x00"), auth, 400, "invalid_scope"},
		{"bad Basic base64", "POST", "/token", formCT, cc, map[string]string{"Authorization": "Basic ***"}, 401, "invalid_client"},
		{"Basic without colon", "POST", "/token", formCT, cc, map[string]string{"Authorization": "Basic YWJj"}, 401, "invalid_client"},
		{"Bearer at the token endpoint", "POST", "/token", formCT, cc, map[string]string{"Authorization": "Bearer abc"}, 401, "invalid_client"},
		{"two methods (O21-2.4-a)", "POST", "/token", formCT, cc + "&client_secret=" + url.QueryEscape(f.app.ClientSecret), auth, 400, "invalid_request"},
		{"unknown client", "POST", "/token", formCT, cc + "&client_id=app_nope&client_secret=gth_cs_x", nil, 401, "invalid_client"},
		{"no client at all", "POST", "/token", formCT, cc, nil, 401, "invalid_client"},
		{"huge client_id", "POST", "/token", formCT, cc + "&client_id=" + strings.Repeat("x", 10000), nil, 401, "invalid_client"},
		{"non-UTF-8 client_id", "POST", "/token", formCT, cc + "&client_id=%ff%fe", nil, 401, "invalid_client"},
		{"introspect without token", "POST", "/introspect", formCT, "token_type_hint=access_token", auth, 400, "invalid_request"},
		{"introspect unauthenticated (INT-2.1-a)", "POST", "/introspect", formCT, "token=x", nil, 401, "invalid_client"},
		{"revoke without token", "POST", "/revoke", formCT, "", auth, 400, "invalid_request"},
		{"revoke unauthenticated (REV-2.1-a)", "POST", "/revoke", formCT, "token=x", nil, 401, "invalid_client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := send(t, c.method, f.srv.URL+c.path, c.ct, c.body, c.header)
			wantError(t, c.name, r, c.status, c.code)
			if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
			}
		})
	}
	if strings.Contains(f.srv.Stderr.String(), "panic") {
		t.Fatal("the server logged a panic")
	}
}

// DESIGN invariant 10: a refused registration leaves no half-written record.
func TestInvariant10RefusedRegistrationStoresNothing(t *testing.T) {
	f := newFixture(t)
	before := appCount(t, f.dir)
	bad := [][]string{
		{"--name", "X", "--type", "confidential", "--scope", "read,nosuchscope", "--grant", "client_credentials"},
		{"--name", "X", "--type", "public", "--redirect-uri", "http://evil.example/cb"},
		{"--name", "X", "--type", "public", "--redirect-uri", "https://a.example/*"},
		{"--name", "X", "--type", "public", "--redirect-uri", "myapp:/cb"},
		{"--name", "X", "--type", "public", "--redirect-uri", "https://a.example/cb#x"},
		{"--name", "X", "--type", "sometimes"},
		{"--name", "", "--type", "public", "--redirect-uri", "https://a.example/cb"},
		{"--name", "X", "--type", "confidential", "--scope", "read", "--default-scope", "write", "--grant", "client_credentials"},
		{"--name", "X", "--type", "public", "--resource-server", "--redirect-uri", "https://a.example/cb"},
	}
	for _, args := range bad {
		code, out, errOut := runCmd(t, f.dir, nil, "", append([]string{"app", "create"}, args...)...)
		if code == 0 || out != "" || !strings.HasPrefix(errOut, "gatehouse: ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("app create %v: exit %d, stdout %q, stderr %q; want a one-line error", args, code, out, errOut)
		}
	}
	// Every problem is reported at once.
	_, _, errOut := runCmd(t, f.dir, nil, "", "app", "create", "--name", "", "--type", "x", "--redirect-uri", "http://evil.example/")
	if !strings.Contains(errOut, "name") || !strings.Contains(errOut, "type") || !strings.Contains(errOut, "http is allowed only") {
		t.Errorf("not every problem reported: %s", errOut)
	}
	if after := appCount(t, f.dir); after != before {
		t.Fatalf("refused registrations left %d apps behind", after-before)
	}
}

func appCount(t *testing.T, dir string) int {
	t.Helper()
	code, out, errOut := runCmd(t, dir, nil, "", "app", "list", "-o", "json")
	if code != 0 {
		t.Fatalf("app list: %s", errOut)
	}
	var apps []appOutput
	if err := json.Unmarshal([]byte(out), &apps); err != nil {
		t.Fatal(err)
	}
	return len(apps)
}

// O21-2.4.1-a: failed client authentication is throttled per client_id and
// address; once throttled, even the right secret from that address waits
// for the window (from elsewhere it does not: TestClientLockoutByOthers).
func TestClientAuthenticationIsRateLimited(t *testing.T) {
	f := newFixture(t)
	wrong := basicAuth(f.app.ClientID, f.other.ClientSecret) // another app's real secret
	var last rawResponse
	for i := range 11 {
		last = send(t, "POST", f.srv.URL+"/token", formCT, "grant_type=client_credentials", map[string]string{"Authorization": wrong})
		if i < 10 && last.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, last.status)
		}
	}
	wantError(t, "11th wrong secret", last, 429, "invalid_client")
	if s, err := strconv.Atoi(last.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q", last.header.Get("Retry-After"))
	}
	right := send(t, "POST", f.srv.URL+"/token", formCT, "grant_type=client_credentials", map[string]string{"Authorization": basicAuth(f.app.ClientID, f.app.ClientSecret)})
	wantError(t, "right secret while throttled, from the failing address", right, 429, "invalid_client")
	// Another client is not locked out by this client's failures.
	if status, body := postForm(t, f.srv.URL+"/token", f.other.ClientID, f.other.ClientSecret, url.Values{"grant_type": {"client_credentials"}}); status != 200 {
		t.Fatalf("other client: %d %v", status, body)
	}
	// The address limit catches guessing spread over many client_ids.
	for i := range 40 {
		last = send(t, "POST", f.srv.URL+"/token", formCT, "grant_type=client_credentials&client_id=app_guess"+strconv.Itoa(i)+"&client_secret=x", nil)
	}
	wantError(t, "many client_ids from one address", last, 429, "invalid_client")
}

// The failure limits never throttle a client's legitimate concurrent
// traffic: only failures count.
func TestConcurrentSuccessesAreNotThrottled(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	statuses := make([]int, 40)
	for i := range statuses {
		wg.Go(func() {
			statuses[i], _ = postForm(t, f.srv.URL+"/token", f.app.ClientID, f.app.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("request %d of 40 concurrent good ones: %d", i, s)
		}
	}
}
