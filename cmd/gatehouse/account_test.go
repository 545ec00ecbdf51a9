package main

import (
	"crypto/rand"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Issue 13 item 1: the connected-apps page, over HTTP with the real server
// and the cross-site protection on.

var connectedAppRow = regexp.MustCompile(`(?s)<h2>([^<]+)</h2>.*?name="app_id" value="(\d+)"`)

// connectedAppIDs reads the connected-apps page: each app's name and the
// app id its Disconnect form posts.
func connectedAppIDs(t *testing.T, p page) map[string]string {
	t.Helper()
	if p.status != http.StatusOK || !strings.Contains(p.body, "<h1>Connected apps</h1>") {
		t.Fatalf("not the connected-apps page: %d %q %.300s", p.status, p.location, p.body)
	}
	out := map[string]string{}
	for _, m := range connectedAppRow.FindAllStringSubmatch(p.body, -1) {
		out[html.UnescapeString(m[1])] = m[2]
	}
	return out
}

// appSection is the part of the connected-apps page about the app name.
func appSection(body, name string) string {
	_, rest, ok := strings.Cut(body, "<h2>"+name+"</h2>")
	if !ok {
		return ""
	}
	section, _, _ := strings.Cut(rest, `<li class="app">`)
	return section
}

// grantAs walks the flow for app as user and redeems the code.
func (f *flowFixture) grantAs(t *testing.T, user, password string, app createdApp, redirect string, scopes ...string) tokens {
	t.Helper()
	b := newBrowser(t, f.srv.URL)
	u, verifier := f.authURL(f.config(app, redirect, scopes...), "st")
	q := callback(t, b.authorize(u, user, password))
	r := f.exchange(t, app, url.Values{"code": {q.Get("code")}, "code_verifier": {verifier}})
	if r.status != 200 {
		t.Fatalf("redeem as %s: %d %s", user, r.status, r.raw)
	}
	return tokens{r.body["access_token"].(string), r.body["refresh_token"].(string), r.body["scope"].(string)}
}

func (f *flowFixture) createUser(t *testing.T, name string) string {
	t.Helper()
	password := rand.Text()
	if code, _, errOut := runCmd(t, f.dir, f.vars, password+"\n", "user", "create", "--username", name, "--password-stdin"); code != 0 {
		t.Fatalf("user create %s: %s", name, errOut)
	}
	return password
}

// wantRefreshFails asserts that the refresh token is dead at the token
// endpoint (invalid_grant).
func (f *flowFixture) wantRefreshFails(t *testing.T, name string, app createdApp, rt string) {
	t.Helper()
	_, r := f.refresh(t, app, rt, nil)
	wantError(t, name, r, 400, "invalid_grant")
}

// The page lists alice's SPA and web grants with the scopes' descriptions,
// and only hers; the home and signed-out pages link to it.
func TestConnectedAppsListsGrantsWithScopeDescriptions(t *testing.T) {
	f := newFlowFixture(t)
	f.grantTokens(t, f.spa, spaCB, "read", "write")
	f.grantTokens(t, f.web, webCB, "read")
	bob := f.createUser(t, "bob")
	f.grantAs(t, "bob", bob, f.tenant, "https://client.example/cb?tenant=a", "read")
	b := f.signedIn(t)
	p := b.get("/account/apps")
	ids := connectedAppIDs(t, p)
	if len(ids) != 2 || ids["SPA"] == "" || ids["Web"] == "" {
		t.Fatalf("connected apps %v, want SPA and Web", ids)
	}
	spa, web := appSection(p.body, "SPA"), appSection(p.body, "Web")
	for _, want := range []string{"Read your data", "(read)", "Change your data", "(write)", "Connected on <time datetime=", "Last used on <time datetime=", "Registered by Gatehouse"} {
		if !strings.Contains(spa, want) {
			t.Errorf("SPA section lacks %q: %s", want, spa)
		}
	}
	if !strings.Contains(web, "Read your data") || strings.Contains(web, "Change your data") {
		t.Errorf("Web section: %s", web)
	}
	if !strings.Contains(p.body, `action="/account/apps/disconnect-all"`) || strings.Contains(p.body, "<script") {
		t.Errorf("no Disconnect all form, or a script: %.500s", p.body)
	}
	if !strings.Contains(b.get("/").body, `href="/account/apps"`) {
		t.Error("the home page does not link to the connected apps")
	}
	if !strings.Contains(newBrowser(t, f.srv.URL).get("/logged-out").body, `href="/account/apps"`) {
		t.Error("the signed-out page promises a disconnect without a link to it")
	}
}

// A cross-site post of Disconnect (or Disconnect all) is refused and
// changes nothing; a same-origin post disconnects: the app's refresh token
// fails, the next authorization asks for consent again, and the other app
// keeps working.
func TestDisconnectAppCrossSiteRefusedSameOriginRevokes(t *testing.T) {
	f := newFlowFixture(t)
	spa := f.grantTokens(t, f.spa, spaCB, "read")
	web := f.grantTokens(t, f.web, webCB, "read")
	b := f.signedIn(t)
	ids := connectedAppIDs(t, b.get("/account/apps"))
	form := url.Values{"app_id": {ids["SPA"]}}
	for name, h := range map[string]map[string]string{
		"Origin and Sec-Fetch-Site":  crossSite,
		"Sec-Fetch-Site: cross-site": {"Sec-Fetch-Site": "cross-site"},
		"Origin only":                {"Origin": "https://evil.example"},
	} {
		for _, path := range []string{"/account/apps/disconnect", "/account/apps/disconnect-all"} {
			if p := b.postFrom(path, form, h); p.status != http.StatusForbidden || !strings.Contains(p.body, "Request refused") {
				t.Errorf("%s %s: %d %q, want the 403 page", path, name, p.status, p.location)
			}
		}
	}
	// Positive control: nothing changed, the refresh token still works.
	spa = f.mustRefresh(t, f.spa, spa.refresh, nil)
	if got := connectedAppIDs(t, b.get("/account/apps")); len(got) != 2 {
		t.Fatalf("after the refused posts: %v", got)
	}

	p := b.post("/account/apps/disconnect", form)
	if p.status != http.StatusSeeOther || p.location != "/account/apps?done=one" {
		t.Fatalf("disconnect: %d %q, want 303 to the list", p.status, p.location)
	}
	list := b.get(p.location)
	if got := connectedAppIDs(t, list); len(got) != 1 || got["Web"] == "" || !strings.Contains(list.body, "The app was disconnected") {
		t.Fatalf("after disconnect: %v", got)
	}
	f.wantRefreshFails(t, "the SPA's refresh token after disconnect", f.spa, spa.refresh)
	if f.introspect(t, spa.access) {
		t.Error("the SPA's access token is still active after disconnect")
	}
	wantConsentPage(t, "SPA authorization after disconnect", b.get(f.rawAuthURL(authParams(f.spa, spaCB))))
	f.mustRefresh(t, f.web, web.refresh, nil) // the other app is untouched
}

func TestDisconnectAllRevokesEveryApp(t *testing.T) {
	f := newFlowFixture(t)
	spa := f.grantTokens(t, f.spa, spaCB, "read")
	web := f.grantTokens(t, f.web, webCB, "read")
	b := f.signedIn(t)
	p := b.post("/account/apps/disconnect-all", url.Values{})
	if p.status != http.StatusSeeOther || p.location != "/account/apps?done=all" {
		t.Fatalf("disconnect all: %d %q", p.status, p.location)
	}
	list := b.get(p.location)
	if got := connectedAppIDs(t, list); len(got) != 0 || !strings.Contains(list.body, "No app has access to your account.") {
		t.Fatalf("after disconnect all: %v", got)
	}
	f.wantRefreshFails(t, "SPA", f.spa, spa.refresh)
	f.wantRefreshFails(t, "Web", f.web, web.refresh)
	wantConsentPage(t, "Web authorization after disconnect all", b.get(f.rawAuthURL(authParams(f.web, webCB))))
}

// Alice posting the id of an app that bob connected disconnects only her
// own grants: bob's grant stays active.
func TestDisconnectTouchesOnlyTheUsersOwnGrants(t *testing.T) {
	f := newFlowFixture(t)
	bobPassword := f.createUser(t, "bob")
	bobSPA := f.grantAs(t, "bob", bobPassword, f.spa, spaCB, "read")
	bobWeb := f.grantAs(t, "bob", bobPassword, f.web, webCB, "read")
	aliceSPA := f.grantTokens(t, f.spa, spaCB, "read")
	bob := newBrowser(t, f.srv.URL)
	bob.login(bob.get("/login"), "bob", bobPassword)
	bobIDs := connectedAppIDs(t, bob.get("/account/apps"))

	alice := f.signedIn(t)
	// The web app: bob's only; the SPA: both of theirs.
	for _, id := range []string{bobIDs["Web"], bobIDs["SPA"]} {
		if p := alice.post("/account/apps/disconnect", url.Values{"app_id": {id}}); p.status != http.StatusSeeOther {
			t.Fatalf("disconnect %s: %d", id, p.status)
		}
	}
	alice.post("/account/apps/disconnect-all", url.Values{})
	f.wantRefreshFails(t, "alice's SPA token", f.spa, aliceSPA.refresh)
	f.mustRefresh(t, f.spa, bobSPA.refresh, nil)
	f.mustRefresh(t, f.web, bobWeb.refresh, nil)
	if got := connectedAppIDs(t, bob.get("/account/apps")); len(got) != 2 {
		t.Fatalf("bob's connected apps after alice's posts: %v", got)
	}
	for _, bad := range []url.Values{{}, {"app_id": {"x"}}, {"app_id": {"-1"}}, {"app_id": {bobIDs["SPA"], bobIDs["Web"]}}} {
		if p := alice.post("/account/apps/disconnect", bad); p.status != http.StatusBadRequest {
			t.Errorf("disconnect %v: %d, want 400", bad, p.status)
		}
	}
}

// Not signed in: the page and its actions send the browser to sign in,
// and the sign-in comes back to the page.
func TestConnectedAppsSignedOutRedirectsToLogin(t *testing.T) {
	f := newFlowFixture(t)
	spa := f.grantTokens(t, f.spa, spaCB, "read")
	anon := newBrowser(t, f.srv.URL)
	for name, p := range map[string]page{
		"GET":            anon.get("/account/apps"),
		"disconnect":     anon.post("/account/apps/disconnect", url.Values{"app_id": {"1"}}),
		"disconnect all": anon.post("/account/apps/disconnect-all", url.Values{}),
	} {
		if p.status != http.StatusSeeOther || p.location != "/login?return_to=/account/apps" {
			t.Errorf("%s signed out: %d %q", name, p.status, p.location)
		}
	}
	f.mustRefresh(t, f.spa, spa.refresh, nil)
	login := anon.get("/login?return_to=/account/apps")
	p := anon.login(login, f.user, f.password)
	if p.status != http.StatusSeeOther || p.location != "/account/apps" {
		t.Fatalf("login from the connected apps: %d %q", p.status, p.location)
	}
	if ids := connectedAppIDs(t, anon.get(p.location)); ids["SPA"] == "" {
		t.Fatalf("after login: %v", ids)
	}
	// return_to names only the pages of this server it knows.
	for _, target := range append(evilTargets, "/authorize", "/account/apps/../x") {
		nb := newBrowser(t, f.srv.URL)
		p := nb.login(nb.get("/login?return_to="+url.QueryEscape(target)), f.user, f.password)
		if p.status != http.StatusSeeOther || p.location != "/" {
			t.Errorf("return_to %q: %d %q, want 303 to /", target, p.status, p.location)
		}
	}
}
