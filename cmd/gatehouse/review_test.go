package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// seedDB writes into a Gatehouse database behind its back, as a tamperer
// (or an older version) would: SQL in the backends' shared schema, with
// $N placeholders (SQLite reads them too) and times in unix milliseconds.
type seedDB struct {
	t    *testing.T
	lite *sql.DB
	pg   *pgxpool.Pool
}

func openSeedDB(t *testing.T, dir string, vars map[string]string) *seedDB {
	t.Helper()
	s := &seedDB{t: t}
	if dsn := vars["GATEHOUSE_DB"]; dsn != "" {
		pool, err := pgxpool.New(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		s.pg = pool
		return s
	}
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(dir, dbFileName))+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s.lite = db
	return s
}

func (s *seedDB) exec(query string, args ...any) {
	s.t.Helper()
	var err error
	if s.pg != nil {
		_, err = s.pg.Exec(context.Background(), query, args...)
	} else {
		_, err = s.lite.ExecContext(context.Background(), query, args...)
	}
	if err != nil {
		s.t.Fatalf("seed %q: %v", query, err)
	}
}

func (s *seedDB) int(query string, args ...any) int64 {
	s.t.Helper()
	var n int64
	var err error
	if s.pg != nil {
		err = s.pg.QueryRow(context.Background(), query, args...).Scan(&n)
	} else {
		err = s.lite.QueryRowContext(context.Background(), query, args...).Scan(&n)
	}
	if err != nil {
		s.t.Fatalf("seed %q: %v", query, err)
	}
	return n
}

// ago is the unix millisecond time d before now.
func millisAgo(d time.Duration) int64 { return time.Now().Add(-d).UnixMilli() }

const days = 24 * time.Hour

func (s *seedDB) appID(clientID string) int64 {
	return s.int(`SELECT id FROM apps WHERE client_id = $1`, clientID)
}

func (s *seedDB) credentialID(clientID string) int64 {
	return s.int(`SELECT min(id) FROM credentials WHERE app_id = $1`, s.appID(clientID))
}

// addCredential inserts a credential of the app and returns its ID.
func (s *seedDB) addCredential(clientID string, created time.Duration, used bool) int64 {
	var last any
	if used {
		last = millisAgo(time.Hour)
	}
	s.exec(`INSERT INTO credentials (app_id, digest, hint, created_at, last_used_at) VALUES ($1, $2, 'seed', $3, $4)`,
		s.appID(clientID), []byte(rand.Text()), millisAgo(created), last)
	return s.int(`SELECT max(id) FROM credentials WHERE app_id = $1`, s.appID(clientID))
}

// auditFindings runs 'gatehouse audit -o json' and returns its exit code
// and findings.
func auditFindings(t *testing.T, dir string, vars map[string]string, args ...string) (int, []findingOutput) {
	t.Helper()
	code, out, errOut := runCmd(t, dir, vars, "", append([]string{"audit", "-o", "json"}, args...)...)
	var fs []findingOutput
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("audit -o json: exit %d, %q, %q: %v", code, out, errOut, err)
	}
	return code, fs
}

// TestAuditReviewsSeededDatabase: 'gatehouse audit' on a database seeded
// with each finding reports each with its severity and fix, and nothing of
// an old app that follows the checklist (the positive control); it exits 2
// while a high finding remains, 0 with only medium and low ones, and says
// "no findings" when there are none. On SQLite and PostgreSQL (issue 11
// items 4 and 6).
func TestAuditReviewsSeededDatabase(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			vars := map[string]string{"GATEHOUSE_SECRET_KEY": randomHexKey(t)}
			if backend == "postgres" {
				vars["GATEHOUSE_DB"] = pgtest.DSN(t)
			}
			testAuditReview(t, dir, vars)
		})
	}
}

func testAuditReview(t *testing.T, dir string, vars map[string]string) {
	if code, _, errOut := runCmd(t, dir, vars, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	for _, sc := range []string{"read", "write"} {
		if code, _, errOut := runCmd(t, dir, vars, "", "scope", "create", sc, "--description", "Allows "+sc); code != 0 {
			t.Fatalf("scope create: %s", errOut)
		}
	}
	service := func(name string, scopes string) createdApp {
		return createAppWith(t, dir, vars, "--name", name, "--type", "confidential", "--scope", scopes, "--grant", "client_credentials")
	}
	public := func(name string) createdApp {
		return createAppWith(t, dir, vars, "--name", name, "--type", "public", "--scope", "read", "--redirect-uri", "https://"+strings.ToLower(name)+".example/cb")
	}
	clean, oldCred, unusedCred, overlap := service("Clean", "read"), service("OldCred", "read"), service("UnusedCred", "read"), service("Overlap", "read")
	scopes, idle := service("Scopes", "read,write"), createAppWith(t, dir, vars, "--name", "Idle", "--type", "confidential", "--scope", "read", "--redirect-uri", "https://idle.example/cb")
	httpApp, publicCred := public("Plain"), public("Tampered")
	all := []createdApp{clean, oldCred, unusedCred, overlap, scopes, idle, httpApp, publicCred}

	db := openSeedDB(t, dir, vars)
	// Every app is 100 days old, its credential 10 days and used an
	// hour ago, its scopes used a day ago: the clean app stays so.
	for _, a := range all {
		id := db.appID(a.ClientID)
		db.exec(`UPDATE apps SET created_at = $1 WHERE id = $2`, millisAgo(100*days), id)
		db.exec(`UPDATE credentials SET created_at = $1, last_used_at = $2 WHERE app_id = $3`, millisAgo(10*days), millisAgo(time.Hour), id)
		db.exec(`INSERT INTO scope_use (app_id, scope, last_used_at) SELECT app_id, scope, $1 FROM app_scopes WHERE app_id = $2`, millisAgo(days), id)
	}
	db.exec(`UPDATE credentials SET created_at = $1 WHERE app_id = $2`, millisAgo(91*days), db.appID(oldCred.ClientID))
	db.exec(`UPDATE credentials SET last_used_at = NULL WHERE app_id = $1`, db.appID(unusedCred.ClientID))
	db.exec(`UPDATE credentials SET created_at = $1 WHERE app_id = $2`, millisAgo(60*days), db.appID(overlap.ClientID))
	lingering := db.credentialID(overlap.ClientID)
	db.addCredential(overlap.ClientID, 40*days, true)
	db.exec(`UPDATE scope_use SET last_used_at = $1 WHERE app_id = $2 AND scope = 'write'`, millisAgo(91*days), db.appID(scopes.ClientID))
	db.exec(`UPDATE app_redirect_uris SET uri = 'http://plain.example/cb' WHERE app_id = $1`, db.appID(httpApp.ClientID))
	tampered := db.addCredential(publicCred.ClientID, days, false)
	// Idle: two refresh tokens issued 10 days ago, never exchanged and
	// live (the server was run with a longer idle lifetime); beside them
	// an exchanged one, a revoked one and a young one, which do not count.
	db.exec(`INSERT INTO users (username, password_hash, created_at) VALUES ('ann', 'x', $1)`, millisAgo(100*days))
	idleID := db.appID(idle.ClientID)
	db.exec(`INSERT INTO grants (user_id, app_id, scopes, created_at) VALUES ((SELECT id FROM users WHERE username = 'ann'), $1, 'read', $2)`, idleID, millisAgo(20*days))
	for i, tok := range []struct {
		issued        time.Duration
		used, revoked any
	}{{10 * days, nil, nil}, {11 * days, nil, nil}, {10 * days, millisAgo(days), nil}, {10 * days, nil, millisAgo(days)}, {days, nil, nil}} {
		db.exec(`INSERT INTO tokens (digest, kind, app_id, user_id, grant_id, scopes, issued_at, expires_at, used_at, revoked_at)
			SELECT $1, 'refresh', app_id, user_id, id, 'read', $2, $3, $4, $5 FROM grants WHERE app_id = $6`,
			[]byte(fmt.Sprintf("idle-token-%d-%s", i, rand.Text())), millisAgo(tok.issued), millisAgo(-20*days), tok.used, tok.revoked, idleID)
	}

	type want struct {
		severity, check, clientID string
		in                        []string // in the message or the fix
	}
	wants := []want{
		{"high", "http_redirect_uri", httpApp.ClientID, []string{"http://plain.example/cb", "gatehouse app update " + httpApp.ClientID + " --redirect-uri https://plain.example/cb"}},
		{"high", "public_app_credential", publicCred.ClientID, []string{fmt.Sprintf("gatehouse credential delete --app %s --credential %d", publicCred.ClientID, tampered)}},
		{"medium", "credential_age", oldCred.ClientID, []string{fmt.Sprintf("gatehouse credential rotate --app %s --credential %d", oldCred.ClientID, db.credentialID(oldCred.ClientID)), "91 days"}},
		{"medium", "credential_overlap", overlap.ClientID, []string{fmt.Sprintf("gatehouse credential delete --app %s --credential %d", overlap.ClientID, lingering)}},
		{"low", "credential_unused", unusedCred.ClientID, []string{fmt.Sprintf("gatehouse credential delete --app %s --credential %d", unusedCred.ClientID, db.credentialID(unusedCred.ClientID)), "never used"}},
		{"low", "unused_scope", scopes.ClientID, []string{"may request write", "gatehouse app update " + scopes.ClientID + " --scope read"}},
		{"low", "refresh_idle", idle.ClientID, []string{"2 live refresh token(s)", "gatehouse grant list --app " + idle.ClientID}},
	}
	check := func(fs []findingOutput, wants []want) {
		t.Helper()
		got := map[string]findingOutput{}
		for _, f := range fs {
			if f.ClientID == clean.ClientID {
				t.Errorf("a finding of the clean app: %+v", f)
			}
			got[f.Check+" "+f.ClientID] = f
		}
		for _, w := range wants {
			f, ok := got[w.check+" "+w.clientID]
			if !ok {
				t.Errorf("no %s finding of %s in %+v", w.check, w.clientID, fs)
				continue
			}
			delete(got, w.check+" "+w.clientID)
			if f.Severity != w.severity || f.App == "" {
				t.Errorf("%s: severity %q, app %q; want %s", w.check, f.Severity, f.App, w.severity)
			}
			for _, s := range w.in {
				if !strings.Contains(f.Message+"\n"+f.Fix, s) {
					t.Errorf("%s: %q / %q lacks %q", w.check, f.Message, f.Fix, s)
				}
			}
		}
		for _, f := range got {
			t.Errorf("unexpected finding %+v", f)
		}
	}
	code, fs := auditFindings(t, dir, vars)
	check(fs, wants)
	if code != exitHighFindings {
		t.Errorf("audit with high findings exited %d, want %d", code, exitHighFindings)
	}
	code, out, errOut := runCmd(t, dir, vars, "", "audit")
	if code != exitHighFindings || !strings.Contains(out, "HIGH    "+httpApp.ClientID+` ("Plain")  http_redirect_uri`) ||
		!strings.Contains(out, "7 finding(s): 2 high, 2 medium, 3 low") || errOut != "gatehouse: 2 high-severity finding(s)\n" {
		t.Errorf("audit as text: exit %d, %q, %q", code, out, errOut)
	}

	// A stricter policy finds more: the clean app's 10-day-old credential.
	_, fs = auditFindings(t, dir, vars, "--credential-max-age", "9d")
	if !slices.ContainsFunc(fs, func(f findingOutput) bool { return f.ClientID == clean.ClientID && f.Check == "credential_age" }) {
		t.Errorf("--credential-max-age 9d: no credential_age finding of the clean app in %+v", fs)
	}
	if code, _, errOut := runCmd(t, dir, vars, "", "audit", "--refresh-idle", "soon"); code != 1 || strings.Count(errOut, "\n") != 1 {
		t.Errorf("a bad --refresh-idle: exit %d, %q", code, errOut)
	}

	// Without the high findings, medium and low ones exit 0.
	// The fix as the finding says it: delete the tampered credential.
	if code, _, errOut := runCmd(t, dir, vars, "", "credential", "delete", "--app", publicCred.ClientID, "--credential", fmt.Sprint(tampered), "--yes"); code != 0 {
		t.Fatalf("the public_app_credential fix: %s", errOut)
	}
	db.exec(`UPDATE app_redirect_uris SET uri = 'https://plain.example/cb' WHERE app_id = $1`, db.appID(httpApp.ClientID))
	code, fs = auditFindings(t, dir, vars)
	check(fs, wants[2:])
	if code != 0 {
		t.Errorf("audit with only medium and low findings exited %d, want 0", code)
	}

	// Only the clean app left: no findings.
	for _, a := range all[1:] {
		if code, _, errOut := runCmd(t, dir, vars, "", "app", "delete", a.ClientID, "--yes"); code != 0 {
			t.Fatalf("app delete: %s", errOut)
		}
	}
	if code, out, errOut := runCmd(t, dir, vars, "", "audit"); code != 0 || !strings.HasPrefix(out, "no findings") || errOut != "" {
		t.Errorf("audit of a clean database: exit %d, %q, %q", code, out, errOut)
	}
	if code, out, _ := runCmd(t, dir, vars, "", "audit", "-o", "json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("audit -o json of a clean database: exit %d, %q", code, out)
	}
}

// TestAuditSeesScopesUsedByTokens: a client credentials token for read
// records read's use through the running server, so that the review of
// the app (aged by SQL) reports write unused and read not.
func TestAuditSeesScopesUsedByTokens(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, nil, "--dev")
	for _, sc := range []string{"reports:read", "reports:write"} { // not the demo's
		if code, _, errOut := runCmd(t, dir, nil, "", "scope", "create", sc, "--description", "Allows "+sc); code != 0 {
			t.Fatalf("scope create: %s", errOut)
		}
	}
	app := createApp(t, dir, "--name", "Reporter", "--type", "confidential", "--scope", "reports:read,reports:write", "--default-scope", "reports:read", "--grant", "client_credentials")
	if status, body := postForm(t, srv.URL+"/token", app.ClientID, app.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"reports:read"}}); status != 200 {
		t.Fatalf("client credentials: %d %v", status, body)
	}
	db := openSeedDB(t, dir, nil)
	db.exec(`UPDATE apps SET created_at = $1 WHERE client_id = $2`, millisAgo(100*days), app.ClientID)
	_, fs := auditFindings(t, dir, nil)
	var found bool
	for _, f := range fs {
		if f.ClientID != app.ClientID || f.Check != "unused_scope" {
			continue
		}
		found = true
		if !strings.Contains(f.Message, "reports:write") || strings.Contains(f.Message, "reports:read") || f.Fix != "gatehouse app update "+app.ClientID+" --scope reports:read --default-scope reports:read" {
			t.Errorf("unused scope finding %+v: want write unused, read kept", f)
		}
	}
	if !found {
		t.Errorf("no unused_scope finding of %s for reports:write: %+v", app.ClientID, fs)
	}
}
