package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Attack tests for the parameters and responses of the authorization
// endpoint, once the client and its redirect URI are trusted.

// wantErrorRedirect asserts an error response at redirectURI: the error,
// iss, the request's state (when given) and no code.
func (f *flowFixture) wantErrorRedirect(t testing.TB, name string, p page, redirectURI, code, state string) url.Values {
	t.Helper()
	q := appRedirect(t, name, p, redirectURI)
	if q.Get("error") != code || q.Get("iss") != f.srv.URL || q.Get("state") != state || q.Has("code") || q.Has("access_token") {
		t.Fatalf("%s: %v, want error %s with state %q and iss", name, q, code, state)
	}
	return q
}

// BCP-4.11.2-a: without a session, a bad request for a trusted client and
// URI gets the login page, not an error redirect; after login, the error
// goes to the app.
func TestBCP_4_11_2_a_AuthenticateBeforeAnyRedirect(t *testing.T) {
	f := newFlowFixture(t)
	for _, c := range []struct{ name, param, value, code string }{
		{"unknown scope", "scope", "doesnotexist", "invalid_scope"},
		{"implicit response_type", "response_type", "token", "unsupported_response_type"},
		{"plain PKCE", "code_challenge_method", "plain", "invalid_request"},
		{"no PKCE challenge", "code_challenge", "", "invalid_request"},
	} {
		params := with(authParams(f.web, webCB), c.param, c.value)
		b := newBrowser(t, f.srv.URL)
		p := b.get(f.rawAuthURL(params))
		wantLoginPage(t, c.name, p)
		p = b.login(p, f.user, f.password)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/authorize?") {
			t.Fatalf("%s: login answered %d %q", c.name, p.status, p.location)
		}
		f.wantErrorRedirect(t, c.name, b.get(p.location), webCB, c.code, params.Get("state"))
	}
}

// ISS-2-a: every authorization response carries iss, the issuer, errors
// included, and echoes state.
func TestISS_2_a_EveryResponseCarriesIss(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	wantIss := "iss=" + url.QueryEscape(f.srv.URL)
	check := func(name string, p page, redirectURI, code string, params url.Values) {
		t.Helper()
		if !strings.Contains(p.location, wantIss) {
			t.Fatalf("%s: Location %q has no %s", name, p.location, wantIss)
		}
		if code == "" {
			f.wantCode(t, name, appRedirect(t, name, p, redirectURI), params.Get("state"))
			return
		}
		f.wantErrorRedirect(t, name, p, redirectURI, code, params.Get("state"))
	}
	params := authParams(f.web, webCB)
	check("success", b.decide(b.get(f.rawAuthURL(params)), "allow"), webCB, "", params)
	params = authParams(f.web, webCB)
	check("remembered consent", b.get(f.rawAuthURL(params)), webCB, "", params)
	params = authParams(f.spa, "https://spa.example/cb")
	check("deny", b.decide(b.get(f.rawAuthURL(params)), "deny"), "https://spa.example/cb", "access_denied", params)
	params = with(authParams(f.web, webCB), "scope", "admin")
	check("invalid_scope", b.get(f.rawAuthURL(params)), webCB, "invalid_scope", params)
	params = with(authParams(f.web, webCB), "response_type", "token")
	check("unsupported_response_type", b.get(f.rawAuthURL(params)), webCB, "unsupported_response_type", params)
}

// ISS-2.3-a: the metadata advertises iss support and an issuer that is
// byte for byte the iss of a response, without query or fragment; on a
// production (https) server it is https.
func TestISS_2_3_a_MetadataIssuerEqualsIss(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	q := appRedirect(t, "deny", b.decide(b.get(f.rawAuthURL(authParams(f.spa, ""))), "deny"), "https://spa.example/cb")
	wantIssuerMetadata(t, f.srv.URL, q.Get("iss"), "http")

	h := newHTTPSFixture(t)
	hb, _ := h.signedIn(t)
	q = appRedirect(t, "https deny", hb.decide(hb.get(h.srv.URL+"/authorize?"+authParams(h.app, webCB).Encode()), "deny"), webCB)
	if q.Get("iss") != httpsIssuer {
		t.Fatalf("https server: iss %q", q.Get("iss"))
	}
	wantIssuerMetadata(t, h.srv.URL, q.Get("iss"), "https")
}

func wantIssuerMetadata(t *testing.T, base, iss, scheme string) {
	t.Helper()
	r := send(t, "GET", base+"/.well-known/oauth-authorization-server", "", "", nil)
	issuer, _ := r.body["issuer"].(string)
	if r.status != 200 || issuer == "" || issuer != iss || r.body["authorization_response_iss_parameter_supported"] != true {
		t.Fatalf("metadata issuer %q, flag %v; the response's iss is %q", issuer, r.body["authorization_response_iss_parameter_supported"], iss)
	}
	if u, err := url.Parse(issuer); err != nil || u.Scheme != scheme || strings.ContainsAny(issuer, "?#") {
		t.Fatalf("issuer %q: want a %s URL without query or fragment", issuer, scheme)
	}
}

// BCP-2.1.2-a: no implicit or hybrid response types; no token ever travels
// in the authorization response.
func TestBCP_2_1_2_a_NoTokensInTheAuthorizationResponse(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	for _, rt := range []string{"token", "id_token", "code token", "code id_token", "token code", "code id_token token", "none", "Code", "code "} {
		params := with(authParams(f.web, webCB), "response_type", rt)
		p := b.get(f.rawAuthURL(params))
		f.wantErrorRedirect(t, rt, p, webCB, "unsupported_response_type", params.Get("state"))
		if strings.Contains(p.location, "#") || strings.Contains(p.location, "access_token") || strings.Contains(p.location, "gth_") {
			t.Errorf("%s: Location %q", rt, p.location)
		}
	}
	r := send(t, "GET", f.srv.URL+"/.well-known/oauth-authorization-server", "", "", nil)
	if got := strs(r.body["response_types_supported"]); len(got) != 1 || got[0] != "code" {
		t.Fatalf("response_types_supported %v", got)
	}
}

// BCP-2.6-e: no CORS at the authorization endpoint, for any origin,
// whether or not the user is signed in.
func TestBCP_2_6_e_NoCORSAtTheAuthorizationEndpoint(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	b.decide(b.get(f.rawAuthURL(authParams(f.spa, ""))), "allow") // remembered: the next GET redirects
	for _, origin := range []string{"https://spa.example", "https://evil.example", "null"} {
		for _, method := range []string{"GET", "OPTIONS", "POST"} {
			req, _ := http.NewRequestWithContext(t.Context(), method, f.rawAuthURL(authParams(f.spa, "")), nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "authorization")
			p := b.do(req)
			for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
				if v := p.header.Get(h); v != "" {
					t.Errorf("%s /authorize from %s: %s: %s", method, origin, h, v)
				}
			}
			if method == "OPTIONS" && p.status != http.StatusMethodNotAllowed {
				t.Errorf("OPTIONS /authorize from %s: %d, want 405", origin, p.status)
			}
		}
	}
}

// O21-3.1-a: a repeated parameter is refused: client_id or redirect_uri
// with the error page, any other with invalid_request at the app; an empty
// parameter counts as missing.
func TestO21_3_1_a_RepeatedParametersRefused(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	const msg = "The request names more than one client_id or redirect_uri."
	base := authParams(f.web, webCB)
	raw := f.rawAuthURL(base)
	wantErrorPage(t, "redirect_uri twice", b.get(raw+"&redirect_uri="+url.QueryEscape("https://client.example/other")), msg)
	wantErrorPage(t, "same redirect_uri twice", b.get(raw+"&redirect_uri="+url.QueryEscape(webCB)), msg)
	wantErrorPage(t, "client_id twice", b.get(raw+"&client_id="+f.spa.ClientID), msg)
	wantErrorPage(t, "same client_id twice", b.get(raw+"&client_id="+f.web.ClientID), msg)
	wantErrorPage(t, "redirect_uri twice, no session", newBrowser(t, f.srv.URL).get(raw+"&redirect_uri=x"), msg)

	for _, extra := range []string{"state=b", "state=" + base.Get("state"), "scope=read&scope=write", "response_type=code", "code_challenge=" + base.Get("code_challenge"), "code_challenge_method=S256"} {
		p := b.get(raw + "&" + extra)
		state := base.Get("state")
		if strings.HasPrefix(extra, "state=") {
			state = "" // neither value can be trusted, so none is echoed
		}
		q := f.wantErrorRedirect(t, extra, p, webCB, "invalid_request", state)
		if !strings.Contains(q.Get("error_description"), "repeated") {
			t.Errorf("%s: error_description %q", extra, q.Get("error_description"))
		}
	}

	// A repeat survives the login page: it is refused after login, not
	// dropped (the app must not get a code without its state).
	fresh := newBrowser(t, f.srv.URL)
	afterLogin := fresh.login(fresh.get(raw+"&state=b"), f.user, f.password)
	if afterLogin.status != 303 {
		t.Fatalf("login: %d", afterLogin.status)
	}
	f.wantErrorRedirect(t, "state twice before login", fresh.get(afterLogin.location), webCB, "invalid_request", "")

	// The consent form is held to the same rule.
	consent := b.get(f.rawAuthURL(authParams(f.spa, "")))
	wantConsentPage(t, "spa", consent)
	form := hidden(consent.body)
	form.Set("decision", "allow")
	form.Add("code_challenge", form.Get("code_challenge"))
	f.wantErrorRedirect(t, "consent with code_challenge twice", b.post("/authorize", form), "https://spa.example/cb", "invalid_request", form.Get("state"))

	// An empty code_challenge is a missing one.
	params := with(authParams(f.spa, ""), "code_challenge", "")
	f.wantErrorRedirect(t, "empty code_challenge", b.get(f.rawAuthURL(params)), "https://spa.example/cb", "invalid_request", params.Get("state"))
}

var crlfInjection = "<script>alert(1)</script>\"'><img src=x>\r\nSet-Cookie: injected=1\r\nX-Injected: 1"

// wantEscaped asserts that a page rendered the hostile input as text.
func wantEscaped(t *testing.T, name string, p page) {
	t.Helper()
	if strings.Contains(strings.ToLower(p.body), "<script") || strings.Contains(p.body, "<img") || strings.Contains(p.body, "\"'>") {
		t.Errorf("%s: the page has unescaped input: %.600s", name, p.body)
	}
	wantNoHeaderInjection(t, name, p)
}

func wantNoHeaderInjection(t *testing.T, name string, p page) {
	t.Helper()
	if p.header.Get("X-Injected") != "" || strings.ContainsAny(p.location, "\r\n") || strings.Contains(strings.Join(p.header.Values("Set-Cookie"), ";"), "injected") {
		t.Errorf("%s: the response headers were split: %v", name, p.header)
	}
}

// O21-7.11-a: hostile state, scope, client_id, error_description and
// username are escaped in pages, never split a Location header, and leave
// JSON well-formed; state survives the round trip byte for byte.
func TestO21_7_11_a_HostileParametersAreEncoded(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	params := with(authParams(f.web, webCB), "state", crlfInjection)
	p := b.get(f.rawAuthURL(params))
	wantLoginPage(t, "login page", p)
	wantEscaped(t, "login page", p)
	if got := hidden(p.body).Get("state"); got != crlfInjection {
		t.Fatalf("the login form carries state %q", got)
	}
	p = b.login(p, f.user, f.password)
	wantNoHeaderInjection(t, "login redirect", p)
	p = b.get(p.location)
	wantConsentPage(t, "consent page", p)
	wantEscaped(t, "consent page", p)
	p = b.decide(p, "allow")
	wantNoHeaderInjection(t, "success redirect", p)
	f.wantCode(t, "success redirect", appRedirect(t, "success", p, webCB), crlfInjection)

	p = b.get(f.rawAuthURL(with(params, "scope", "read "+crlfInjection)))
	wantNoHeaderInjection(t, "invalid_scope redirect", p)
	f.wantErrorRedirect(t, "invalid_scope redirect", p, webCB, "invalid_scope", crlfInjection)

	for name, v := range map[string]url.Values{
		"hostile client_id":    with(params, "client_id", crlfInjection),
		"hostile redirect_uri": with(params, "redirect_uri", webCB+crlfInjection),
	} {
		p = b.get(f.rawAuthURL(v))
		wantEscaped(t, name, p)
		if p.status != http.StatusBadRequest || p.location != "" {
			t.Errorf("%s: %d %q", name, p.status, p.location)
		}
	}

	p = b.post("/login", url.Values{"username": {crlfInjection}, "password": {"wrong-" + f.password}})
	if p.status != http.StatusUnauthorized {
		t.Fatalf("hostile username: %d", p.status)
	}
	wantEscaped(t, "login failure page", p)

	dev := url.Values{"code": {crlfInjection}, "state": {crlfInjection}, "iss": {crlfInjection}, "error": {crlfInjection}, "error_description": {crlfInjection}}
	p = b.get("/dev/callback?" + dev.Encode())
	wantEscaped(t, "dev callback", p)
	if p.status != http.StatusOK || !strings.Contains(p.body, "&lt;script&gt;") {
		t.Fatalf("dev callback: %d, the input is not shown escaped", p.status)
	}

	// JSON errors stay well-formed with hostile input.
	for name, form := range map[string]url.Values{
		"hostile client_id": {"grant_type": {"authorization_code"}, "client_id": {crlfInjection}, "code": {crlfInjection}},
		"hostile code":      {"grant_type": {"authorization_code"}, "client_id": {f.spa.ClientID}, "code": {crlfInjection}, "code_verifier": {crlfInjection}},
		"hostile scope":     {"grant_type": {"client_credentials"}, "scope": {crlfInjection}},
	} {
		var h map[string]string
		if name == "hostile scope" {
			h = map[string]string{"Authorization": basicAuth(f.cc.ClientID, f.cc.ClientSecret)}
		}
		r := send(t, "POST", f.srv.URL+"/token", formCT, form.Encode(), h)
		if !json.Valid([]byte(r.raw)) || r.body["error"] == nil || r.status < 400 || r.status >= 500 || r.header.Get("X-Injected") != "" {
			t.Errorf("%s: %d %q", name, r.status, r.raw)
		}
	}
}

var scopeLineRe = regexp.MustCompile(`<li><strong>[^<]*</strong> <span class="muted">\(([^)]+)\)</span>( — new)?</li>`)

// consentScopes returns the scopes of a consent page and which are new.
func consentScopes(body string) map[string]bool {
	out := map[string]bool{}
	for _, m := range scopeLineRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2] != ""
	}
	return out
}

// NAT-8.6-a: a native app (loopback or private-use URI) is asked about
// every time; a web app with an https URI is approved silently for what
// the user already allowed, and asked again, naming the new scope, for
// more.
func TestNAT_8_6_a_NoSilentApprovalForNativeApps(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	for _, uri := range []string{"http://127.0.0.1:51004/cb", "com.example.app:/cb"} {
		params := with(authParams(f.native, uri), "scope", "read")
		appRedirect(t, uri, b.decide(b.get(f.rawAuthURL(params)), "allow"), uri)
		again := b.get(f.rawAuthURL(with(authParams(f.native, uri), "scope", "read")))
		wantConsentPage(t, "native again "+uri, again)
		if got := consentScopes(again.body); len(got) != 1 || got["read"] {
			t.Fatalf("native again: scopes %v, want read, not new", got)
		}
	}

	params := with(authParams(f.web, webCB), "scope", "read")
	first := b.get(f.rawAuthURL(params))
	wantConsentPage(t, "web first", first)
	if got := consentScopes(first.body); len(got) != 1 || !got["read"] {
		t.Fatalf("web first: scopes %v, want read, new", got)
	}
	appRedirect(t, "web first", b.decide(first, "allow"), webCB)
	for _, scope := range []string{"read", ""} { // the same, and the defaults (read)
		params = with(authParams(f.web, webCB), "scope", scope)
		p := b.get(f.rawAuthURL(params))
		if p.status != http.StatusFound {
			t.Fatalf("web again with scope %q: %d, want a silent 302", scope, p.status)
		}
		f.wantCode(t, "web again", appRedirect(t, "web again", p, webCB), params.Get("state"))
	}
	more := b.get(f.rawAuthURL(with(authParams(f.web, webCB), "scope", "read write")))
	wantConsentPage(t, "web with one more scope", more)
	if got := consentScopes(more.body); len(got) != 2 || got["read"] || !got["write"] {
		t.Fatalf("web with one more scope: %v, want read and write, write new", got)
	}
	appRedirect(t, "web read write", b.decide(more, "allow"), webCB)
	params = with(authParams(f.web, webCB), "scope", "write")
	if p := b.get(f.rawAuthURL(params)); p.status != http.StatusFound {
		t.Fatalf("web with fewer scopes: %d, want a silent 302", p.status)
	}
}
