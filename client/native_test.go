package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

// browserPage is what the played browser got from the loopback listener.
type browserPage struct {
	status int
	header http.Header
	body   string
}

// deliver GETs u as a browser would (no redirects followed), with the
// Host header host when not empty.
func deliver(t *testing.T, method, u, host string) (browserPage, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return browserPage{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return browserPage{status: resp.StatusCode, header: resp.Header, body: string(b)}, err
}

// played is a record of one opener call: the played system browser.
type played struct {
	mu       sync.Mutex
	calls    int
	authURL  *url.URL
	callback *url.URL
	page     browserPage
}

func (p *played) redirectURI(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(p.authURL.Query().Get("redirect_uri"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// browser returns the Opener that plays the system browser against the
// real server: it signs in, answers the consent page with decision,
// runs before (attacks on the listener, while the login is open) and
// delivers the server's callback to the loopback listener.
func (e *e2e) browser(t *testing.T, decision string, before func(p *played)) (client.Opener, *played) {
	p := &played{}
	return func(ctx context.Context, raw string) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.calls++
		u, err := url.Parse(raw)
		if err != nil {
			return err
		}
		p.authURL = u
		cb, err := e.s.NewBrowser().Authorize(ctx, raw, e.user, e.pw, decision)
		if err != nil {
			return err
		}
		p.callback = cb
		if before != nil {
			before(p)
		}
		p.page, err = deliver(t, "GET", cb.String(), "")
		return err
	}, p
}

// nativeApp registers a public app with the loopback redirect URL
// http://127.0.0.1/callback, and returns it.
func (e *e2e) nativeApp(t *testing.T) *client.PublicApp {
	reg := e.s.CreateApp(t, "--name", "CLI", "--type", "public", "--redirect-uri", "http://127.0.0.1/callback", "--scope", "read")
	return &client.PublicApp{Provider: e.p, ClientID: reg.ClientID, RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"read"}}
}

// reachable reports whether a TCP connection to addr is accepted.
func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// otherInterface returns an IPv4 address of this host that is not
// loopback, or "".
func otherInterface() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

func checkPageHeaders(t *testing.T, p browserPage) {
	t.Helper()
	for k, want := range map[string]string{
		"Cache-Control":   "no-store",
		"Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY",
		"Content-Type":    "text/html; charset=utf-8",
	} {
		if got := p.header.Get(k); got != want {
			t.Errorf("page header %s: %q, want %q", k, got, want)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("page CSP %q", csp)
	}
	if strings.Contains(p.body, "<script") {
		t.Error("the page has a script")
	}
}

// NAT-8.12-a, NAT-8.3-a: the authorization URL goes to the Opener (the
// system browser; there is no other path), the redirect_uri is the
// loopback IP literal with the port chosen for this login, the listener
// answers on 127.0.0.1 only and only while the login runs, and the tokens
// work. PKCE-7.2-a: S256.
func TestNAT_8_12_a_LoginNativeThroughSystemBrowser(t *testing.T) {
	e := newE2E(t)
	app := e.nativeApp(t)
	var during struct{ loopback, ipv6, other bool }
	other := otherInterface()
	open, p := e.browser(t, "allow", func(p *played) {
		port := p.redirectURI(t).Port()
		during.loopback = reachable("127.0.0.1:" + port)
		during.ipv6 = reachable("[::1]:" + port)
		if other != "" {
			during.other = reachable(net.JoinHostPort(other, port))
		}
	})
	s, err := app.LoginNative(t.Context(), client.WithOpener(open))
	if err != nil {
		t.Fatal(err)
	}
	if p.calls != 1 {
		t.Fatalf("the opener was called %d times", p.calls)
	}
	if !strings.HasPrefix(p.authURL.String(), e.p.AuthorizationEndpoint+"?") {
		t.Errorf("the opener got %s, not the authorization endpoint", p.authURL.Redacted())
	}
	q := p.authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		t.Errorf("authorization request without S256 PKCE or state: %v", q)
	}
	ru := p.redirectURI(t)
	if ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Port() == "" || ru.Port() == "0" || ru.Path != "/callback" {
		t.Errorf("redirect_uri %s: want http://127.0.0.1:PORT/callback", ru)
	}
	if !during.loopback {
		t.Error("positive control: the listener did not answer on 127.0.0.1 during the login")
	}
	if during.ipv6 || during.other {
		t.Errorf("the listener answered off 127.0.0.1 ([::1]: %v, %s: %v)", during.ipv6, other, during.other)
	}
	if other == "" {
		t.Log("no non-loopback IPv4 interface here: checked [::1] only")
	}
	if reachable(ru.Host) {
		t.Error("the loopback port is still open after the login")
	}

	// The tokens work; one token request.
	if s.Token.AccessToken == "" || s.Token.RefreshToken == "" || len(s.Scopes) != 1 || s.Scopes[0] != "read" {
		t.Fatalf("session %+v", s)
	}
	if !e.s.Introspect(t, e.rs, s.Token.AccessToken) {
		t.Error("the access token is not active")
	}
	if n := e.tokenRequests(); n != 1 {
		t.Errorf("%d token requests", n)
	}

	// The browser got the success page, which echoes nothing secret.
	if p.page.status != http.StatusOK || !strings.Contains(p.page.body, "You are signed in") {
		t.Errorf("browser page %d %q", p.page.status, p.page.body)
	}
	checkPageHeaders(t, p.page)
	for _, secret := range []string{p.callback.Query().Get("code"), q.Get("state"), s.Token.AccessToken, s.Token.RefreshToken} {
		if secret == "" || strings.Contains(p.page.body, secret) {
			t.Errorf("the page shows a code, state or token (or the callback lacks one)")
		}
	}
}

// The user says no: an *AuthError that is ErrAccessDenied, the failure
// page, and no token request.
func TestLoginNativeDenied(t *testing.T) {
	e := newE2E(t)
	app := e.nativeApp(t)
	open, p := e.browser(t, "deny", nil)
	s, err := app.LoginNative(t.Context(), client.WithOpener(open))
	var ae *client.AuthError
	if s != nil || !errors.Is(err, client.ErrAccessDenied) || !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Fatalf("deny: %v %v", s, err)
	}
	if p.page.status != http.StatusForbidden || !strings.Contains(p.page.body, "Access was denied") {
		t.Errorf("browser page %d %q", p.page.status, p.page.body)
	}
	checkPageHeaders(t, p.page)
	if n := e.tokenRequests(); n != 0 {
		t.Errorf("%d token requests", n)
	}
	if reachable(p.redirectURI(t).Host) {
		t.Error("the loopback port is still open")
	}
}

// BCP-2.1-b, BCP-4.2.4-c: while the login waits, a local process that
// knows the port but not the state cannot end it or inject its own code:
// other paths are 404, a foreign state, another method or another Host
// are refused, and the genuine callback still completes — once: the port
// is closed for a replay.
func TestBCP_2_1_b_LoginNativeRefusesForeignCallbacks(t *testing.T) {
	e := newE2E(t)
	app := e.nativeApp(t)
	type attempt struct {
		name, method, url, host string
		status                  int
	}
	var got []string
	open, p := e.browser(t, "allow", func(p *played) {
		cb := p.callback
		forged := func(mod func(url.Values)) string {
			u := *cb
			v := u.Query()
			mod(v)
			u.RawQuery = v.Encode()
			return u.String()
		}
		for _, a := range []attempt{
			{"another path", "GET", "http://" + cb.Host + "/other?" + cb.RawQuery, "", http.StatusNotFound},
			{"no state", "GET", forged(func(v url.Values) { v.Del("state") }), "", http.StatusBadRequest},
			{"another state", "GET", forged(func(v url.Values) { v.Set("state", "forged") }), "", http.StatusBadRequest},
			{"injected code", "GET", forged(func(v url.Values) { v.Set("state", "x"); v.Set("code", "attacker-code") }), "", http.StatusBadRequest},
			{"injected error", "GET", forged(func(v url.Values) { v.Set("state", "x"); v.Set("error", "access_denied") }), "", http.StatusBadRequest},
			{"POST", "POST", cb.String(), "", http.StatusBadRequest},
			{"DNS rebinding", "GET", cb.String(), "evil.test:" + cb.Port(), http.StatusBadRequest},
		} {
			pg, err := deliver(t, a.method, a.url, a.host)
			if err != nil || pg.status != a.status {
				t.Errorf("%s: %d %v, want %d", a.name, pg.status, err, a.status)
			}
			checkPageHeaders(t, pg)
			got = append(got, a.name)
		}
	})
	s, err := app.LoginNative(t.Context(), client.WithOpener(open))
	if err != nil || len(got) != 7 {
		t.Fatalf("the genuine callback after the foreign ones: %v (attacks run: %v)", err, got)
	}
	if p.page.status != http.StatusOK || !e.s.Introspect(t, e.rs, s.Token.AccessToken) {
		t.Errorf("genuine callback: page %d", p.page.status)
	}
	if n := e.tokenRequests(); n != 1 {
		t.Errorf("%d token requests: a foreign callback reached the token endpoint", n)
	}
	if _, err := deliver(t, "GET", p.callback.String(), ""); err == nil {
		t.Error("a replay of the callback reached the listener after the login")
	}
}

// No response in time: ErrLoginTimeout, and the port is closed.
func TestLoginNativeTimeout(t *testing.T) {
	e := newE2E(t)
	app := e.nativeApp(t)
	var addr string
	var open bool
	_, err := app.LoginNative(t.Context(), client.WithTimeout(200*time.Millisecond), client.WithOpener(func(_ context.Context, raw string) error {
		u, _ := url.Parse(raw)
		ru, _ := url.Parse(u.Query().Get("redirect_uri"))
		addr = ru.Host
		open = reachable(addr)
		return nil // a browser that never comes back
	}))
	if !errors.Is(err, client.ErrLoginTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	if !open {
		t.Error("positive control: the port was not open during the login")
	}
	if reachable(addr) {
		t.Error("the port is open after the timeout")
	}
}

// The caller's context ends the login too, and is not a timeout.
func TestLoginNativeCancelled(t *testing.T) {
	e := newE2E(t)
	app := e.nativeApp(t)
	ctx, cancel := context.WithCancel(t.Context())
	_, err := app.LoginNative(ctx, client.WithOpener(func(context.Context, string) error { cancel(); return nil }))
	if !errors.Is(err, context.Canceled) || errors.Is(err, client.ErrLoginTimeout) {
		t.Fatalf("cancelled: %v", err)
	}
}

// An Opener that fails gives ErrNoBrowser and closes the port; Login then
// tries the device flow, which this app is not registered for: both
// reasons are reported.
func TestLoginNativeNoBrowser(t *testing.T) {
	e := newE2E(t)
	app := e.nativeApp(t)
	var addr string
	failing := client.WithOpener(func(_ context.Context, raw string) error {
		u, _ := url.Parse(raw)
		ru, _ := url.Parse(u.Query().Get("redirect_uri"))
		addr = ru.Host
		return errors.New("no display")
	})
	if _, err := app.LoginNative(t.Context(), failing); !errors.Is(err, client.ErrNoBrowser) {
		t.Fatalf("failing opener: %v", err)
	}
	if addr == "" || reachable(addr) {
		t.Errorf("the port %q is open after the opener failed", addr)
	}
	_, err := app.Login(t.Context(), client.PrintDeviceCode(io.Discard), failing)
	var ae *client.AuthError
	if !errors.Is(err, client.ErrNoBrowser) || !errors.As(err, &ae) || ae.Code != "unauthorized_client" {
		t.Errorf("Login without a browser, for an app not registered for the device grant: %v", err)
	}
	called := false
	_, err = app.LoginNative(t.Context(), client.NoBrowser(), client.WithOpener(func(context.Context, string) error { called = true; return nil }))
	if !errors.Is(err, client.ErrNoBrowser) || called {
		t.Errorf("NoBrowser: %v, opener called: %v", err, called)
	}
}

// NAT-8.3-a: LoginNative serves only a loopback IP literal, registered
// without a port; the opener is never called for another.
func TestNAT_8_3_a_LoginNativeRedirectURL(t *testing.T) {
	as := newMockAS(t)
	for _, bad := range []string{
		"http://127.0.0.1:8080/callback", // a fixed port another process could take
		"http://localhost/callback",
		"https://app.example/callback",
		"com.example.app:/callback",
		"http://127.0.0.2/callback",
	} {
		t.Run(bad, func(t *testing.T) {
			app := &client.PublicApp{Provider: as.provider(t), ClientID: "app-1", RedirectURL: bad, Scopes: []string{"read"}}
			called := false
			_, err := app.LoginNative(t.Context(), client.WithOpener(func(context.Context, string) error { called = true; return nil }))
			if !errors.Is(err, client.ErrConfig) || called {
				t.Errorf("%v, opener called: %v", err, called)
			}
		})
	}
}

// ISS-2.4-a: a response with the right state but another iss ends the
// login with ErrResponseIssuer before the code is redeemed; neither the
// error nor the page shows the code.
func TestISS_2_4_a_LoginNativeWrongIssuer(t *testing.T) {
	as := newMockAS(t)
	app := &client.PublicApp{Provider: as.provider(t), ClientID: "app-1", RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"read"}}
	const code = "code-canary-5b1e"
	var pg browserPage
	_, err := app.LoginNative(t.Context(), client.WithOpener(func(_ context.Context, raw string) error {
		u, _ := url.Parse(raw)
		cb := u.Query().Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {u.Query().Get("state")}, "iss": {"https://evil.test"}}.Encode()
		var err error
		pg, err = deliver(t, "GET", cb, "")
		return err
	}))
	if !errors.Is(err, client.ErrResponseIssuer) {
		t.Fatalf("wrong iss: %v", err)
	}
	if n := as.tokenRequests.Load(); n != 0 {
		t.Errorf("%d token requests", n)
	}
	if strings.Contains(err.Error(), code) || strings.Contains(pg.body, code) {
		t.Error("the code is in the error or the page")
	}
	if pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "did not succeed") {
		t.Errorf("page %d %q", pg.status, pg.body)
	}
}
