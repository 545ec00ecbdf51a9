package main

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Attack tests for the user-facing pages (DESIGN invariant 9), one per
// checklist row.

// postFrom submits a form with the given request headers in place of a
// same-origin browser's Origin and Sec-Fetch-Site.
func (b *browser) postFrom(path string, form url.Values, h map[string]string) page {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(b.t.Context(), "POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formCT)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

var crossSite = map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}

// userPages fetches every user-facing page, each in the state that shows
// it, and checks that it is that page.
func (f *flowFixture) userPages(t *testing.T) map[string]page {
	t.Helper()
	anon := newBrowser(t, f.srv.URL)
	b := f.signedIn(t)
	wrong := url.Values{"username": {f.user}, "password": {"wrong-" + f.password}}
	pages := map[string]page{
		"login (authorize, no session)": anon.get(f.rawAuthURL(authParams(f.web, webCB))),
		"login (GET /login)":            anon.get("/login"),
		"login failed":                  anon.post("/login", wrong),
		"consent":                       b.get(f.rawAuthURL(authParams(f.web, webCB))),
		"error (unknown client)":        anon.get("/authorize?client_id=nope"),
		"error (cross-site form)":       anon.postFrom("/login", wrong, crossSite),
		"home (signed out)":             anon.get("/"),
		"home (signed in)":              b.get("/"),
		"logged out":                    anon.get("/logged-out"),
		"dev callback (code)":           anon.get("/dev/callback?" + url.Values{"code": {"x"}, "state": {"s"}, "iss": {f.srv.URL}}.Encode()),
		"dev callback (error)":          anon.get("/dev/callback?error=access_denied&state=s"),
		"connected apps":                b.get("/account/apps"),
		"404":                           anon.get("/no-such-page"),
		"405":                           anon.do(mustRequest(t, "DELETE", f.srv.URL+"/login")),
	}
	for name, p := range f.portalPages(t) {
		pages[name] = p
	}
	nobody := url.Values{"username": {"nobody"}, "password": {"wrong-" + f.password}}
	for range 5 {
		anon.post("/login", nobody)
	}
	pages["login throttled"] = anon.post("/login", nobody)
	for name, want := range map[string]struct {
		status int
		text   string
	}{
		"login (authorize, no session)":   {200, `name="password"`},
		"login (GET /login)":              {200, `name="password"`},
		"login failed":                    {401, "The username or password is wrong."},
		"consent":                         {200, `name="decision"`},
		"error (unknown client)":          {400, "This link cannot be used"},
		"error (cross-site form)":         {403, "Request refused"},
		"home (signed out)":               {200, "You are not signed in."},
		"home (signed in)":                {200, `<form method="post" action="/logout">`},
		"logged out":                      {200, "You are signed out"},
		"dev callback (code)":             {200, `id="code"`},
		"dev callback (error)":            {200, `id="error"`},
		"connected apps":                  {200, "<h1>Connected apps</h1>"},
		"404":                             {404, "<h1>Page not found</h1>"},
		"405":                             {405, "<h1>Method not allowed</h1>"},
		"login throttled":                 {429, "Too many failed sign-ins."},
		"developer apps":                  {200, "<h1>Your apps</h1>"},
		"developer apps (refused)":        {400, `class="error"`},
		"developer app":                   {200, "OAuth &amp; Permissions"},
		"developer app (refused)":         {400, "does not match"},
		"developer secret":                {200, `id="secret"`},
		"developer 404 (not a developer)": {404, "<h1>Page not found</h1>"},
	} {
		if p := pages[name]; p.status != want.status || !strings.Contains(p.body, want.text) {
			t.Fatalf("%s: %d, want %d and %q: %.300s", name, p.status, want.status, want.text, p.body)
		}
	}
	return pages
}

// portalPages are the developer portal's pages, as a developer who owns
// an app sees them, and the 404 that a user who is not a developer gets.
func (f *flowFixture) portalPages(t *testing.T) map[string]page {
	t.Helper()
	password := "pages dev " + f.password
	f.cmd(t, password+"\n", "user", "create", "--username", "pagesdev", "--password-stdin", "--developer")
	app := createAppWith(t, f.dir, f.vars, "--name", "Pages App", "--type", "confidential", "--scope", "read",
		"--redirect-uri", "https://pages.example/cb", "--owner", "pagesdev", "--homepage", "https://pages.example")
	dev := newBrowser(t, f.srv.URL)
	dev.login(dev.get("/login"), "pagesdev", password)
	path := "/developer/apps/" + app.ClientID
	return map[string]page{
		"developer apps":                  dev.get("/developer/apps"),
		"developer apps (refused)":        dev.post("/developer/apps", url.Values{"name": {""}, "type": {"confidential"}}),
		"developer app":                   dev.get(path),
		"developer app (refused)":         dev.post(path+"/delete", url.Values{"confirm": {"nope"}}),
		"developer secret":                dev.post(path+"/credentials/create", url.Values{"name": {"pages"}}),
		"developer 404 (not a developer)": f.signedIn(t).get(path),
	}
}

var (
	refAttr = regexp.MustCompile(`(?i)\s(src|href|action|formaction|srcset|poster|data|background|ping|xlink:href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
	cssURL  = regexp.MustCompile(`(?i)url\(\s*['"]?([^'")\s]*)|@import\s+['"]?([^'";\s]*)`)
)

// sameOriginPath reports whether ref is a path on this origin: /x, but
// not //host or /\host, which browsers read as another host.
func sameOriginPath(ref string) bool {
	return strings.HasPrefix(ref, "/") && !strings.HasPrefix(ref, "//") && !strings.HasPrefix(ref, `/\`)
}

// BCP-4.2.4-a: the pages load and link nothing from other origins, and
// send no Referer.
func TestBCP_4_2_4_a_NoThirdPartyResourcesNoReferrer(t *testing.T) {
	f := newFlowFixture(t)
	for name, p := range f.userPages(t) {
		var refs []string
		for _, m := range refAttr.FindAllStringSubmatch(p.body, -1) {
			refs = append(refs, m[2]+m[3]+m[4])
		}
		for _, m := range cssURL.FindAllStringSubmatch(p.body, -1) {
			refs = append(refs, m[1]+m[2])
		}
		if !slices.Contains(refs, "/assets/style.css") {
			t.Errorf("%s: the stylesheet link was not found among %q", name, refs)
		}
		for _, ref := range refs {
			if !sameOriginPath(ref) {
				t.Errorf("%s: reference %q is not a path on this origin", name, ref)
			}
		}
		if strings.Contains(strings.ToLower(p.body), "<base") || strings.Contains(strings.ToLower(p.body), "http-equiv") {
			t.Errorf("%s: a <base> or http-equiv tag", name)
		}
		if rp := p.header.Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", name, rp)
		}
		if !strings.Contains(p.body, `<meta name="referrer" content="no-referrer">`) {
			t.Errorf("%s: no referrer meta tag", name)
		}
	}
	css := send(t, "GET", f.srv.URL+"/assets/style.css", "", "", nil)
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %s", css.status, css.header.Get("Content-Type"))
	}
	for _, m := range cssURL.FindAllStringSubmatch(css.raw, -1) {
		if ref := m[1] + m[2]; !sameOriginPath(ref) && !strings.HasPrefix(ref, "data:") {
			t.Errorf("stylesheet reference %q", ref)
		}
	}
}

// cspDirectives parses a Content-Security-Policy header.
func cspDirectives(csp string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 {
			out[strings.ToLower(f[0])] = f[1:]
		}
	}
	return out
}

var inlineHandler = regexp.MustCompile(`(?i)<[^>]+\son[a-z]+\s*=`)

// BCP-4.16-a: no page can be framed, and no page can run inline script.
func TestBCP_4_16_a_PagesCannotBeFramed(t *testing.T) {
	f := newFlowFixture(t)
	for name, p := range f.userPages(t) {
		d := cspDirectives(p.header.Get("Content-Security-Policy"))
		if !slices.Equal(d["frame-ancestors"], []string{"'none'"}) {
			t.Errorf("%s: frame-ancestors %q in %q", name, d["frame-ancestors"], p.header.Get("Content-Security-Policy"))
		}
		script, ok := d["script-src"]
		if !ok {
			script, ok = d["default-src"]
		}
		if !ok || len(script) == 0 {
			t.Errorf("%s: no script-src or default-src", name)
		}
		for _, src := range script {
			if src != "'none'" && src != "'self'" {
				t.Errorf("%s: script source %s", name, src)
			}
		}
		if xfo := p.header.Get("X-Frame-Options"); xfo != "DENY" {
			t.Errorf("%s: X-Frame-Options %q", name, xfo)
		}
		if strings.Contains(strings.ToLower(p.body), "<script") || inlineHandler.MatchString(p.body) || strings.Contains(strings.ToLower(p.body), "javascript:") {
			t.Errorf("%s: inline script in the page", name)
		}
	}
}

// BCP-4.12-a: every form post that carries credentials or a decision is
// answered with 303, so that the browser follows with a GET and no form.
func TestBCP_4_12_a_FormPostsAnswer303(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	want303 := func(name string, p page, location string) page {
		t.Helper()
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, location) {
			t.Fatalf("%s: %d %q, want 303 to %s", name, p.status, p.location, location)
		}
		return p
	}
	p := want303("login from an authorization request", b.login(b.get(f.rawAuthURL(authParams(f.web, webCB))), f.user, f.password), "/authorize?")
	want303("consent allow", b.decide(b.get(p.location), "allow"), webCB+"?")
	want303("consent deny", b.decide(b.get(f.rawAuthURL(authParams(f.spa, ""))), "deny"), "https://spa.example/cb?")
	want303("logout", b.post("/logout", url.Values{}), "/logged-out")
	if p := want303("login from the login page", b.login(b.get("/login"), f.user, f.password), "/"); p.location != "/" {
		t.Fatalf("login from the login page: 303 to %q, want /", p.location)
	}
}

// sessionCookie returns the session cookie that p sets.
func sessionCookie(t *testing.T, p page, name string) *http.Cookie {
	t.Helper()
	for _, line := range p.header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie set: %q", name, p.header.Values("Set-Cookie"))
	return nil
}

func wantSessionCookie(t *testing.T, c *http.Cookie, secure bool) {
	t.Helper()
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != secure || c.MaxAge <= 0 || c.Value == "" {
		t.Fatalf("session cookie %s: HttpOnly %t, SameSite %v, Path %q, Domain %q, Secure %t, Max-Age %d; want HttpOnly, Lax, /, no Domain, Secure %t",
			c.Name, c.HttpOnly, c.SameSite, c.Path, c.Domain, c.Secure, c.MaxAge, secure)
	}
}

// R6749-10.12-a: a cross-site post of the consent, login or logout form,
// even with the victim's session cookie, is refused with 403; the app gets
// no code and no consent is recorded. The session cookie is HttpOnly,
// SameSite=Lax, host-only, and on https Secure with the __Host- prefix.
func TestR6749_10_12_a_CrossSiteFormsRefused(t *testing.T) {
	f := newFlowFixture(t)
	victim := f.signedIn(t)
	consent := victim.get(f.rawAuthURL(authParams(f.web, webCB)))
	wantConsentPage(t, "victim", consent)
	form := hidden(consent.body)
	form.Set("decision", "allow")
	wantRefused := func(name string, p page) {
		t.Helper()
		if p.status != http.StatusForbidden || p.location != "" || !strings.Contains(p.body, "Request refused") || strings.Contains(p.body, "gth_ac_") {
			t.Errorf("%s: %d %q, want the 403 page", name, p.status, p.location)
		}
	}
	for name, h := range map[string]map[string]string{
		"Origin and Sec-Fetch-Site":    crossSite,
		"Sec-Fetch-Site: cross-site":   {"Sec-Fetch-Site": "cross-site"},
		"Sec-Fetch-Site: same-site":    {"Sec-Fetch-Site": "same-site"},
		"Origin only (older browsers)": {"Origin": "https://evil.example"},
		"Origin: null":                 {"Origin": "null"},
		"Origin of the app":            {"Origin": "https://client.example", "Sec-Fetch-Site": "cross-site"},
	} {
		wantRefused("consent, "+name, victim.postFrom("/authorize", form, h))
	}
	// No consent was recorded: web, an https app, would be approved silently.
	wantConsentPage(t, "after the refused posts", victim.get(f.rawAuthURL(authParams(f.web, webCB))))

	// Login CSRF: no session is opened.
	anon := newBrowser(t, f.srv.URL)
	p := anon.postFrom("/login", url.Values{"username": {f.user}, "password": {f.password}}, crossSite)
	wantRefused("login", p)
	if len(p.header.Values("Set-Cookie")) != 0 {
		t.Fatalf("a cross-site login set %q", p.header.Values("Set-Cookie"))
	}
	// Logout CSRF: the session lives on.
	wantRefused("logout", victim.postFrom("/logout", url.Values{}, crossSite))
	if !strings.Contains(victim.get("/").body, "Signed in as") {
		t.Fatal("a cross-site logout ended the session")
	}

	nb := newBrowser(t, f.srv.URL)
	p = nb.login(nb.get("/login"), f.user, f.password)
	wantSessionCookie(t, sessionCookie(t, p, "gatehouse_session"), false)
	h := newHTTPSFixture(t)
	_, p = h.signedIn(t)
	wantSessionCookie(t, sessionCookie(t, p, "__Host-gatehouse_session"), true)
}

var evilTargets = []string{"https://evil.example", "//evil.example", `/\evil.example`, "https:evil.example", "%2F%2Fevil.example", `\\evil.example`, "/%09/evil.example", "http://evil.example/"}

var returnParams = []string{"return_to", "next", "redirect", "continue", "post_logout_redirect_uri", "url", "returnTo", "return_url", "goto"}

// evilParams sets every return-address parameter to target.
func evilParams(base url.Values, target string) url.Values {
	v := clone(base)
	for _, k := range returnParams {
		v.Set(k, target)
	}
	return v
}

// wantStaysHome asserts that p neither names the attacker's target nor
// redirects anywhere but this server or the registered app.
func (f *flowFixture) wantStaysHome(t *testing.T, name string, p page) {
	t.Helper()
	if strings.Contains(p.body, "evil.example") || strings.Contains(strings.ToLower(p.body), "http-equiv") {
		t.Errorf("%s: the page names the target or refreshes: %.300s", name, p.body)
	}
	if f.leaves(p) || strings.Contains(p.location, "evil") {
		t.Errorf("%s: %d to %q", name, p.status, p.location)
	}
}

// leaves reports whether p is a redirect off this server to anywhere but
// the registered app, resolving Location as a browser does (a backslash is
// a slash; tabs and newlines are dropped).
func (f *flowFixture) leaves(p page) bool {
	if p.status < 300 || p.status > 399 {
		return false
	}
	base, _ := url.Parse(f.srv.URL)
	ref, err := url.Parse(strings.NewReplacer(`\`, "/", "\t", "", "\r", "", "\n", "").Replace(p.location))
	if err != nil {
		return true
	}
	u := base.ResolveReference(ref)
	return (u.Scheme != base.Scheme || u.Host != base.Host) && !strings.HasPrefix(p.location, webCB+"?")
}

// BCP-2.1-c: no page redirects to an address taken from a request: every
// page, GET and POST, signed in or not, with every usual return-address
// parameter set to every usual bypass.
func TestBCP_2_1_c_NoOpenRedirector(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	anon := newBrowser(t, f.srv.URL)
	b.decide(b.get(f.rawAuthURL(authParams(f.web, webCB))), "allow") // remembered: authorize redirects at once
	authz := authParams(f.web, webCB)
	creds := url.Values{"username": {f.user}, "password": {f.password}}
	consent := b.get(f.rawAuthURL(with(authz, "scope", "read write")))
	wantConsentPage(t, "read write", consent)
	decision := with(hidden(consent.body), "decision", "allow")
	for _, target := range evilTargets {
		for _, path := range []string{"/login", "/logout", "/logged-out", "/", "/authorize", "/dev/callback", "/assets/style.css", "/nope"} {
			for who, br := range map[string]*browser{"signed out": anon, "signed in": b} {
				q := evilParams(url.Values{}, target)
				if path == "/authorize" {
					q = evilParams(authz, target)
				}
				f.wantStaysHome(t, "GET "+path+" "+who+" "+target, br.get(path+"?"+q.Encode()))
				form := evilParams(url.Values{}, target)
				if path == "/authorize" {
					form = evilParams(decision, target)
				}
				if path == "/logout" && who == "signed in" {
					continue // below, so that b stays signed in
				}
				f.wantStaysHome(t, "POST "+path+" "+who+" "+target, br.post(path, form))
			}
		}
		// A successful login goes to / or back to the authorization request.
		for name, form := range map[string]url.Values{"plain": evilParams(creds, target), "authorization": evilParams(with(with(authz, "username", f.user), "password", f.password), target)} {
			nb := newBrowser(t, f.srv.URL)
			p := nb.post("/login", form)
			f.wantStaysHome(t, "login "+name+" "+target, p)
			if p.status != http.StatusSeeOther || p.location != "/" && !strings.HasPrefix(p.location, "/authorize?client_id=") {
				t.Errorf("login %s with %s: %d %q", name, target, p.status, p.location)
			}
			if name == "authorization" {
				appRedirect(t, "after login with "+target, nb.get(p.location), webCB)
			}
		}
		out := f.signedIn(t)
		p := out.post("/logout", evilParams(url.Values{}, target))
		if p.status != http.StatusSeeOther || p.location != "/logged-out" {
			t.Errorf("logout with %s: %d %q", target, p.status, p.location)
		}
	}
	// Paths that a mux cleans must not become protocol-relative redirects.
	for _, path := range []string{"//evil.example", "//evil.example/", "///evil.example/%2e%2e", "/./evil.example", "/login/..//evil.example"} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", f.srv.URL+path, nil)
		if p := anon.do(req); f.leaves(p) {
			t.Errorf("path %s: %d to %q", path, p.status, p.location)
		}
	}
}

// Unknown user and wrong password: the same status, headers and body, so
// that the login form does not tell which usernames exist.
func TestLoginSameAnswerForUnknownUserAndWrongPassword(t *testing.T) {
	f := newFlowFixture(t)
	name := "mallory"
	form := with(with(authParams(f.web, webCB), "username", name), "password", "wrong-"+rand.Text())
	unknown := newBrowser(t, f.srv.URL).post("/login", form)
	if code, _, errOut := runCmd(t, f.dir, nil, rand.Text()+"\n", "user", "create", "--username", name, "--password-stdin"); code != 0 {
		t.Fatalf("user create: %s", errOut)
	}
	wrong := newBrowser(t, f.srv.URL).post("/login", form)
	if unknown.status != http.StatusUnauthorized || wrong.status != http.StatusUnauthorized {
		t.Fatalf("unknown user %d, wrong password %d; want 401 both", unknown.status, wrong.status)
	}
	if unknown.body != wrong.body {
		t.Fatalf("the bodies differ:\n%s\n---\n%s", unknown.body, wrong.body)
	}
	for _, h := range []http.Header{unknown.header, wrong.header} {
		h.Del("Date")
		h.Del("X-Request-Id")
	}
	for k := range unknown.header {
		if !slices.Equal(unknown.header[k], wrong.header[k]) {
			t.Errorf("header %s: %q and %q", k, unknown.header[k], wrong.header[k])
		}
	}
	if len(unknown.header) != len(wrong.header) || unknown.header.Get("Set-Cookie") != "" {
		t.Fatalf("headers differ or set a cookie: %v, %v", unknown.header, wrong.header)
	}
}

// DESIGN "rate limiting of login": after 5 failures for one account, every
// attempt for it, the right password too and in any letter case, gets 429
// with Retry-After; other accounts are not locked out.
func TestLoginThrottledPerAccount(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	bad := url.Values{"username": {f.user}, "password": {"wrong-" + rand.Text()}}
	for i := range 5 {
		if p := b.post("/login", bad); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, p.status)
		}
	}
	for _, user := range []string{f.user, strings.ToUpper(f.user)} {
		p := b.post("/login", url.Values{"username": {user}, "password": {f.password}})
		ra, err := strconv.Atoi(p.header.Get("Retry-After"))
		if p.status != http.StatusTooManyRequests || p.header.Get("Set-Cookie") != "" || err != nil || ra < 1 || ra > 31 {
			t.Fatalf("%s after 5 failures: %d, Retry-After %q, Set-Cookie %q; want 429, Retry-After 1 to 31 s, no cookie",
				user, p.status, p.header.Get("Retry-After"), p.header.Get("Set-Cookie"))
		}
	}
	other, password := "bob", rand.Text()
	if code, _, errOut := runCmd(t, f.dir, nil, password+"\n", "user", "create", "--username", other, "--password-stdin"); code != 0 {
		t.Fatalf("user create: %s", errOut)
	}
	if p := b.post("/login", url.Values{"username": {other}, "password": {password}}); p.status != http.StatusSeeOther {
		t.Fatalf("another account: %d, want 303", p.status)
	}
}

// Logout ends the session on the server: the browser is asked to sign in
// again, and the old cookie value, replayed by hand, opens nothing.
func TestLogoutEndsTheSession(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	base, _ := url.Parse(f.srv.URL)
	var old string
	for _, c := range b.c.Jar.Cookies(base) {
		if c.Name == "gatehouse_session" {
			old = c.Value
		}
	}
	consent := b.get(f.rawAuthURL(authParams(f.web, webCB)))
	wantConsentPage(t, "before logout", consent)
	p := b.post("/logout", url.Values{})
	if c := sessionCookie(t, p, "gatehouse_session"); p.status != http.StatusSeeOther || p.location != "/logged-out" || c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("logout: %d %q, cookie %v", p.status, p.location, c)
	}
	wantLoginPage(t, "after logout", b.get(f.rawAuthURL(authParams(f.web, webCB))))

	replay := func(method, path string, form url.Values) page {
		req, _ := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, strings.NewReader(form.Encode()))
		req.AddCookie(&http.Cookie{Name: "gatehouse_session", Value: old})
		if method == "POST" {
			req.Header.Set("Content-Type", formCT)
			req.Header.Set("Origin", f.srv.URL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		return newBrowser(t, f.srv.URL).do(req)
	}
	wantLoginPage(t, "old cookie at /authorize", replay("GET", "/authorize?"+authParams(f.web, webCB).Encode(), nil))
	if p := replay("GET", "/", nil); !strings.Contains(p.body, "You are not signed in.") {
		t.Fatal("the old cookie still signs in at /")
	}
	form := hidden(consent.body)
	form.Set("decision", "allow")
	p = replay("POST", "/authorize", form)
	wantLoginPage(t, "old cookie posting the consent", p)
	if !strings.Contains(p.body, "Your session ended.") {
		t.Fatal("the consent post with an old cookie did not ask to sign in again")
	}
}
