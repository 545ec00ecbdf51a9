package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Issue 13 item 2: the developer portal, over HTTP with the real server
// and the cross-site protection on.

// portalFixture is a flow fixture with a developer, dev, who owns a
// confidential app with the client_credentials grant (svc), and a second
// developer, other, who owns one app of their own.
type portalFixture struct {
	*flowFixture
	dev, other       *browser
	devPassword      string
	svc, otherApp    createdApp
	devName, pwOther string
}

func newPortalFixture(t *testing.T) *portalFixture {
	t.Helper()
	f := &portalFixture{flowFixture: newFlowFixture(t), devName: "dev"}
	f.devPassword = f.createDeveloper(t, "dev")
	f.pwOther = f.createDeveloper(t, "other")
	f.svc = createAppWith(t, f.dir, f.vars, "--name", "Dev Service", "--type", "confidential", "--scope", "read",
		"--grant", "client_credentials", "--owner", "dev")
	f.otherApp = createAppWith(t, f.dir, f.vars, "--name", "Other Secret App", "--type", "confidential", "--scope", "read",
		"--redirect-uri", "https://other.example/cb", "--owner", "other")
	f.dev = f.signIn(t, "dev", f.devPassword)
	f.other = f.signIn(t, "other", f.pwOther)
	return f
}

func (f *portalFixture) createDeveloper(t *testing.T, name string) string {
	t.Helper()
	password := name + " password " + f.password
	f.cmd(t, password+"\n", "user", "create", "--username", name, "--password-stdin", "--developer")
	return password
}

func (f *portalFixture) signIn(t *testing.T, user, password string) *browser {
	t.Helper()
	b := newBrowser(t, f.srv.URL)
	if p := b.login(b.get("/login"), user, password); p.status != http.StatusSeeOther {
		t.Fatalf("login %s: %d", user, p.status)
	}
	return b
}

var (
	portalAppLink = regexp.MustCompile(`<a href="/developer/apps/([^"]+)">([^<]+)</a>`)
	secretValue   = regexp.MustCompile(`id="secret" readonly value="([^"]+)"`)
	credentialRow = regexp.MustCompile(`(?s)<h3>([^<]+)</h3>.*?name="credential_id" value="(\d+)"`)
)

// portalApps reads the developer's list: client_id by name.
func portalApps(t *testing.T, p page) map[string]string {
	t.Helper()
	if p.status != http.StatusOK || !strings.Contains(p.body, "<h1>Your apps</h1>") {
		t.Fatalf("not the portal's list: %d %q %.300s", p.status, p.location, p.body)
	}
	out := map[string]string{}
	for _, m := range portalAppLink.FindAllStringSubmatch(p.body, -1) {
		out[html.UnescapeString(m[2])] = m[1]
	}
	return out
}

// shownSecret returns the secret on a secret page, checking that it is
// served no-store.
func shownSecret(t *testing.T, name string, p page) string {
	t.Helper()
	m := secretValue.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("%s: no secret page: %d %q %.400s", name, p.status, p.location, p.body)
	}
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", name, cc)
	}
	return m[1]
}

// credentialIDs reads an app page's credentials: id by name.
func credentialIDs(p page) map[string]string {
	out := map[string]string{}
	for _, m := range credentialRow.FindAllStringSubmatch(p.body, -1) {
		out[html.UnescapeString(m[1])] = m[2]
	}
	return out
}

func appURL(clientID string) string { return "/developer/apps/" + clientID }

func TestPortalListsOnlyOwnAppsAndCreatesApp(t *testing.T) {
	f := newPortalFixture(t)
	p := f.dev.get("/developer/apps")
	apps := portalApps(t, p)
	if len(apps) != 1 || apps["Dev Service"] != f.svc.ClientID {
		t.Fatalf("dev's apps %v, want only Dev Service", apps)
	}
	if strings.Contains(p.body, "Other Secret App") || strings.Contains(p.body, f.otherApp.ClientID) || strings.Contains(p.body, f.web.ClientID) {
		t.Error("the list shows an app dev does not own")
	}
	if !strings.Contains(f.dev.get("/").body, `href="/developer/apps"`) || strings.Contains(f.signedIn(t).get("/").body, `href="/developer/apps"`) {
		t.Error("the home page links to the portal for a developer only: it does not")
	}
	for _, want := range []string{`name="scope" value="read"`, `name="scope" value="write"`, `value="confidential"`, `value="public"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("create form lacks %s", want)
		}
	}

	// An invalid redirect URI: refused with the message, nothing created.
	bad := url.Values{"name": {"Notes"}, "type": {"confidential"}, "redirect_uri": {"http://notes.example/cb"}, "scope": {"read"}}
	if p := f.dev.post("/developer/apps", bad); p.status != http.StatusBadRequest || !strings.Contains(p.body, `class="error"`) {
		t.Fatalf("invalid create: %d %.400s", p.status, p.body)
	}
	if got := portalApps(t, f.dev.get("/developer/apps")); len(got) != 1 {
		t.Fatalf("a refused create made an app: %v", got)
	}

	form := url.Values{"name": {"Notes"}, "type": {"confidential"}, "redirect_uri": {"https://notes.example/cb"}, "scope": {"read", "write"}}
	created := f.dev.post("/developer/apps", form)
	sec := shownSecret(t, "create app", created)
	apps = portalApps(t, f.dev.get("/developer/apps"))
	notes := apps["Notes"]
	if notes == "" || len(apps) != 2 {
		t.Fatalf("after create: %v", apps)
	}
	page := f.dev.get(appURL(notes))
	if page.status != 200 || strings.Contains(page.body, sec) || !strings.Contains(page.body, "read write") || !strings.Contains(page.body, "https://notes.example/cb") {
		t.Fatalf("the app page (must not show the secret): %d %.600s", page.status, page.body)
	}
	if e := f.event(t, "app_created", "--app", notes); e.User != "dev" {
		t.Errorf("app_created audited with user %q (actor %q), want dev", e.User, e.Actor)
	}
	// The secret works: the app authenticates at introspection.
	if status, _ := postForm(t, f.srv.URL+"/introspect", notes, sec, url.Values{"token": {"x"}}); status != 200 {
		t.Errorf("the shown secret does not authenticate: %d", status)
	}
	// A public app has no secret: 303 to its page.
	pub := f.dev.post("/developer/apps", url.Values{"name": {"Pub"}, "type": {"public"}, "redirect_uri": {"https://pub.example/cb"}})
	if pub.status != http.StatusSeeOther || !strings.HasPrefix(pub.location, "/developer/apps/") {
		t.Fatalf("public create: %d %q", pub.status, pub.location)
	}
	if p := f.dev.get(pub.location); !strings.Contains(p.body, "The app was created.") || strings.Contains(p.body, "Create credential") {
		t.Errorf("public app page: %.400s", p.body)
	}
}

func TestPortalRedirectURIs(t *testing.T) {
	f := newPortalFixture(t)
	app := f.otherApp
	b := f.other
	add := appURL(app.ClientID) + "/redirect-uris/add"
	p := b.post(add, url.Values{"redirect_uri": {"javascript:alert(1)"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `class="error"`) {
		t.Fatalf("invalid URI: %d %.400s", p.status, p.body)
	}
	if strings.Contains(b.get(appURL(app.ClientID)).body, "javascript:") {
		t.Fatal("the invalid URI was added")
	}
	p = b.post(add, url.Values{"redirect_uri": {"https://other.example/two"}})
	if p.status != http.StatusSeeOther || p.location != appURL(app.ClientID)+"?done=redirect-added" {
		t.Fatalf("add: %d %q", p.status, p.location)
	}
	if !strings.Contains(b.get(p.location).body, "<code>https://other.example/two</code>") {
		t.Fatal("the added URI is not listed")
	}
	p = b.post(appURL(app.ClientID)+"/redirect-uris/remove", url.Values{"redirect_uri": {"https://other.example/cb"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.status)
	}
	page := b.get(appURL(app.ClientID))
	if strings.Contains(page.body, "<code>https://other.example/cb</code>") {
		t.Fatal("the removed URI is still listed")
	}
	// The last URI of an authorization_code app cannot be removed.
	p = b.post(appURL(app.ClientID)+"/redirect-uris/remove", url.Values{"redirect_uri": {"https://other.example/two"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "redirect") {
		t.Fatalf("remove last: %d %.300s", p.status, p.body)
	}
	// The profile: https only.
	prof := appURL(app.ClientID) + "/profile"
	if p := b.post(prof, url.Values{"description": {"Notes."}, "homepage_url": {"http://other.example"}}); p.status != http.StatusBadRequest {
		t.Fatalf("http homepage: %d", p.status)
	}
	if p := b.post(prof, url.Values{"description": {"Notes."}, "homepage_url": {"https://other.example"}}); p.status != http.StatusSeeOther {
		t.Fatalf("profile: %d %.300s", p.status, p.body)
	}
	if page := b.get(appURL(app.ClientID)); !strings.Contains(page.body, `value="https://other.example"`) || !strings.Contains(page.body, "Notes.</textarea>") {
		t.Fatal("the profile was not saved")
	}
	if e := f.event(t, "app_updated", "--app", app.ClientID); e.User != "other" {
		t.Errorf("app_updated audited with user %q (actor %q), want other", e.User, e.Actor)
	}
}

// Create, rotate, delete the old one by typing its name: the old secret
// fails at the token endpoint, the new one works; a wrong name deletes
// nothing.
func TestPortalCredentialLifecycle(t *testing.T) {
	f := newPortalFixture(t)
	app := appURL(f.svc.ClientID)
	page := f.dev.get(app)
	if !strings.Contains(page.body, "deleting revokes every token of this app") {
		t.Error("the page does not warn before the delete")
	}
	sec := shownSecret(t, "create credential", f.dev.post(app+"/credentials/create", url.Values{"name": {"ci"}}))
	if tok, code := f.appToken(t, f.svc.ClientID, sec); tok == "" {
		t.Fatalf("the new credential: %s", code)
	}
	page = f.dev.get(app)
	if strings.Contains(page.body, sec) {
		t.Fatal("the app page shows the secret again")
	}
	ids := credentialIDs(page)
	if ids["ci"] == "" || ids["initial"] == "" {
		t.Fatalf("credentials %v", ids)
	}
	next := shownSecret(t, "rotate", f.dev.post(app+"/credentials/rotate", url.Values{"credential_id": {ids["ci"]}, "overlap_days": {"7"}, "name": {"ci-2"}}))
	if tok, _ := f.appToken(t, f.svc.ClientID, sec); tok == "" {
		t.Fatal("the rotated secret stopped working within the overlap")
	}
	// 213504 days wraps a time.Duration to 25 minutes: refused like 1000
	// (found by the pages' review), and nothing is rotated.
	for _, days := range []string{"1000", "213504", "9223372036854775807"} {
		if p := f.dev.post(app+"/credentials/rotate", url.Values{"credential_id": {ids["ci"]}, "overlap_days": {days}}); p.status != http.StatusBadRequest {
			t.Errorf("overlap %s days: %d", days, p.status)
		}
	}
	// A wrong typed name deletes nothing.
	for _, typed := range []string{"", "CI", "ci-2", "initial"} {
		p := f.dev.post(app+"/credentials/delete", url.Values{"credential_id": {ids["ci"]}, "confirm": {typed}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "does not match") {
			t.Errorf("confirm %q: %d", typed, p.status)
		}
	}
	if tok, _ := f.appToken(t, f.svc.ClientID, sec); tok == "" {
		t.Fatal("a refused delete deleted")
	}
	p := f.dev.post(app+"/credentials/delete", url.Values{"credential_id": {ids["ci"]}, "confirm": {"ci"}})
	if p.status != http.StatusSeeOther || p.location != app+"?done=credential-deleted" {
		t.Fatalf("delete: %d %q", p.status, p.location)
	}
	if tok, code := f.appToken(t, f.svc.ClientID, sec); tok != "" || code != "invalid_client" {
		t.Errorf("the deleted secret: %q %q, want invalid_client", tok, code)
	}
	if tok, code := f.appToken(t, f.svc.ClientID, next); tok == "" {
		t.Errorf("the new secret after the delete: %s", code)
	}
	if got := credentialIDs(f.dev.get(app)); got["ci"] != "" || got["ci-2"] == "" {
		t.Errorf("after delete: %v", got)
	}
	for _, kind := range []string{"credential_created", "credential_rotated", "credential_deleted"} {
		if e := f.event(t, kind, "--app", f.svc.ClientID); e.User != "dev" {
			t.Errorf("%s audited with user %q (actor %q), want dev", kind, e.User, e.Actor)
		}
	}
}

func TestPortalDeleteAppConfirmedByClientID(t *testing.T) {
	f := newPortalFixture(t)
	app := appURL(f.svc.ClientID)
	for _, typed := range []string{"", "Dev Service", f.otherApp.ClientID} {
		if p := f.dev.post(app+"/delete", url.Values{"confirm": {typed}}); p.status != http.StatusBadRequest {
			t.Errorf("confirm %q: %d", typed, p.status)
		}
	}
	if portalApps(t, f.dev.get("/developer/apps"))["Dev Service"] == "" {
		t.Fatal("a refused delete deleted the app")
	}
	p := f.dev.post(app+"/delete", url.Values{"confirm": {f.svc.ClientID}})
	if p.status != http.StatusSeeOther || p.location != "/developer/apps?done=deleted" {
		t.Fatalf("delete: %d %q", p.status, p.location)
	}
	if got := portalApps(t, f.dev.get(p.location)); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
	if tok, _ := f.appToken(t, f.svc.ClientID, f.svc.ClientSecret); tok != "" {
		t.Fatal("the deleted app still gets tokens")
	}
	if p := f.dev.get(app); p.status != http.StatusNotFound {
		t.Errorf("the deleted app's page: %d", p.status)
	}
	if e := f.event(t, "app_deleted"); e.User != "dev" {
		t.Errorf("app_deleted audited with user %q (actor %q), want dev", e.User, e.Actor)
	}
}

// portalPosts are every form of an app page, with a valid body.
func portalPosts(clientID, credID string) map[string]url.Values {
	app := appURL(clientID)
	return map[string]url.Values{
		app + "/redirect-uris/add":    {"redirect_uri": {"https://evil.example/cb"}},
		app + "/redirect-uris/remove": {"redirect_uri": {"https://other.example/cb"}},
		app + "/profile":              {"description": {"pwned"}},
		app + "/credentials/create":   {"name": {"evil"}},
		app + "/credentials/rotate":   {"credential_id": {credID}, "overlap_days": {"0"}},
		app + "/credentials/delete":   {"credential_id": {credID}, "confirm": {"initial"}},
		app + "/delete":               {"confirm": {clientID}},
	}
}

// otherAppUnchanged asserts that other's app is as made: its secret gets
// a token's worth of introspection, its page lists the first URI and no
// credential but initial.
func (f *portalFixture) otherAppUnchanged(t *testing.T, name string) {
	t.Helper()
	if status, _ := postForm(t, f.srv.URL+"/introspect", f.otherApp.ClientID, f.otherApp.ClientSecret, url.Values{"token": {"x"}}); status != 200 {
		t.Errorf("%s: other's secret no longer authenticates: %d", name, status)
	}
	page := f.other.get(appURL(f.otherApp.ClientID))
	ids := credentialIDs(page)
	if page.status != 200 || len(ids) != 1 || ids["initial"] == "" || !strings.Contains(page.body, "<code>https://other.example/cb</code>") ||
		strings.Contains(page.body, "evil.example") || strings.Contains(page.body, "pwned") {
		t.Errorf("%s: other's app changed: %v %.300s", name, ids, page.body)
	}
}

func TestPortalCrossSitePostsRefused(t *testing.T) {
	f := newPortalFixture(t)
	cred := credentialIDs(f.other.get(appURL(f.otherApp.ClientID)))["initial"]
	for path, form := range portalPosts(f.otherApp.ClientID, cred) {
		if p := f.other.postFrom(path, form, crossSite); p.status != http.StatusForbidden || !strings.Contains(p.body, "Request refused") {
			t.Errorf("cross-site %s: %d, want 403", path, p.status)
		}
	}
	if p := f.other.postFrom("/developer/apps", url.Values{"name": {"X"}, "type": {"public"}, "redirect_uri": {"https://x.example/cb"}}, crossSite); p.status != http.StatusForbidden {
		t.Errorf("cross-site create: %d", p.status)
	}
	f.otherAppUnchanged(t, "after cross-site posts")
	if got := portalApps(t, f.other.get("/developer/apps")); len(got) != 1 {
		t.Errorf("after cross-site create: %v", got)
	}
}

// Another developer, a non-developer and an unknown client_id get the 404
// page for the app's page and every form, never its data.
func TestPortalOtherUsersGet404(t *testing.T) {
	f := newPortalFixture(t)
	cred := credentialIDs(f.other.get(appURL(f.otherApp.ClientID)))["initial"]
	alice := f.signedIn(t) // not a developer
	for who, b := range map[string]*browser{"another developer": f.dev, "a non-developer": alice} {
		for _, target := range []string{appURL(f.otherApp.ClientID), appURL("app_nope")} {
			if p := b.get(target); p.status != http.StatusNotFound || strings.Contains(p.body, "Other Secret App") || strings.Contains(p.body, "other.example") {
				t.Errorf("%s GET %s: %d", who, target, p.status)
			}
		}
		for path, form := range portalPosts(f.otherApp.ClientID, cred) {
			if p := b.post(path, form); p.status != http.StatusNotFound || strings.Contains(p.body, "Other Secret App") {
				t.Errorf("%s POST %s: %d", who, path, p.status)
			}
		}
	}
	for path, form := range map[string]url.Values{"/developer/apps": {"name": {"X"}, "type": {"public"}, "redirect_uri": {"https://x.example/cb"}}} {
		if p := alice.post(path, form); p.status != http.StatusNotFound {
			t.Errorf("non-developer create: %d", p.status)
		}
	}
	if p := alice.get("/developer/apps"); p.status != http.StatusNotFound {
		t.Errorf("non-developer list: %d", p.status)
	}
	f.otherAppUnchanged(t, "after the other users' posts")
}

// Signed out: every portal route sends the browser to sign in, and the
// sign-in comes back to the page; return_to accepts only portal paths of
// the fixed shape.
func TestPortalSignedOutRedirectsToLogin(t *testing.T) {
	f := newPortalFixture(t)
	anon := newBrowser(t, f.srv.URL)
	app := appURL(f.svc.ClientID)
	if p := anon.get("/developer/apps"); p.status != http.StatusSeeOther || p.location != "/login?return_to=/developer/apps" {
		t.Errorf("list signed out: %d %q", p.status, p.location)
	}
	if p := anon.get(app); p.status != http.StatusSeeOther || p.location != "/login?return_to="+app {
		t.Errorf("app page signed out: %d %q", p.status, p.location)
	}
	for path, form := range portalPosts(f.svc.ClientID, "1") {
		if p := anon.post(path, form); p.status != http.StatusSeeOther || p.location != "/login?return_to="+app {
			t.Errorf("POST %s signed out: %d %q", path, p.status, p.location)
		}
	}
	p := anon.login(anon.get("/login?return_to="+url.QueryEscape(app)), "dev", f.devPassword)
	if p.status != http.StatusSeeOther || p.location != app {
		t.Fatalf("login from the app page: %d %q", p.status, p.location)
	}
	for _, target := range append(evilTargets, "/developer/apps/../account", "/developer/apps/a/b", "/developer/apps/x?y", "/developer/appsx", "//developer/apps",
		"/developer/apps/%2e%2e", "/developer/apps/\nx") {
		nb := newBrowser(t, f.srv.URL)
		p := nb.login(nb.get("/login?return_to="+url.QueryEscape(target)), "dev", f.devPassword)
		if p.status != http.StatusSeeOther || p.location != "/" {
			t.Errorf("return_to %q: %d %q, want 303 to /", target, p.status, p.location)
		}
	}
}
