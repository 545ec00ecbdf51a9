package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// onBackends runs test on SQLite and on PostgreSQL. vars is the commands'
// environment: nil (the data directory's SQLite file), or GATEHOUSE_DB.
func onBackends(t *testing.T, test func(t *testing.T, vars map[string]string)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var vars map[string]string
			if backend == "postgres" {
				vars = map[string]string{"GATEHOUSE_DB": pgtest.DSN(t)}
			}
			test(t, vars)
		})
	}
}

// wantRefused asserts a command refused in the operator's words: a
// non-zero exit, nothing on stdout, exactly one line on stderr that says
// want, and no database text.
func wantRefused(t *testing.T, name string, code int, out, errOut, want string) {
	t.Helper()
	if code == 0 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) {
		t.Errorf("%s: exit %d, stdout %q, stderr %q; want one line of refusal saying %q", name, code, out, errOut, want)
	}
	for _, leak := range []string{"sqlite", "postgres", "SQL", "pgx", "constraint", "FOREIGN", "violat"} {
		if strings.Contains(errOut, leak) {
			t.Errorf("%s: database text %q in %q", name, leak, errOut)
		}
	}
}

// auditEvents returns the events of kind in the audit log, newest first.
func auditEvents(t *testing.T, dir string, vars map[string]string, kind string) []auditEvent {
	t.Helper()
	code, out, errOut := runCmd(t, dir, vars, "", "audit", "log", "-o", "json", "--limit", "1000")
	var all []auditEvent
	if err := json.Unmarshal([]byte(out), &all); code != 0 || err != nil {
		t.Fatalf("audit log: exit %d, %q, %q (%v)", code, out, errOut, err)
	}
	var evs []auditEvent
	for _, ev := range all {
		if ev.Kind == kind {
			evs = append(evs, ev)
		}
	}
	return evs
}

// showApp returns 'app show -o json' of an app.
func showApp(t *testing.T, dir string, vars map[string]string, clientID string) appOutput {
	t.Helper()
	code, out, errOut := runCmd(t, dir, vars, "", "app", "show", "-o", "json", clientID)
	var a appOutput
	if err := json.Unmarshal([]byte(out), &a); code != 0 || err != nil {
		t.Fatalf("app show %s: exit %d, %q (%v)", clientID, code, errOut, err)
	}
	return a
}

// TestAppUpdate: 'app update' changes only what its flags name, under the
// validation of 'app create'; a running server that has the app cached
// honours the change from the next request (a redirect URI removed is
// refused at once, a new one works; a grant removed is refused); refused
// changes change nothing; every change is audited with what changed.
func TestAppUpdate(t *testing.T) {
	onBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		b := f.signedIn(t)
		const oldCB, newCB = "https://spa.example/cb", "https://spa.example/new"
		// The server has the SPA cached with its old redirect URI.
		wantConsentPage(t, "old URI before", b.get(f.rawAuthURL(authParams(f.spa, oldCB))))
		wantErrorPage(t, "new URI before", b.get(f.rawAuthURL(authParams(f.spa, newCB))), "not registered for this app")

		code, out, errOut := runCmd(t, f.dir, vars, "", "app", "update", f.spa.ClientID, "--redirect-uri", newCB)
		if code != 0 || out != "updated app "+f.spa.ClientID+": redirect_uris\n" {
			t.Fatalf("app update --redirect-uri: exit %d, %q, %q", code, out, errOut)
		}
		wantErrorPage(t, "old URI after", b.get(f.rawAuthURL(authParams(f.spa, oldCB))), "not registered for this app")
		wantConsentPage(t, "new URI after", b.get(f.rawAuthURL(authParams(f.spa, newCB))))
		if q := callback(t, b.authorize(f.authURLFor(f.spa, newCB), f.user, f.password)); q.Get("code") == "" {
			t.Errorf("no code at the new redirect URI: %v", q)
		}

		// Only what is named changes; the rest stays.
		before := showApp(t, f.dir, vars, f.spa.ClientID)
		code, out, errOut = runCmd(t, f.dir, vars, "", "-o", "json", "app", "update", f.spa.ClientID, "--name", "SPA two", "--scope", "read", "--default-scope", "read")
		if code != 0 || !strings.Contains(out, `"changed": [`) {
			t.Fatalf("app update --name --scope: exit %d, %q, %q", code, out, errOut)
		}
		after := showApp(t, f.dir, vars, f.spa.ClientID)
		if after.Name != "SPA two" || !slices.Equal(after.Scopes, []string{"read"}) || !slices.Equal(after.RedirectURIs, []string{newCB}) ||
			!slices.Equal(after.Grants, before.Grants) || after.Type != before.Type || after.ResourceServer {
			t.Errorf("after update: %+v (before %+v)", after, before)
		}
		wantErrorRedirectScope(t, f, b, newCB)

		// A grant removed is refused by the running server at once.
		if status, body := postForm(t, f.srv.URL+"/token", f.cc.ClientID, f.cc.ClientSecret, url.Values{"grant_type": {"client_credentials"}}); status != 200 {
			t.Fatalf("client credentials before: %d %v", status, body)
		}
		if code, _, errOut := runCmd(t, f.dir, vars, "", "app", "update", f.cc.ClientID, "--grant", "refresh_token"); code != 0 {
			t.Fatalf("app update --grant: %s", errOut)
		}
		if status, body := postForm(t, f.srv.URL+"/token", f.cc.ClientID, f.cc.ClientSecret, url.Values{"grant_type": {"client_credentials"}}); status != 400 || body["error"] != "unauthorized_client" {
			t.Errorf("client credentials after the grant was removed: %d %v", status, body)
		}

		// Refused changes, each in one line, change nothing.
		snapshot := showApp(t, f.dir, vars, f.spa.ClientID)
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{f.spa.ClientID, "--resource-server"}, "only a confidential app can be a resource server"},
			{[]string{f.spa.ClientID, "--redirect-uri", "http://evil.example/cb"}, "http is allowed only for loopback IP literals"},
			{[]string{f.spa.ClientID, "--redirect-uri", "https://spa.example/*"}, "wildcard"},
			{[]string{f.spa.ClientID, "--redirect-uri", ""}, "the authorization_code grant needs at least one --redirect-uri"},
			{[]string{f.spa.ClientID, "--scope", "nosuch"}, "scope 'nosuch' is not registered"},
			{[]string{f.spa.ClientID, "--scope", "write"}, "default scope 'read' is not one of the app's scopes"},
			{[]string{f.spa.ClientID, "--grant", "client_credentials"}, "a public app cannot use client_credentials"},
			{[]string{f.spa.ClientID, "--grant", "password"}, "unknown grant type 'password'"},
			{[]string{f.spa.ClientID, "--name", ""}, "the name must be 1 to 100 characters"},
			{[]string{f.spa.ClientID}, "app update needs something to change"},
			{[]string{"app_nosuch", "--name", "x"}, `no app has client_id "app_nosuch"`},
			{[]string{"app_\x00", "--name", "x"}, `no app has client_id`},
		} {
			code, out, errOut := runCmd(t, f.dir, vars, "", append([]string{"app", "update"}, tt.args...)...)
			wantRefused(t, strings.Join(tt.args, " "), code, out, errOut, tt.want)
		}
		if now := showApp(t, f.dir, vars, f.spa.ClientID); !slices.Equal(now.RedirectURIs, snapshot.RedirectURIs) || now.Name != snapshot.Name ||
			!slices.Equal(now.Scopes, snapshot.Scopes) || !slices.Equal(now.Grants, snapshot.Grants) || now.ResourceServer {
			t.Errorf("a refused update changed the app: %+v, was %+v", now, snapshot)
		}
		// The positive control of the refusal: a confidential app may
		// become a resource server.
		if code, out, errOut := runCmd(t, f.dir, vars, "", "app", "update", f.web.ClientID, "--resource-server"); code != 0 || !strings.Contains(out, "resource_server") {
			t.Errorf("confidential app --resource-server: exit %d, %q, %q", code, out, errOut)
		}
		// The same value again changes nothing and is not audited.
		if code, out, _ := runCmd(t, f.dir, vars, "", "app", "update", f.web.ClientID, "--resource-server"); code != 0 || !strings.Contains(out, "nothing changed") {
			t.Errorf("an update to the same value: exit %d, %q", code, out)
		}

		evs := auditEvents(t, f.dir, vars, "app_updated")
		for _, ev := range evs {
			if ev.Actor != "operator" {
				t.Errorf("app_updated by %q, want the operator", ev.Actor)
			}
		}
		if len(evs) != 4 {
			t.Fatalf("%d app_updated events, want 4: %+v", len(evs), evs)
		}
		first := evs[len(evs)-1]
		raw, _ := json.Marshal(first.Detail)
		if first.Detail["client_id"] != f.spa.ClientID || first.ClientID != f.spa.ClientID || string(raw) != `{"after":{"redirect_uris":["`+newCB+`"]},"before":{"redirect_uris":["`+oldCB+`"]},"changed":["redirect_uris"],"client_id":"`+f.spa.ClientID+`","name":"SPA"}` {
			t.Errorf("first app_updated event: %+v", first)
		}
		if ch := evs[len(evs)-2].Detail["changed"]; !slices.Equal(anyStrings(ch), []string{"name", "scopes"}) {
			t.Errorf("second app_updated changed %v", ch)
		}
		created := auditEvents(t, f.dir, vars, "app_created")
		if !slices.ContainsFunc(created, func(ev auditEvent) bool {
			return ev.Detail["client_id"] == f.spa.ClientID && ev.Detail["name"] == "SPA" && ev.Actor == "operator"
		}) {
			t.Errorf("no app_created event of the SPA: %+v", created)
		}
	})
}

// authURLFor is an authorization URL of app at redirect with a fresh PKCE
// pair, for a browser that walks it to the code.
func (f *flowFixture) authURLFor(app createdApp, redirect string, scopes ...string) string {
	u, _ := f.authURL(f.config(app, redirect, scopes...), "st")
	return u
}

// wantErrorRedirectScope: a scope the app no longer may request is
// refused by the running server, with an error redirect (the client and
// its redirect URI are fine), and a scope it still may is granted.
func wantErrorRedirectScope(t *testing.T, f *flowFixture, b *browser, cb string) {
	t.Helper()
	req := authParams(f.spa, cb)
	f.wantErrorRedirect(t, "scope removed", b.get(f.rawAuthURL(with(req, "scope", "write"))), cb, "invalid_scope", req.Get("state"))
	kept := with(authParams(f.spa, cb), "scope", "read") // consented before: straight to a code
	f.wantCode(t, "scope kept", appRedirect(t, "scope kept", b.get(f.rawAuthURL(kept)), cb), kept.Get("state"))
}

func anyStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestResourceServerAlone: 'app create --type confidential
// --resource-server' needs no redirect URI and no grant (issue 11 item 5):
// it gets none, introspects a user's token, and cannot get a token of its
// own. A confidential app that is not a resource server still needs a
// redirect URI for its default grants (the positive control of the rule).
func TestResourceServerAlone(t *testing.T) {
	onBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		code, out, errOut := runCmd(t, f.dir, vars, "", "app", "create", "-o", "json", "--name", "API", "--type", "confidential", "--resource-server")
		var rs appOutput
		if err := json.Unmarshal([]byte(out), &rs); code != 0 || err != nil || !rs.ResourceServer || len(rs.Grants) != 0 || rs.Grants == nil || len(rs.RedirectURIs) != 0 || !strings.HasPrefix(rs.ClientSecret, "gth_cs_") {
			t.Fatalf("app create --resource-server: exit %d, %q, %q (%v)", code, out, errOut, err)
		}
		tok := f.grantTokens(t, f.web, "https://client.example/cb", "read")
		status, body := postForm(t, f.srv.URL+"/introspect", rs.ClientID, rs.ClientSecret, url.Values{"token": {tok.access}})
		if status != 200 || body["active"] != true {
			t.Errorf("the resource server introspects a user's token: %d %v", status, body)
		}
		status, body = postForm(t, f.srv.URL+"/token", rs.ClientID, rs.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		if status != 400 || body["error"] != "unauthorized_client" {
			t.Errorf("a resource server without grants got a token: %d %v", status, body)
		}
		code, out, errOut = runCmd(t, f.dir, vars, "", "app", "create", "--name", "Web2", "--type", "confidential")
		wantRefused(t, "confidential app without a redirect URI", code, out, errOut, "the authorization_code grant needs at least one --redirect-uri")
		code, out, errOut = runCmd(t, f.dir, vars, "", "app", "create", "--name", "Bad", "--type", "public", "--resource-server")
		wantRefused(t, "public resource server", code, out, errOut, "only a confidential app can be a resource server")
	})
}

// migrated returns a data directory with a migrated database and the
// environment of commands on it.
func migrated(t *testing.T, vars map[string]string) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"GATEHOUSE_SECRET_KEY": randomHexKey(t)}
	for k, v := range vars {
		env[k] = v
	}
	if code, _, errOut := runCmd(t, dir, env, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	return dir, env
}

// scopeNames lists the scopes by name.
func scopeNames(t *testing.T, dir string, vars map[string]string) []string {
	t.Helper()
	code, out, errOut := runCmd(t, dir, vars, "", "-o", "json", "scope", "list")
	var scopes []struct{ Name string }
	if err := json.Unmarshal([]byte(out), &scopes); code != 0 || err != nil {
		t.Fatalf("scope list: exit %d %q (%v)", code, errOut, err)
	}
	var names []string
	for _, s := range scopes {
		names = append(names, s.Name)
	}
	return names
}

// TestScopeDelete: 'scope delete' refuses while apps list the scope,
// naming them; refuses without --yes off a terminal; deletes an unused
// scope, audited; an unknown scope is one line.
func TestScopeDelete(t *testing.T) {
	onBackends(t, func(t *testing.T, vars map[string]string) {
		dir, vars := migrated(t, vars)
		for _, name := range []string{"reports:read", "spare", "read"} {
			if code, _, errOut := runCmd(t, dir, vars, "", "scope", "create", name, "--description", "Allows "+name); code != 0 {
				t.Fatalf("scope create: %s", errOut)
			}
		}
		x := createAppWith(t, dir, vars, "--name", "X", "--type", "public", "--redirect-uri", "https://x.example/cb", "--scope", "reports:read,read")
		y := createAppWith(t, dir, vars, "--name", "Y", "--type", "confidential", "--resource-server", "--scope", "reports:read", "--default-scope", "reports:read")

		code, out, errOut := runCmd(t, dir, vars, "", "scope", "delete", "reports:read", "--yes")
		want := "gatehouse: scope 'reports:read' is used by 2 apps (" + x.ClientID + ", " + y.ClientID + "): remove it with 'gatehouse app update' first\n"
		if code == 0 || out != "" || errOut != want {
			t.Errorf("scope delete of a scope in use: exit %d, %q, %q; want %q", code, out, errOut, want)
		}
		code, out, errOut = runCmd(t, dir, vars, "", "scope", "delete", "spare")
		wantRefused(t, "scope delete without --yes off a terminal", code, out, errOut, "refused without --yes")
		code, out, errOut = runCmd(t, dir, vars, "", "scope", "delete", "nosuch", "--yes")
		wantRefused(t, "unknown scope", code, out, errOut, `no scope is named "nosuch"`)
		code, out, errOut = runCmd(t, dir, vars, "", "scope", "delete", "bad\x00name", "--yes")
		wantRefused(t, "a name no scope can have", code, out, errOut, `no scope is named`)
		if got := scopeNames(t, dir, vars); !slices.Equal(got, []string{"read", "reports:read", "spare"}) {
			t.Fatalf("scopes after the refusals: %v", got)
		}

		if code, out, errOut := runCmd(t, dir, vars, "", "scope", "delete", "spare", "--yes"); code != 0 || out != "deleted scope spare\n" {
			t.Fatalf("scope delete spare --yes: exit %d, %q, %q", code, out, errOut)
		}
		// Once no app lists it, it goes too.
		if code, _, errOut := runCmd(t, dir, vars, "", "app", "update", x.ClientID, "--scope", "read", "--default-scope", "read"); code != 0 {
			t.Fatalf("app update x: %s", errOut)
		}
		code, _, errOut = runCmd(t, dir, vars, "", "scope", "delete", "reports:read", "--yes")
		wantRefused(t, "still used by one app", code, "", errOut, "scope 'reports:read' is used by 1 app ("+y.ClientID+")")
		if code, _, errOut := runCmd(t, dir, vars, "", "app", "update", y.ClientID, "--scope", "", "--default-scope", ""); code != 0 {
			t.Fatalf("app update y: %s", errOut)
		}
		if code, out, errOut := runCmd(t, dir, vars, "", "-o", "json", "scope", "delete", "reports:read", "--yes"); code != 0 || !strings.Contains(out, `"status": "deleted"`) {
			t.Fatalf("scope delete reports:read: exit %d, %q, %q", code, out, errOut)
		}
		if got := scopeNames(t, dir, vars); !slices.Equal(got, []string{"read"}) {
			t.Errorf("scopes after the deletions: %v", got)
		}
		evs := auditEvents(t, dir, vars, "scope_deleted")
		if len(evs) != 2 || evs[0].Detail["scope"] != "reports:read" || evs[1].Detail["scope"] != "spare" {
			t.Errorf("scope_deleted events: %+v", evs)
		}
	})
}

// tokensOf walks the flow for app as the user username and redeems the
// code.
func (f *flowFixture) tokensOf(t *testing.T, app createdApp, redirect, username, password string, scopes ...string) tokens {
	t.Helper()
	b := newBrowser(t, f.srv.URL)
	u, verifier := f.authURL(f.config(app, redirect, scopes...), "st")
	q := callback(t, b.authorize(u, username, password))
	r := f.exchange(t, app, url.Values{"code": {q.Get("code")}, "code_verifier": {verifier}})
	if r.status != 200 {
		t.Fatalf("redeem: %d %s", r.status, r.raw)
	}
	return tokens{r.body["access_token"].(string), r.body["refresh_token"].(string), r.body["scope"].(string)}
}

// logsIn reports whether username signs in with password in a new browser.
func (f *flowFixture) logsIn(t *testing.T, username, password string) bool {
	t.Helper()
	b := newBrowser(t, f.srv.URL)
	p := b.login(b.get("/login"), username, password)
	return p.status == http.StatusSeeOther && p.location == "/"
}

// usernames lists the users.
func usernames(t *testing.T, dir string, vars map[string]string) []string {
	t.Helper()
	code, out, errOut := runCmd(t, dir, vars, "", "-o", "json", "user", "list")
	var users []struct{ Username string }
	if err := json.Unmarshal([]byte(out), &users); code != 0 || err != nil {
		t.Fatalf("user list: exit %d %q (%v)", code, errOut, err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	return names
}

// TestUserDelete: 'user delete' refuses without --yes off a terminal and
// deletes nothing; with --yes the user's tokens are inactive at once at
// introspection, their refresh tokens refused, and they cannot sign in,
// while another user's tokens and sign-in keep working. Audited.
func TestUserDelete(t *testing.T) {
	onBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		bobPassword := randomHexKey(t)
		if code, _, errOut := runCmd(t, f.dir, vars, bobPassword+"\n", "user", "create", "--username", "bob", "--password-stdin"); code != 0 {
			t.Fatalf("user create bob: %s", errOut)
		}
		alice := []tokens{f.grantTokens(t, f.web, "https://client.example/cb", "read"), f.grantTokens(t, f.spa, "https://spa.example/cb", "read")}
		bob := f.tokensOf(t, f.web, "https://client.example/cb", "bob", bobPassword, "read")
		aliceSession := f.signedIn(t)

		code, out, errOut := runCmd(t, f.dir, vars, "", "user", "delete", f.user)
		wantRefused(t, "user delete without --yes off a terminal", code, out, errOut, "refused without --yes")
		if !slices.Contains(usernames(t, f.dir, vars), f.user) || !f.introspectAs(t, f.web, alice[0].access) {
			t.Fatal("a refused user delete deleted something")
		}

		if code, out, errOut := runCmd(t, f.dir, vars, "", "user", "delete", f.user, "--yes"); code != 0 || !strings.Contains(out, "deleted user "+f.user) {
			t.Fatalf("user delete --yes: exit %d, %q, %q", code, out, errOut)
		}
		for i, tok := range alice {
			if f.introspectAs(t, f.web, tok.access) {
				t.Errorf("alice's access token %d is active after her deletion", i)
			}
		}
		_, r := f.refresh(t, f.web, alice[0].refresh, nil)
		wantError(t, "refresh of a deleted user", r, 400, "invalid_grant")
		if f.logsIn(t, f.user, f.password) {
			t.Error("a deleted user signed in")
		}
		wantLoginPage(t, "the deleted user's session", aliceSession.get(f.rawAuthURL(authParams(f.web, "https://client.example/cb"))))
		// bob is untouched.
		if !f.introspectAs(t, f.web, bob.access) {
			t.Error("bob's access token died with alice")
		}
		f.mustRefresh(t, f.web, bob.refresh, nil)
		if !f.logsIn(t, "bob", bobPassword) {
			t.Error("bob cannot sign in after alice's deletion")
		}
		if got := usernames(t, f.dir, vars); slices.Contains(got, f.user) || !slices.Contains(got, "bob") {
			t.Errorf("users after the deletion: %v", got)
		}
		for _, args := range [][]string{{"user", "delete", f.user, "--yes"}, {"user", "delete", "nobody", "--yes"}, {"user", "delete", "bad name", "--yes"}} {
			code, out, errOut := runCmd(t, f.dir, vars, "", args...)
			wantRefused(t, strings.Join(args, " "), code, out, errOut, "no user is named")
		}
		evs := auditEvents(t, f.dir, vars, "user_deleted")
		if len(evs) != 1 || evs[0].Detail["username"] != f.user || evs[0].User == "" {
			t.Errorf("user_deleted events: %+v", evs)
		}
	})
}

// TestUserSetPassword: 'user set-password' reads the new password from
// stdin with --password-stdin and refuses without it off a terminal; the
// old password stops working and the new one works; a browser signed in
// before is signed out; the password appears in no output and no audit
// event. Another user's session lives on (the positive control).
func TestUserSetPassword(t *testing.T) {
	onBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		bobPassword := randomHexKey(t)
		if code, _, errOut := runCmd(t, f.dir, vars, bobPassword+"\n", "user", "create", "--username", "bob", "--password-stdin"); code != 0 {
			t.Fatalf("user create bob: %s", errOut)
		}
		signedIn := f.signedIn(t)
		bobBrowser := newBrowser(t, f.srv.URL)
		if p := bobBrowser.login(bobBrowser.get("/login"), "bob", bobPassword); p.status != http.StatusSeeOther {
			t.Fatalf("bob's login: %d", p.status)
		}
		authz := func(b *browser) page { return b.get(f.rawAuthURL(authParams(f.web, "https://client.example/cb"))) }
		wantConsentPage(t, "signed in before", authz(signedIn))
		newPassword := randomHexKey(t)

		code, out, errOut := runCmd(t, f.dir, vars, newPassword+"\n", "user", "set-password", f.user)
		wantRefused(t, "set-password without --password-stdin off a terminal", code, out, errOut, "--password-stdin")
		code, out, errOut = runCmd(t, f.dir, vars, "short\n", "user", "set-password", f.user, "--password-stdin")
		wantRefused(t, "a short password", code, out, errOut, "a password must be 8 to 1024 characters")
		code, out, errOut = runCmd(t, f.dir, vars, newPassword+"\n", "user", "set-password", "nobody", "--password-stdin")
		wantRefused(t, "an unknown user", code, out, errOut, `no user is named "nobody"`)
		if !f.logsIn(t, f.user, f.password) {
			t.Fatal("a refused set-password changed the password")
		}
		wantConsentPage(t, "after the refusals", authz(signedIn))

		code, out, errOut = runCmd(t, f.dir, vars, newPassword+"\n", "user", "set-password", f.user, "--password-stdin")
		if code != 0 || !strings.Contains(out, "every login session of the user ended") {
			t.Fatalf("set-password: exit %d, %q, %q", code, out, errOut)
		}
		if strings.Contains(out+errOut, newPassword) {
			t.Error("the new password is in the command's output")
		}
		wantLoginPage(t, "the session signed in before", authz(signedIn))
		if f.logsIn(t, f.user, f.password) {
			t.Error("the old password still signs in")
		}
		if !f.logsIn(t, f.user, newPassword) {
			t.Error("the new password does not sign in")
		}
		wantConsentPage(t, "bob's session", authz(bobBrowser))

		evs := auditEvents(t, f.dir, vars, "password_changed")
		if len(evs) != 1 || evs[0].Detail["username"] != f.user || evs[0].User != f.user || strings.Contains(fmt.Sprint(evs[0].Detail), newPassword) {
			t.Errorf("password_changed events: %+v", evs)
		}
		if strings.Contains(f.srv.Stderr.String()+f.srv.Stdout.String(), newPassword) {
			t.Error("the new password is in the server's log")
		}
	})
}
