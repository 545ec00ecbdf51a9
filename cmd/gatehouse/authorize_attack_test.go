package main

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
)

// Attack tests for the redirect URI rules of the authorization endpoint
// (DESIGN invariant 3), one per checklist row.

const (
	webCB = "https://client.example/cb"
	spaCB = "https://spa.example/cb"
)

// authParams is a complete authorization request for app with a fresh S256
// challenge; an empty redirectURI is left out.
func authParams(app createdApp, redirectURI string) url.Values {
	v := url.Values{
		"response_type": {"code"}, "client_id": {app.ClientID}, "state": {"st-" + rand.Text()[:10]},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"},
	}
	if redirectURI != "" {
		v.Set("redirect_uri", redirectURI)
	}
	return v
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for key, vs := range v {
		out[key] = append([]string(nil), vs...)
	}
	return out
}

// with returns a copy of v with k set to val.
func with(v url.Values, k, val string) url.Values {
	out := clone(v)
	out.Set(k, val)
	return out
}

// signedIn returns a browser with a live session of the fixture's user.
func (f *flowFixture) signedIn(t testing.TB) *browser {
	t.Helper()
	b := newBrowser(t, f.srv.URL)
	if p := b.login(b.get("/login"), f.user, f.password); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("login: %d %q", p.status, p.location)
	}
	return b
}

// wantErrorPage asserts the page shown when the client or its redirect URI
// cannot be trusted: 400, HTML, and no redirect of any kind.
func wantErrorPage(t testing.TB, name string, p page, message string) {
	t.Helper()
	if p.status != http.StatusBadRequest || p.location != "" || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(p.body, "<h1>This link cannot be used</h1>") || !strings.Contains(p.body, message) ||
		strings.Contains(strings.ToLower(p.body), "http-equiv") {
		t.Errorf("%s: got %d Location %q, want the 400 error page saying %q: %.400s", name, p.status, p.location, message, p.body)
	}
}

func wantLoginPage(t testing.TB, name string, p page) {
	t.Helper()
	if p.status != http.StatusOK || p.location != "" || !strings.Contains(p.body, `<form method="post" action="/login">`) || !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("%s: got %d Location %q, want the login page", name, p.status, p.location)
	}
}

func wantConsentPage(t testing.TB, name string, p page) {
	t.Helper()
	if p.status != http.StatusOK || p.location != "" || !strings.Contains(p.body, `name="decision" value="allow"`) {
		t.Fatalf("%s: got %d Location %q, want the consent page", name, p.status, p.location)
	}
}

// appRedirect asserts that p redirects to exactly redirectURI with response
// parameters appended, and returns those parameters.
func appRedirect(t testing.TB, name string, p page, redirectURI string) url.Values {
	t.Helper()
	sep := "?"
	if strings.Contains(redirectURI, "?") {
		sep = "&"
	}
	if (p.status != http.StatusFound && p.status != http.StatusSeeOther) || !strings.HasPrefix(p.location, redirectURI+sep) {
		t.Fatalf("%s: got %d Location %q, want a redirect to %s%s…", name, p.status, p.location, redirectURI, sep)
	}
	q, err := url.ParseQuery(strings.TrimPrefix(p.location, redirectURI+sep))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return q
}

// wantCode asserts a success response: a code, the request's state and iss.
func (f *flowFixture) wantCode(t testing.TB, name string, q url.Values, state string) {
	t.Helper()
	if !strings.HasPrefix(q.Get("code"), "gth_ac_") || q.Get("state") != state || q.Get("iss") != f.srv.URL || q.Has("error") {
		t.Fatalf("%s: %v, want a code with state %q and iss", name, q, state)
	}
}

// BCP-2.1-a: the redirect URI is compared with the registered one as a
// string, with no normalisation, prefix or pattern; every near miss gets the
// error page, for a signed-in user too.
func TestBCP_2_1_a_RedirectURIExactMatch(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	for _, uri := range []string{
		"https://client.example/cb/",
		"https://client.example/cb/x",
		"https://client.example/c",
		"https://client.example/CB",
		"https://client.example/cb?x=1",
		"https://client.example/cb?",
		"https://client.example/cb#f",
		"https://client.example/cb#",
		"https://CLIENT.example/cb",
		"HTTPS://client.example/cb",
		"https://client.example:443/cb",
		"https://client.example%2Fcb",
		"https://client.example/%63b",
		"https://client.example/./cb",
		"https://client.example//cb",
		"https://client.example/x/../cb",
		"https://client.example.evil.example/cb",
		"https://client.example@evil.example/cb",
		"https://evil.example/cb?https://client.example/cb",
		`https://client.example\@evil.example/cb`,
		"http://client.example/cb",
		" https://client.example/cb",
		"https://client.example/cb ",
		"https://client.example/cb\t",
		"https://client.example/cb%00",
		"https://client.example/cb?tenant=a", // another app's URI
	} {
		wantErrorPage(t, uri, b.get(f.rawAuthURL(authParams(f.web, uri))), "The redirect URI of the request is not registered for this app.")
	}
	// Without a session the error page comes first too: no login page.
	anon := newBrowser(t, f.srv.URL)
	wantErrorPage(t, "no session", anon.get(f.rawAuthURL(authParams(f.web, webCB+"/"))), "not registered for this app")

	// The exact value: consent, then a redirect to it.
	params := authParams(f.web, webCB)
	consent := b.get(f.rawAuthURL(params))
	wantConsentPage(t, "exact redirect URI", consent)
	f.wantCode(t, "exact redirect URI", appRedirect(t, "exact redirect URI", b.decide(consent, "allow"), webCB), params.Get("state"))
}

// BCP-4.1.3-a: a public app's loopback IP URI matches on any port, and
// nothing else does: not another path, host, scheme, query or user info,
// and no port on any other URI.
func TestBCP_4_1_3_a_LoopbackAnyPortOnly(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	for _, uri := range []string{
		"http://127.0.0.1:51004/cb",
		"http://127.0.0.1:61023/cb",
		"http://[::1]:50000/cb",
		"http://127.0.0.1/cb",
		"http://127.0.0.1:1/cb",
		"http://127.0.0.1:65535/cb",
	} {
		params := authParams(f.native, uri)
		p := b.get(f.rawAuthURL(params))
		wantConsentPage(t, uri, p)
		f.wantCode(t, uri, appRedirect(t, uri, b.decide(p, "allow"), uri), params.Get("state"))
	}
	for _, uri := range []string{
		"http://127.0.0.1:51004/cb2",
		"http://127.0.0.1:51004/cb/",
		"http://127.0.0.1:51004/CB",
		"http://127.0.0.1:51004/%63b",
		"http://127.0.0.1:51004",
		"http://127.0.0.1:51004/cb?x=1",
		"http://127.0.0.1:51004/cb#x",
		"http://u@127.0.0.1:51004/cb",
		"http://127.0.0.2:51004/cb",
		"http://127.0.0.1.evil.example:1/cb",
		"http://localhost:51004/cb",
		"http://127.1:51004/cb",
		"http://[::ffff:127.0.0.1]:51004/cb",
		"http://[0:0:0:0:0:0:0:1]:50000/cb",
		"https://127.0.0.1:51004/cb",
		"http://127.0.0.1:051004/cb",
		"http://127.0.0.1:0/cb",
		"http://127.0.0.1:65536/cb",
		"http://127.0.0.1:99999/cb",
		"http://127.0.0.1:51004:1/cb",
		"com.example.app:/cb2",
		"com.example.app:/cb?x=1",
		"com.example.app://cb",
	} {
		wantErrorPage(t, "native "+uri, b.get(f.rawAuthURL(authParams(f.native, uri))), "not registered for this app")
	}
	// The port exception is for public apps' loopback URIs only: not for
	// web, and not for a confidential app that registered a loopback URI.
	for _, uri := range []string{"https://client.example:8443/cb", "http://127.0.0.1:51004/cb"} {
		wantErrorPage(t, "web "+uri, b.get(f.rawAuthURL(authParams(f.web, uri))), "not registered for this app")
	}
	desktop := createApp(t, f.dir, "--name", "Desktop", "--type", "confidential", "--scope", "read", "--redirect-uri", "http://127.0.0.1/cb")
	wantErrorPage(t, "confidential loopback", b.get(f.rawAuthURL(authParams(desktop, "http://127.0.0.1:51004/cb"))), "not registered for this app")
	wantConsentPage(t, "confidential loopback, exact", b.get(f.rawAuthURL(authParams(desktop, "http://127.0.0.1/cb"))))
}

// wantRegistrationRefused asserts that 'app create' refuses uri with a
// message containing msg and stores nothing.
func wantRegistrationRefused(t *testing.T, dir, typ, uri, msg string) {
	t.Helper()
	code, out, errOut := runCmd(t, dir, nil, "", "app", "create", "--name", "X", "--type", typ, "--scope", "read", "--redirect-uri", uri)
	if code == 0 || out != "" || !strings.HasPrefix(errOut, "gatehouse: ") || !strings.Contains(errOut, msg) {
		t.Errorf("registering %s app with %q: exit %d, stdout %q, stderr %q; want a refusal saying %q", typ, uri, code, out, errOut, msg)
	}
}

// BCP-2.6-d: http redirect URIs only on loopback IP literals; an
// authorization request with an http URI for web gets the error page.
func TestBCP_2_6_d_HTTPRedirectOnlyOnLoopback(t *testing.T) {
	f := newFlowFixture(t)
	const msg = "http is allowed only for loopback IP literals"
	for _, c := range []struct{ typ, uri string }{
		{"confidential", "http://client.example/cb"},
		{"public", "http://spa.example/cb"},
		{"public", "http://localhost/cb"},
		{"public", "http://localhost:8080/cb"},
		{"public", "http://127.0.0.1.nip.io/cb"},
		{"public", "http://127.1/cb"},
		{"public", "http://2130706433/cb"},
		{"public", "http://10.0.0.1/cb"},
		{"public", "HTTP://spa.example/cb"},
	} {
		wantRegistrationRefused(t, f.dir, c.typ, c.uri, msg)
	}
	before := appCount(t, f.dir)
	createApp(t, f.dir, "--name", "Loopback", "--type", "public", "--scope", "read", "--redirect-uri", "http://127.0.0.1/cb")
	createApp(t, f.dir, "--name", "Loopback6", "--type", "public", "--scope", "read", "--redirect-uri", "http://[::1]:8080/cb")
	if after := appCount(t, f.dir); after != before+2 {
		t.Fatalf("%d apps registered, want 2", after-before)
	}
	b := f.signedIn(t)
	wantErrorPage(t, "http for web", b.get(f.rawAuthURL(authParams(f.web, "http://client.example/cb"))), "not registered for this app")
}

// O21-2.3-a: only absolute redirect URIs without a fragment are registered,
// and a registered query is kept, once, when the response is appended.
func TestO21_2_3_a_AbsoluteURIsAndRegisteredQueryKept(t *testing.T) {
	f := newFlowFixture(t)
	for uri, msg := range map[string]string{
		"/cb":                         "is not an absolute URI",
		"cb":                          "is not an absolute URI",
		"//client.example/cb":         "is not an absolute URI",
		"https://client.example/cb#x": "fragments",
		"https://client.example/cb#":  "fragments",
		"https:/cb":                   "has no host",
		"https://*.example/cb":        "wildcards",
	} {
		wantRegistrationRefused(t, f.dir, "public", uri, msg)
	}

	const tenantCB = "https://client.example/cb?tenant=a"
	b := f.signedIn(t)
	for _, name := range []string{"deny", "allow"} { // deny first: allow is remembered
		params := authParams(f.tenant, tenantCB)
		p := b.decide(b.get(f.rawAuthURL(params)), name)
		q := appRedirect(t, name, p, tenantCB)
		if strings.Count(p.location, "tenant=") != 1 || q.Has("tenant") || q.Get("state") != params.Get("state") || q.Get("iss") != f.srv.URL {
			t.Fatalf("%s: Location %q, want tenant=a once, then state and iss", name, p.location)
		}
		if name == "allow" && !q.Has("code") || name == "deny" && q.Get("error") != "access_denied" {
			t.Fatalf("%s: %v", name, q)
		}
	}
	for _, uri := range []string{"https://client.example/cb?tenant=b", "https://client.example/cb", "https://client.example/cb?tenant=a&tenant=a", "https://client.example/cb?tenant=a&x=1"} {
		wantErrorPage(t, uri, b.get(f.rawAuthURL(authParams(f.tenant, uri))), "not registered for this app")
	}
}

// O21-2.3.1-a: a private-use scheme must be a reverse domain name.
func TestO21_2_3_1_a_PrivateUseSchemeNeedsADot(t *testing.T) {
	f := newFlowFixture(t)
	const msg = "a private-use scheme must be a reverse domain name"
	for _, uri := range []string{"myapp:/cb", "myapp://cb", "myapp:cb", "javascript:alert(1)", "data:text/plain;hi", "file:///etc/passwd", "ftp://client.example/cb"} {
		wantRegistrationRefused(t, f.dir, "public", uri, msg)
	}
	createApp(t, f.dir, "--name", "Mobile", "--type", "public", "--scope", "read", "--redirect-uri", "com.example.mobile:/cb")
	// The fixture's native app has com.example.app:/cb: a flow ends there.
	b := f.signedIn(t)
	params := authParams(f.native, "com.example.app:/cb")
	f.wantCode(t, "com.example.app:/cb", appRedirect(t, "private-use", b.decide(b.get(f.rawAuthURL(params)), "allow"), "com.example.app:/cb"), params.Get("state"))
}

// O21-2.3.2-a: an app with several redirect URIs must name one.
func TestO21_2_3_2_a_RedirectURIRequiredWithSeveral(t *testing.T) {
	f := newFlowFixture(t)
	const msg = "The request has no redirect_uri, and the app has several."
	wantErrorPage(t, "no session", newBrowser(t, f.srv.URL).get(f.rawAuthURL(authParams(f.multi, ""))), msg)
	b := f.signedIn(t)
	wantErrorPage(t, "signed in", b.get(f.rawAuthURL(authParams(f.multi, ""))), msg)
	wantErrorPage(t, "empty redirect_uri", b.get(f.rawAuthURL(with(authParams(f.multi, ""), "redirect_uri", ""))), msg)
	// Naming one works; an app with one URI may omit it.
	params := authParams(f.multi, "https://multi.example/b")
	f.wantCode(t, "multi /b", appRedirect(t, "multi /b", b.decide(b.get(f.rawAuthURL(params)), "allow"), "https://multi.example/b"), params.Get("state"))
	params = authParams(f.spa, "")
	f.wantCode(t, "spa omitted", appRedirect(t, "spa omitted", b.decide(b.get(f.rawAuthURL(params)), "allow"), "https://spa.example/cb"), params.Get("state"))
}

// R6749-4.1.2.1-a: a missing or unknown client_id, or a URI the client did
// not register, gets the error page and never a redirect: a browser that
// follows every redirect never reaches the attacker's server.
func TestR6749_4_1_2_1_a_UntrustedRequestsAreNotRedirected(t *testing.T) {
	f := newFlowFixture(t)
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer evil.Close()
	evilCB := evil.URL + "/cb"
	unknown := createdApp{ClientID: "app_" + strings.ToLower(rand.Text())}
	cases := []struct {
		name, msg string
		params    url.Values
	}{
		{"unknown client_id", "The app that sent you here is not registered.", authParams(unknown, evilCB)},
		{"client_id in another case", "The app that sent you here is not registered.", authParams(createdApp{ClientID: strings.ToUpper(f.web.ClientID)}, webCB)},
		{"missing client_id", "client_id is missing", with(authParams(f.web, evilCB), "client_id", "")},
		{"no client_id parameter", "client_id is missing", func() url.Values { v := authParams(f.web, evilCB); v.Del("client_id"); return v }()},
		{"web with a foreign URI", "not registered for this app", authParams(f.web, evilCB)},
		{"spa with a foreign URI", "not registered for this app", authParams(f.spa, evilCB)},
		{"native with a loopback URI on another path", "not registered for this app", authParams(f.native, evil.URL+"/evil")},
		{"client_credentials app with a URI", "not registered for this app", authParams(f.cc, evilCB)},
	}
	for _, signedIn := range []bool{false, true} {
		b := newBrowser(t, f.srv.URL)
		if signedIn {
			b = f.signedIn(t)
		}
		follow := &http.Client{Jar: b.c.Jar}
		for _, c := range cases {
			target := f.rawAuthURL(c.params)
			wantErrorPage(t, c.name, b.get(target), c.msg)
			resp, err := follow.Get(target)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Request.URL.Host != strings.TrimPrefix(f.srv.URL, "http://") {
				t.Errorf("%s: a following browser ended at %s with %d", c.name, resp.Request.URL, resp.StatusCode)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the attacker's server received %d requests", n)
	}
}
