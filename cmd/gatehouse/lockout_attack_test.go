package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 9 finding 1 attacks the failure limits of client authentication
// from many loopback addresses (127.0.0.0/8 is all loopback on Linux).

// clientForm is a form authenticated as app by client_secret_post (a public
// app by its client_id alone), so that one helper serves both kinds.
func clientForm(app createdApp, form url.Values) url.Values {
	out := clone(form)
	out.Set("client_id", app.ClientID)
	if app.ClientSecret != "" {
		out.Set("client_secret", app.ClientSecret)
	}
	return out
}

// postFrom sends form to path on the server from address ip.
func (f *flowFixture) postFrom(t *testing.T, ip, path string, form url.Values) rawResponse {
	t.Helper()
	return sendVia(t, fromAddr(ip), "POST", f.srv.URL+path, formCT, form.Encode(), nil)
}

// wrongSecretFor is app's client_id with another app's real secret: a
// well-formed credential that fails.
func wrongSecretFor(app, other createdApp) createdApp {
	return createdApp{ClientID: app.ClientID, ClientSecret: other.ClientSecret}
}

// DESIGN invariant 11; O21-2.4.1-a; issue 9 finding 1: 66 failed client
// authentications from 6 addresses, and a public app's client_id with a
// secret from a seventh, lock nobody out. From a fresh address the app's
// right secret works at /token, /introspect and /revoke, and the public app
// refreshes (also from the address that presented secrets for it: a secret
// for a public app is no guess and touches no limit). The failing
// addresses are throttled instead: there even the right secret gets 429
// invalid_client with Retry-After (the positive control).
func TestClientLockoutByOthers(t *testing.T) {
	f := newFlowFixture(t)
	spa := f.grantTokens(t, f.spa, spaCB, "read")
	wrong := wrongSecretFor(f.cc, f.web)
	cc := url.Values{"grant_type": {"client_credentials"}}
	for a := range 6 {
		ip := fmt.Sprintf("127.0.0.%d", 11+a)
		for i := range 11 {
			path := []string{"/token", "/introspect", "/revoke"}[i%3]
			form := cc
			if path != "/token" {
				form = url.Values{"token": {"gth_at_x"}}
			}
			f.postFrom(t, ip, path, clientForm(wrong, form))
		}
	}
	publicWithSecret := createdApp{ClientID: f.spa.ClientID, ClientSecret: f.web.ClientSecret}
	for range 40 {
		r := f.postFrom(t, "127.0.0.17", "/token", clientForm(publicWithSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {spa.refresh}}))
		wantError(t, "a public app presenting a secret", r, 401, "invalid_client")
	}

	// Positive control: the attackers are throttled, even with the right secret.
	r := f.postFrom(t, "127.0.0.11", "/token", clientForm(f.cc, cc))
	wantError(t, "the right secret from a throttled address", r, 429, "invalid_client")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("429 without Retry-After: %q", r.header.Get("Retry-After"))
	}

	fresh := "127.0.0.20"
	r = f.postFrom(t, fresh, "/token", clientForm(f.cc, cc))
	if r.status != 200 {
		t.Fatalf("the right secret from a fresh address: %d %s", r.status, r.raw)
	}
	tok := r.body["access_token"].(string)
	if r := f.postFrom(t, fresh, "/introspect", clientForm(f.cc, url.Values{"token": {tok}})); r.status != 200 || r.body["active"] != true {
		t.Fatalf("introspection from a fresh address: %d %s", r.status, r.raw)
	}
	if r := f.postFrom(t, fresh, "/revoke", clientForm(f.cc, url.Values{"token": {tok}})); r.status != 200 {
		t.Fatalf("revocation from a fresh address: %d %s", r.status, r.raw)
	}
	rt := spa.refresh
	for _, ip := range []string{fresh, "127.0.0.17"} {
		r := f.postFrom(t, ip, "/token", clientForm(f.spa, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}))
		if r.status != 200 {
			t.Fatalf("the public app's refresh from %s: %d %s", ip, r.status, r.raw)
		}
		rt = r.body["refresh_token"].(string)
	}
}

// Issue 9 finding 1: 8 addresses sending a steady trickle of failures for
// an app's client_id (and a public app's) for 3 s never refuse one of the
// real clients' requests from another address, while the trickling
// addresses themselves get 429 (positive control).
func TestClientTrickleLocksOutNobody(t *testing.T) {
	f := newFlowFixture(t)
	spa := f.grantTokens(t, f.spa, spaCB, "read")
	wrong := wrongSecretFor(f.cc, f.web)
	stop := time.Now().Add(3 * time.Second)
	var attackerStatus sync.Map
	var wg sync.WaitGroup
	for a := range 8 {
		wg.Go(func() {
			c := fromAddr(fmt.Sprintf("127.0.0.%d", 31+a))
			form := clientForm(wrong, url.Values{"grant_type": {"client_credentials"}})
			for time.Now().Before(stop) {
				status, _, err := sendFormVia(c, f.srv.URL+"/token", form)
				if err == nil {
					n, _ := attackerStatus.LoadOrStore(status, new(atomic.Int64))
					n.(*atomic.Int64).Add(1)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	real := "127.0.0.40"
	rt := spa.refresh
	requests := 0
	for time.Now().Before(stop) {
		r := f.postFrom(t, real, "/token", clientForm(f.cc, url.Values{"grant_type": {"client_credentials"}}))
		if r.status != 200 {
			t.Fatalf("request %d of the real confidential client: %d %s", requests, r.status, r.raw)
		}
		r = f.postFrom(t, real, "/token", clientForm(f.spa, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}))
		if r.status != 200 {
			t.Fatalf("refresh %d of the real public client: %d %s", requests, r.status, r.raw)
		}
		rt = r.body["refresh_token"].(string)
		requests++
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	if requests < 10 {
		t.Fatalf("only %d rounds of real requests ran", requests)
	}
	if n, ok := attackerStatus.Load(http.StatusTooManyRequests); !ok || n.(*atomic.Int64).Load() == 0 {
		t.Fatal("the trickling addresses were never throttled")
	}
}

// sendFormVia posts form through c, for a goroutine: failures are returned.
func sendFormVia(c *http.Client, target string, form url.Values) (int, string, error) {
	resp, err := c.Post(target, formCT, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// Issue 9 finding 1: an IPv6 client is counted by its /64, so that one
// host cannot take a fresh bucket from each of its 2^64 addresses. Through
// a trusted proxy, wrong secrets from 12 addresses of one /64 are throttled
// after the 10th; an address of the next /64 is not (positive control), and
// its right secret works.
func TestClientLimitKeysIPv6By64(t *testing.T) {
	f := newFlowFixture(t, "--trusted-proxy", "127.0.0.1")
	wrong := clientForm(wrongSecretFor(f.cc, f.web), url.Values{"grant_type": {"client_credentials"}})
	via := func(xff string, form url.Values) rawResponse {
		return send(t, "POST", f.srv.URL+"/token", formCT, form.Encode(), map[string]string{"X-Forwarded-For": xff})
	}
	var last rawResponse
	for i := range 12 {
		last = via(fmt.Sprintf("2001:db8:1:2::%x", i+1), wrong)
		if i < 10 && last.status != 401 {
			t.Fatalf("wrong secret %d: %d %s", i+1, last.status, last.raw)
		}
	}
	wantError(t, "the 11th and 12th address of one /64", last, 429, "invalid_client")
	wantError(t, "the next /64", via("2001:db8:1:3::1", wrong), 401, "invalid_client")
	if r := via("2001:db8:1:3::1", clientForm(f.cc, url.Values{"grant_type": {"client_credentials"}})); r.status != 200 {
		t.Fatalf("the right secret from the next /64: %d %s", r.status, r.raw)
	}
}

// failLogins sends n wrong sign-ins for made-up accounts from b, so that
// only the address's bucket runs out, and returns the last answer.
func failLogins(b *browser, n int) page {
	var p page
	for i := range n {
		p = b.post("/login", url.Values{"username": {fmt.Sprintf("nobody%d", i)}, "password": {"wrong password"}})
	}
	return p
}

// Issue 9 finding 3: behind a trusted proxy, X-Forwarded-For entries with
// a port are read, so that each user keeps a bucket of their own; an entry
// that names no address ("unknown", garbage) gets a bucket of its own, not
// the proxy's, which every user behind it would share. Each attacker is
// throttled itself (the positive control).
func TestForwardedForBehindProxy(t *testing.T) {
	f := newFlowFixture(t, "--trusted-proxy", "127.0.0.1")
	for _, c := range []struct{ attacker, user string }{
		{"198.51.100.1:4711", "198.51.100.2:4712"},
		{"[2001:db8:7::1]:443", "[2001:db8:8::1]:443"},
		{"unknown", "198.51.100.3"},
		{"not an address", "198.51.100.4"},
	} {
		attacker := newBrowser(t, f.srv.URL)
		attacker.header = map[string]string{"X-Forwarded-For": c.attacker}
		if p := failLogins(attacker, 25); p.status != http.StatusTooManyRequests {
			t.Fatalf("attacker %q was not throttled: %d", c.attacker, p.status)
		}
		user := newBrowser(t, f.srv.URL)
		user.header = map[string]string{"X-Forwarded-For": c.user}
		if p := user.login(user.get("/login"), f.user, f.password); p.status != http.StatusSeeOther {
			t.Fatalf("after attacker %q, the user at %q: %d", c.attacker, c.user, p.status)
		}
	}
	// The proxy's own address (a request without the header) was never hit.
	direct := newBrowser(t, f.srv.URL)
	if p := direct.login(direct.get("/login"), f.user, f.password); p.status != http.StatusSeeOther {
		t.Fatalf("a request from the proxy itself: %d", p.status)
	}
}

// Issue 9 finding 3: a server with an https issuer, which runs behind a TLS
// proxy, logs once, and clearly, that X-Forwarded-For came from a peer that
// is not a trusted proxy (--trusted-proxy is missing). A request without
// the header logs nothing (the positive control).
func TestUntrustedForwardedForIsWarnedOnce(t *testing.T) {
	h := newHTTPSFixture(t)
	const warning = "start it with --trusted-proxy"
	send(t, "GET", h.srv.URL+"/healthz", "", "", nil)
	if strings.Contains(h.srv.Stderr.String(), warning) {
		t.Fatal("warned without a forwarded header")
	}
	for range 3 {
		send(t, "GET", h.srv.URL+"/healthz", "", "", map[string]string{"X-Forwarded-For": "203.0.113.9"})
	}
	if n := strings.Count(h.srv.Stderr.String(), warning); n != 1 {
		t.Fatalf("the warning was logged %d times, want once:\n%s", n, h.srv.Stderr.String())
	}
}
