package main

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/secret"
)

// Attack tests for issue 9's medium and low findings, each beside the
// positive control that a server refusing everything would fail.

// introspectBody introspects token as caller and returns the whole answer.
func (f *flowFixture) introspectBody(t *testing.T, caller createdApp, token string) map[string]any {
	t.Helper()
	return introspectAt(t, f.srv.URL, caller, token)
}

func wantInactive(t *testing.T, name string, body map[string]any) {
	t.Helper()
	if len(body) != 1 || body["active"] != false {
		t.Fatalf("%s: %v, want exactly {\"active\":false}", name, body)
	}
}

// Issue 9 finding 2; INT-2.2-a; DESIGN invariant 12: a refresh token is no
// bearer token. A resource server asking about one gets exactly
// {"active":false}; the owning app sees its own live refresh token, with
// token_type refresh_token; once superseded (rotated out, even inside the
// retry window) it is inactive to everyone. The resource server still sees
// the access token, with token_type Bearer (the positive control).
func TestINT_2_2_a_RefreshTokensAreNoBearerTokens(t *testing.T) {
	f := newFlowFixture(t)
	tok := f.grantTokens(t, f.web, webCB, "read")
	f.introspectAs(t, f.web, tok.access) // creates f.rs
	wantInactive(t, "a resource server asks about a refresh token", f.introspectBody(t, f.rs, tok.refresh))
	if b := f.introspectBody(t, f.rs, tok.access); b["active"] != true || b["token_type"] != "Bearer" {
		t.Fatalf("a resource server asks about an access token: %v", b)
	}
	own := f.introspectBody(t, f.web, tok.refresh)
	if own["active"] != true || own["token_type"] != "refresh_token" || own["client_id"] != f.web.ClientID {
		t.Fatalf("the owner asks about its live refresh token: %v", own)
	}
	next := f.mustRefresh(t, f.web, tok.refresh, nil)
	for name, caller := range map[string]createdApp{"the owner": f.web, "a resource server": f.rs} {
		wantInactive(t, name+" asks about a superseded refresh token", f.introspectBody(t, caller, tok.refresh))
	}
	if b := f.introspectBody(t, f.web, next.refresh); b["active"] != true || b["token_type"] != "refresh_token" {
		t.Fatalf("the owner asks about the successor: %v", b)
	}
	// Another confidential app never sees it either.
	wantInactive(t, "another app asks about the refresh token", f.introspectBody(t, f.tenant, next.refresh))
}

// Issue 9 finding 5; DESIGN invariant 7; O21-5.1-b: a token hidden in
// syntax that Go's parsers drop, next to a valid header, is refused, not
// ignored. The header alone answers 200 (the positive control).
func TestInvariant7TokenHiddenInMalformedSyntaxIsRefused(t *testing.T) {
	f := newFlowFixture(t)
	tok := f.ccToken(t)
	at := url.QueryEscape(tok)
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	base := f.srv.URL + "/whoami"
	if r := send(t, "GET", base, "", "", bearer); r.status != 200 {
		t.Fatalf("the header alone: %d %s", r.status, r.raw)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("access_token", tok)
	_ = mw.Close()
	cases := []struct{ name, method, query, ct, body string }{
		{"a trailing semicolon", "GET", "access_token=" + at + ";", "", ""},
		{"semicolon-joined pairs", "GET", "x=1;access_token=" + at, "", ""},
		{"an encoded name", "GET", "%61ccess_token=" + at, "", ""},
		{"a bad escape beside it in the query", "GET", "access_token=" + at + "&x=%zz", "", ""},
		{"upper case", "GET", "ACCESS_TOKEN=" + at, "", ""},
		{"a bad escape beside it in the body", "POST", "", formCT, "access_token=" + at + "&x=%zz"},
		{"an encoded name in the body", "POST", "", formCT, "x=%zz&access%5Ftoken=" + at},
		{"a body without a content type", "POST", "", "", "access_token=" + at},
		{"a JSON body", "POST", "", "application/json", `{"access_token":"` + tok + `"}`},
		{"a multipart body", "POST", "", mw.FormDataContentType(), mp.String()},
		{"a GET with a body", "GET", "", formCT, "access_token=" + at},
	}
	for _, c := range cases {
		target := base
		if c.query != "" {
			target += "?" + c.query
		}
		r := send(t, c.method, target, c.ct, c.body, bearer)
		if r.status != 400 || r.body["error"] != "invalid_request" {
			t.Errorf("%s beside a valid header: %d %s, want 400 invalid_request", c.name, r.status, r.raw)
		}
	}
	// Without a header, a token in a body that is no form is simply not
	// accepted (O21-5.1-b): 401 with a challenge.
	r := send(t, "POST", base, "application/json", `{"access_token":"`+tok+`"}`, nil)
	if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("a JSON body without a header: %d %s", r.status, r.raw)
	}
}

// Issue 9 finding 8; RFC 9700 §4.2.4; O21-3.2.3-a: every response of the
// front channel carries Cache-Control: no-store and Referrer-Policy:
// no-referrer: the redirects that carry a code (302 from GET /authorize,
// 303 after consent), error redirects, plain errors and text.
func TestFrontChannelResponsesAreNotCachedNorReferred(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	params := authParams(f.web, webCB)
	consented := b.decide(b.get(f.rawAuthURL(params)), "allow")
	silent := b.get(f.rawAuthURL(authParams(f.web, webCB)))
	anon := newBrowser(t, f.srv.URL)
	responses := map[string]page{
		"303 with a code after consent":        consented,
		"302 with a code from GET /authorize":  silent,
		"error redirect":                       b.get(f.rawAuthURL(with(authParams(f.web, webCB), "scope", "nope"))),
		"error page":                           anon.get("/authorize?client_id=nope"),
		"303 after login":                      anon.login(anon.get("/login"), f.user, f.password),
		"303 after logout":                     b.post("/logout", nil),
		"404 of an unknown path":               anon.get("/no-such-page"),
		"405 of a page":                        anon.do(mustRequest(t, "DELETE", f.srv.URL+"/login")),
		"cross-site form refused":              anon.postFrom("/login", url.Values{}, crossSite),
		"health check text":                    anon.get("/healthz"),
		"405 of a protocol endpoint":           anon.get("/token"),
		"JSON error of the authorize endpoint": anon.do(mustRequest(t, "PUT", f.srv.URL+"/authorize")),
	}
	if silent.status != http.StatusFound || !strings.Contains(silent.location, "code=") || consented.status != http.StatusSeeOther {
		t.Fatalf("the fixture did not produce the code redirects: %d %q, %d", silent.status, silent.location, consented.status)
	}
	for name, p := range responses {
		if cc := p.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s (%d): Cache-Control %q", name, p.status, cc)
		}
		if rp := p.header.Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("%s (%d): Referrer-Policy %q", name, p.status, rp)
		}
	}
	// The stylesheet may be cached: the headers are a default, not a clamp.
	if cc := anon.get("/assets/style.css").header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
		t.Errorf("style.css: Cache-Control %q", cc)
	}
}

func mustRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Issue 9 finding 9: a registered query that pre-sets a response parameter
// would be read by the client before ours and defeat the state and RFC 9207
// checks; registration refuses it, also percent-encoded. Other query
// parameters stay allowed (the positive control).
func TestRegisteredQueryMayNotPresetResponseParameters(t *testing.T) {
	f := newFlowFixture(t)
	for _, q := range []string{
		"iss=https://evil.example&code=planted&state=planted",
		"code=planted", "state=planted", "iss=https://evil.example", "error=access_denied",
		"error_description=x", "error_uri=https://evil.example", "tenant=a&%69ss=https://evil.example",
		"a=1;b=2",
		// Names that some framework reads as a response parameter.
		"CODE=1", "State=1", "+code=1", "%20code=1", "code%20=1", "code%00=1", "code[]=1",
		"error.uri=x", "error%20description=x", "%C5%BFtate=1", // ſ folds to s
		// Found by the second outside attack: Express (qs), Rack and PHP
		// read these as error, state, code and iss.
		"[error]=access_denied&[error_description]=call+us&[state]=x", "%5Bcode%5D=1", "code]=1", "]code=1",
		"code%00x=1", "%C4%B1ss=x", "code.x=1",
		"%C4%B0ss=x", // İ lowers to i in Go and Java (the third outside attack)
	} {
		uri := "https://q.example/cb?" + q
		code, _, errOut := runCmd(t, f.dir, nil, "", "app", "create", "--name", "Q", "--type", "public", "--scope", "read", "--redirect-uri", uri)
		if code == 0 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "q.example") || strings.Contains(errOut, "\x00") {
			t.Errorf("registered %q: exit %d %q", uri, code, errOut)
		}
	}
	ok := createApp(t, f.dir, "--name", "Q", "--type", "public", "--scope", "read", "--redirect-uri", "https://q.example/cb?tenant=a&codes=1&issuer=x&x.code=1&state_id=2&error-code=3")
	if ok.ClientID == "" {
		t.Fatal("a redirect URI with harmless query parameters was refused")
	}
}

// RFC 6749 §5.2: error_description holds only %x20-21 / %x23-5B / %x5D-7E,
// in JSON and in error redirects, whatever the client sent.
func TestErrorDescriptionsUseTheAllowedCharacters(t *testing.T) {
	f := newFlowFixture(t)
	descriptions := map[string]string{}
	for name, body := range map[string]string{
		"a repeated parameter":   "grant_type=client_credentials&grant_type=x",
		"a repeated odd name":    `a"\b=1&a"\b=2&grant_type=client_credentials`,
		"an unknown grant type":  `grant_type=` + url.QueryEscape(`"\évil`),
		"a scope with a quote":   "grant_type=client_credentials&scope=" + url.QueryEscape(`re"ad`),
		"a repeated client name": "client_id=" + url.QueryEscape("x\"y") + "&client_id=z",
	} {
		r := send(t, "POST", f.srv.URL+"/token", formCT, body, map[string]string{"Authorization": basicAuth(f.cc.ClientID, f.cc.ClientSecret)})
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("%s: %d %s", name, r.status, r.raw)
		}
		descriptions[name], _ = r.body["error_description"].(string)
	}
	b := f.signedIn(t)
	p := b.get(f.rawAuthURL(with(authParams(f.web, webCB), "scope", `"x`)))
	descriptions["error redirect"] = callback(t, p).Get("error_description")
	for name, d := range descriptions {
		if d == "" {
			t.Errorf("%s: no error_description", name)
		}
		for _, c := range []byte(d) {
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				t.Errorf("%s: error_description %q has %q", name, d, c)
			}
		}
	}
}

// INT-2.1-a; RFC 7662 §4: an authenticated resource server that introspects
// many well-formed tokens that do not exist (a scan) is throttled with 429
// after a burst. Its introspection of a real token still answers (so an
// attacker who makes an API introspect made-up tokens cannot stop it from
// checking real ones), and another caller is not affected: the positive
// controls.
func TestINT_2_1_a_IntrospectionScanIsThrottled(t *testing.T) {
	f := newFlowFixture(t)
	real := f.ccToken(t)
	f.introspectAs(t, f.cc, real) // creates f.rs
	answered, throttled := 0, 0
	for range 300 {
		status, body := postForm(t, f.srv.URL+"/introspect", f.rs.ClientID, f.rs.ClientSecret, url.Values{"token": {secret.New(secret.AccessToken)}})
		switch {
		case status == 200 && len(body) == 1 && body["active"] == false:
			answered++
		case status == 429:
			throttled++
		default:
			t.Fatalf("probe: %d %v", status, body)
		}
	}
	if answered < 100 || answered > 150 || throttled == 0 {
		t.Fatalf("300 probes: %d answered, %d throttled; want the burst of 100 (and a little refill) answered, the rest throttled", answered, throttled)
	}
	if b := f.introspectBody(t, f.rs, real); b["active"] != true {
		t.Fatalf("a real token while throttled: %v", b)
	}
	wantInactive(t, "another caller's probe", f.introspectBody(t, f.web, secret.New(secret.AccessToken)))
}
