package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Issue 13 item 3: the consent page names who is asking, for whom, and
// where the user goes; "not you?" switches the account; a failed sign-in
// keeps the app's name and focuses the password.

func TestConsentShowsScopesUserAndDestination(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	p := b.get(f.rawAuthURL(with(authParams(f.spa, spaCB), "scope", "read write")))
	wantConsentPage(t, "consent", p)
	for _, want := range []string{
		"<h1>Allow SPA to access your account?</h1>",
		"<strong>Read your data</strong> <span class=\"muted\">(read)</span>",
		"<strong>Change your data</strong> <span class=\"muted\">(write)</span>",
		"Signed in as <strong>alice</strong> — not you?",
		`<button type="submit" form="consent" formaction="/switch-account"`,
		`you will be sent to <span class="value">https://spa.example</span>`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the consent page lacks %q", want)
		}
	}
}

// Switch account ends the session and returns to the same authorization
// request, which asks to sign in; a cross-site post of it is refused.
func TestConsentSwitchAccount(t *testing.T) {
	f := newFlowFixture(t)
	bobPassword := f.createUser(t, "bob")
	b := f.signedIn(t)
	params := authParams(f.spa, spaCB)
	consent := b.get(f.rawAuthURL(params))
	wantConsentPage(t, "alice", consent)
	form := hidden(consent.body)
	if p := b.postFrom("/switch-account", form, crossSite); p.status != http.StatusForbidden {
		t.Fatalf("cross-site switch: %d", p.status)
	}
	wantConsentPage(t, "after the refused switch, still alice", b.get(f.rawAuthURL(params)))

	p := b.post("/switch-account", form)
	want, _ := url.ParseQuery(strings.TrimPrefix(p.location, "/authorize?"))
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/authorize?") || want.Encode() != params.Encode() {
		t.Fatalf("switch: %d %q, want 303 to the same authorization request %q", p.status, p.location, params.Encode())
	}
	login := b.get(p.location)
	wantLoginPage(t, "after switch", login)
	if !strings.Contains(login.body, "to continue to <strong>SPA</strong>") {
		t.Error("the login page after switch does not name the app")
	}
	p = b.login(login, "bob", bobPassword)
	consent = b.get(p.location)
	wantConsentPage(t, "bob", consent)
	if !strings.Contains(consent.body, "Signed in as <strong>bob</strong>") {
		t.Fatal("after switching, the consent page is not bob's")
	}
	q := appRedirect(t, "bob allows", b.decide(consent, "allow"), spaCB)
	f.wantCode(t, "bob's code", q, params.Get("state"))
}

// After a wrong password the login page keeps the app's name and the
// username, and puts the focus on the password field.
func TestLoginFailureKeepsAppAndFocusesPassword(t *testing.T) {
	f := newFlowFixture(t)
	anon := newBrowser(t, f.srv.URL)
	first := anon.get(f.rawAuthURL(authParams(f.web, webCB)))
	wantLoginPage(t, "first", first)
	if !strings.Contains(first.body, `name="username" value="" autocomplete="username" autofocus required`) {
		t.Errorf("the first login page does not focus the username: %.600s", first.body)
	}
	form := hidden(first.body)
	form.Set("username", f.user)
	form.Set("password", "wrong-"+f.password)
	p := anon.post("/login", form)
	if p.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", p.status)
	}
	for _, want := range []string{
		"to continue to <strong>Web</strong>",
		"The username or password is wrong.",
		`name="username" value="alice" autocomplete="username" required`,
		`name="password" autocomplete="current-password" autofocus required`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("after a wrong password the page lacks %q", want)
		}
	}
	if strings.Count(p.body, "autofocus") != 1 {
		t.Errorf("%d autofocus attributes, want 1", strings.Count(p.body, "autofocus"))
	}
	// And the form still completes the authorization request.
	retry := hidden(p.body)
	retry.Set("username", f.user)
	retry.Set("password", f.password)
	p = anon.post("/login", retry)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/authorize?") {
		t.Fatalf("retry: %d %q", p.status, p.location)
	}
	appRedirect(t, "after the retry", anon.decide(anon.get(p.location), "allow"), webCB)
}

// Issue 13 item 3: the consent page names the app's publisher (its
// owner) and links its homepage, privacy policy and terms, and shows its
// description; an app without an owner or profile (the SPA, the positive
// control for "nothing invented") says the platform registered it.
func TestConsentNamesThePublisher(t *testing.T) {
	f := newFlowFixture(t)
	f.cmd(t, "dev-"+randomHexKey(t)[:16]+"\n", "user", "create", "--username", "carol", "--developer", "--password-stdin")
	const cb = "https://partner.example/cb"
	partner := createAppWith(t, f.dir, nil, "--name", "Partner", "--type", "public", "--scope", "read", "--redirect-uri", cb,
		"--owner", "carol", "--description", "Charts of your data.", "--homepage", "https://partner.example/",
		"--privacy-url", "https://partner.example/privacy", "--terms-url", "https://partner.example/terms")
	b := f.signedIn(t)
	p := b.get(f.rawAuthURL(authParams(partner, cb)))
	wantConsentPage(t, "consent of an owned app", p)
	for _, want := range []string{
		"Published by <strong>carol</strong>",
		`<a href="https://partner.example/" rel="noopener noreferrer">Homepage</a>`,
		`<a href="https://partner.example/privacy" rel="noopener noreferrer">Privacy policy</a>`,
		`<a href="https://partner.example/terms" rel="noopener noreferrer">Terms</a>`,
		"<p>Charts of your data.</p>",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the consent page lacks %q", want)
		}
	}
	p = b.get(f.rawAuthURL(authParams(f.spa, spaCB)))
	wantConsentPage(t, "consent of an app without a profile", p)
	if !strings.Contains(p.body, "Registered by Gatehouse") || strings.Contains(p.body, "Published by") || strings.Contains(p.body, "Privacy policy") {
		t.Errorf("the consent page of an app without owner or profile: %.600s", p.body)
	}
}

// Issue 13 item 5: the dev redirect page prefills the export line of the
// code it received and wraps its command; opened without a response it
// says so rather than showing an empty code.
func TestDevCallbackPrefillsAndExplains(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	p := b.get("/dev/callback?" + url.Values{"code": {"gth_ac_example"}, "state": {"s"}, "iss": {f.srv.URL}}.Encode())
	if p.status != 200 || !strings.Contains(p.body, `<pre class="command">export CODE=gth_ac_example`) {
		t.Errorf("the dev callback with a code: %d %.800s", p.status, p.body)
	}
	p = b.get("/dev/callback")
	if p.status != 200 || !strings.Contains(p.body, "<h1>Nothing was received</h1>") || strings.Contains(p.body, `id="code"`) {
		t.Errorf("the dev callback without parameters: %d %.800s", p.status, p.body)
	}
	css := b.get("/assets/style.css")
	if !strings.Contains(css.body, "pre.command { white-space: pre-wrap;") {
		t.Error("the command block does not wrap")
	}
}
