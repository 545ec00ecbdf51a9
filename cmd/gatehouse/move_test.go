package main

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// TestMoveSQLiteToPostgres is issue 5's move: a running SQLite deployment
// is exported and imported into PostgreSQL with 'gatehouse export' and
// 'gatehouse import', and then a server on PostgreSQL (same key) honours
// everything the users and apps held: the live access token, the refresh
// token (it rotates), the confidential app's secret, the revocation made
// before the move, the login session, and the user's password.
func TestMoveSQLiteToPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two servers")
	}
	dsn := pgtest.DSN(t)
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	code, verifier := f.code(t, b, f.config(f.web, "https://client.example/cb", "read"))
	first := f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}})
	if first.status != 200 {
		t.Fatalf("exchange: %d %s", first.status, first.raw)
	}
	access, refresh := first.body["access_token"].(string), first.body["refresh_token"].(string)
	status, body := postForm(t, f.srv.URL+"/token", f.cc.ClientID, f.cc.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	if status != 200 {
		t.Fatalf("client credentials: %d %v", status, body)
	}
	revoked := body["access_token"].(string)
	revoke(t, f.srv.URL, f.cc, revoked, 200)

	_, before, _ := runCmd(t, f.dir, nil, "", "app", "list", "--output", "json")

	// Export from the running server, import into PostgreSQL.
	dumpFile := filepath.Join(t.TempDir(), "move.jsonl")
	if code, _, errOut := runCmd(t, f.dir, nil, "", "export", "--file", dumpFile); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	pg := map[string]string{"GATEHOUSE_DB": dsn}
	code2, out, errOut := runCmd(t, f.dir, pg, "", "import", "--file", dumpFile)
	if code2 != 0 || !strings.Contains(out, "imported") {
		t.Fatalf("import: %d %s %s", code2, out, errOut)
	}
	f.srv.stop()

	// The same deployment on PostgreSQL: same data directory, so the same
	// dev key file.
	f.srv = startServer(t, f.dir, pg, "--dev")
	if !f.introspect(t, access) {
		t.Error("the access token issued on SQLite is not active on PostgreSQL")
	}
	if who := whoami(t, f.srv.URL, access); !strings.Contains(strings.ToLower(fmt.Sprint(who)), f.user) {
		t.Errorf("whoami with the moved token: %v", who)
	}
	if f.introspect(t, revoked) {
		t.Error("a token revoked before the move is active after it")
	}
	if status, body := postForm(t, f.srv.URL+"/token", f.web.ClientID, f.web.ClientSecret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status != 200 || body["refresh_token"] == refresh {
		t.Fatalf("refresh on PostgreSQL: %d %v", status, body)
	}
	if status, body := postForm(t, f.srv.URL+"/token", f.cc.ClientID, f.cc.ClientSecret, url.Values{"grant_type": {"client_credentials"}}); status != 200 {
		t.Errorf("the service's secret after the move: %d %v", status, body)
	}
	// The browser's session moved too (cookies are per host, not per
	// port): a new authorization goes straight to a code, with no login
	// page; and the user's password still works in a fresh browser.
	b2 := newBrowser(t, f.srv.URL)
	b2.c.Jar = b.c.Jar
	u, _ := f.authURL(f.config(f.web, "https://client.example/cb", "read"), "st")
	if p := b2.get(u); !strings.HasPrefix(p.location, "https://client.example/cb?") || !strings.Contains(p.location, "code=") {
		t.Errorf("authorize with the moved session: %d %q, want a redirect with a code", p.status, p.location)
	}
	if code, _ := f.code(t, newBrowser(t, f.srv.URL), f.config(f.web, "https://client.example/cb", "read")); code == "" {
		t.Error("no code after logging in with the moved password")
	}
	// The same apps, and nothing seeded over the imported deployment.
	if _, after, _ := runCmd(t, f.dir, pg, "", "app", "list", "--output", "json"); after != before {
		t.Errorf("apps on PostgreSQL:\n%s\nwant, as on SQLite:\n%s", after, before)
	}
}
