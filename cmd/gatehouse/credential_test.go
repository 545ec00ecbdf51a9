package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// onBothBackends runs test once on the dev SQLite database and once on a
// fresh PostgreSQL schema: every command of issue 11 works on both.
func onBothBackends(t *testing.T, test func(t *testing.T, vars map[string]string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		test(t, map[string]string{"GATEHOUSE_DB": pgtest.DSN(t), "GATEHOUSE_SECRET_KEY": randomHexKey(t)})
	})
}

// appToken asks for a client credentials token; it returns the token, or
// "" and the error code.
func (f *flowFixture) appToken(t *testing.T, clientID, secret string) (string, string) {
	t.Helper()
	status, body := postForm(t, f.srv.URL+"/token", clientID, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
	if status != 200 {
		code, _ := body["error"].(string)
		return "", code
	}
	return body["access_token"].(string), ""
}

// grantTokensAs is grantTokens for another user.
func (f *flowFixture) grantTokensAs(t *testing.T, user, password string, app createdApp, redirect string, scopes ...string) tokens {
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

// cmd runs a command on the fixture's database and fails the test unless
// it succeeds.
func (f *flowFixture) cmd(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := runCmd(t, f.dir, f.vars, stdin, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	return out
}

type listedCredential struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Hint       string  `json:"hint"`
	ExpiresAt  *string `json:"expires_at"`
	LastUsedAt *string `json:"last_used_at"`
	Expired    bool    `json:"expired"`
}

func (f *flowFixture) credentials(t *testing.T, clientID string, secrets ...string) []listedCredential {
	t.Helper()
	out := f.cmd(t, "", "credential", "list", "--app", clientID, "-o", "json")
	text := f.cmd(t, "", "credential", "list", "--app", clientID)
	for _, s := range secrets {
		if strings.Contains(out, s) || strings.Contains(text, s) || strings.Contains(out+text, "gth_cs_") {
			t.Fatalf("credential list shows a secret: %s\n%s", out, text)
		}
	}
	var cs []listedCredential
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		t.Fatalf("credential list: %v: %s", err, out)
	}
	return cs
}

type auditEvent struct {
	Kind     string         `json:"kind"`
	Actor    string         `json:"actor"`
	ClientID string         `json:"client_id"`
	User     string         `json:"user"`
	Address  string         `json:"address"`
	Detail   map[string]any `json:"detail"`
}

// events returns the audit log, newest first, after args (--app, --since).
func (f *flowFixture) events(t *testing.T, args ...string) []auditEvent {
	t.Helper()
	out := f.cmd(t, "", append([]string{"audit", "log", "-o", "json"}, args...)...)
	var es []auditEvent
	if err := json.Unmarshal([]byte(out), &es); err != nil {
		t.Fatalf("audit log: %v: %s", err, out)
	}
	return es
}

// event returns the newest event of that kind, failing the test when
// there is none.
func (f *flowFixture) event(t *testing.T, kind string, args ...string) auditEvent {
	t.Helper()
	for _, e := range f.events(t, args...) {
		if e.Kind == kind {
			return e
		}
	}
	t.Fatalf("no %s event in the audit log", kind)
	return auditEvent{}
}

// TestCredentialRotationWithoutDowntime: during the overlap both secrets
// work, after it only the new one, and rotation revokes nothing (DESIGN's
// cascade: "Credential rotated (routine)"). Issue 11 items 1 and 6.
func TestCredentialRotationWithoutDowntime(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars, "--janitor-interval", "1s")
		app := createAppWith(t, f.dir, vars, "--name", "Both", "--type", "confidential", "--scope", "read",
			"--redirect-uri", "https://both.example/cb", "--grant", "authorization_code,refresh_token,client_credentials")
		creds := f.credentials(t, app.ClientID, app.ClientSecret)
		if len(creds) != 1 || creds[0].Name != "initial" || creds[0].ExpiresAt != nil || creds[0].Hint == "" {
			t.Fatalf("a new app's credentials: %+v, want one named initial that never expires", creds)
		}
		before, _ := f.appToken(t, app.ClientID, app.ClientSecret)
		user := f.grantTokens(t, app, "https://both.example/cb", "read")

		out := f.cmd(t, "", "credential", "rotate", "--app", app.ClientID, "--credential", fmt.Sprint(creds[0].ID), "--overlap", "3s", "-o", "json")
		var rotated struct {
			ID        int64     `json:"credential_id"`
			Secret    string    `json:"client_secret"`
			Name      string    `json:"name"`
			OldID     int64     `json:"rotated_credential_id"`
			OldExpiry time.Time `json:"rotated_expires_at"`
		}
		if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.Secret == "" || rotated.OldID != creds[0].ID || rotated.Name != "initial" {
			t.Fatalf("credential rotate: %v: %s", err, out)
		}
		if time.Until(rotated.OldExpiry) > 4*time.Second || time.Until(rotated.OldExpiry) < time.Second {
			t.Fatalf("the old credential expires at %s, want in 3s", rotated.OldExpiry)
		}
		// During the overlap: both secrets, and everything issued before
		// lives on.
		for name, sec := range map[string]string{"old": app.ClientSecret, "new": rotated.Secret} {
			if tok, code := f.appToken(t, app.ClientID, sec); tok == "" {
				t.Fatalf("the %s secret during the overlap: %s", name, code)
			}
		}
		if !f.introspectAs(t, app, before) || !f.introspectAs(t, app, user.access) {
			t.Fatal("rotation revoked a token")
		}
		user = f.mustRefresh(t, app, user.refresh, nil)
		if creds := f.credentials(t, app.ClientID, app.ClientSecret, rotated.Secret); len(creds) != 2 || creds[0].ExpiresAt == nil || creds[1].ExpiresAt != nil {
			t.Fatalf("credentials during the overlap: %+v", creds)
		}

		// After the overlap: only the new secret; still nothing revoked.
		time.Sleep(time.Until(rotated.OldExpiry) + 100*time.Millisecond)
		if tok, code := f.appToken(t, app.ClientID, app.ClientSecret); tok != "" || code != "invalid_client" {
			t.Fatalf("the old secret after the overlap: token %v, error %q; want invalid_client", tok != "", code)
		}
		if tok, code := f.appToken(t, app.ClientID, rotated.Secret); tok == "" {
			t.Fatalf("the new secret after the overlap: %s", code)
		}
		if !f.introspectAs(t, app, before) || !f.introspectAs(t, app, user.access) {
			t.Fatal("the old credential's expiry revoked a token")
		}
		f.mustRefresh(t, createdApp{ClientID: app.ClientID, ClientSecret: rotated.Secret}, user.refresh, nil)
		if creds := f.credentials(t, app.ClientID); !creds[0].Expired || creds[1].Expired {
			t.Fatalf("credentials after the overlap: %+v", creds)
		}

		// The audit log: the rotation, the refused expired secret (which
		// the client was told apart from nothing), the expiry the janitor saw.
		if e := f.event(t, "credential_rotated", "--app", app.ClientID); e.Actor != "operator" || e.ClientID != app.ClientID ||
			e.Detail["credential_id"] != float64(creds[0].ID) || e.Detail["new_credential_id"] != float64(rotated.ID) {
			t.Errorf("credential_rotated event: %+v", e)
		}
		if e := f.event(t, "expired_credential_used", "--app", app.ClientID); e.Actor != "app" || e.Address != "127.0.0.1" || e.Detail["credential_id"] != float64(creds[0].ID) {
			t.Errorf("expired_credential_used event: %+v", e)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			es := f.events(t, "--app", app.ClientID)
			found := false
			for _, e := range es {
				found = found || e.Kind == "credential_expired" && e.Actor == "server" && e.Detail["credential_id"] == float64(creds[0].ID)
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the janitor recorded no credential_expired event: %+v", es)
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, e := range f.events(t) {
			raw, _ := json.Marshal(e)
			for _, sec := range []string{app.ClientSecret, rotated.Secret, before, user.access, user.refresh} {
				if strings.Contains(string(raw), sec) {
					t.Fatalf("the audit log holds a secret: %s", raw)
				}
			}
		}
	})
}

// TestCredentialDeleteRevokesEveryTokenOfTheApp: deleting a leaked
// credential stops it at once and revokes every access and refresh token
// of the app — client credentials and two users' grants — as
// introspection and failed refreshes show; the app's other credential and
// other apps' tokens live on (the positive controls). A revoked refresh
// token presented later is an ended grant, not a reuse. Without --yes and
// without a terminal nothing is deleted. Issue 11 items 1 and 6.
func TestCredentialDeleteRevokesEveryTokenOfTheApp(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		f := newFlowFixtureOn(t, vars)
		bobPassword := "bob-" + randomHexKey(t)[:16]
		f.cmd(t, bobPassword+"\n", "user", "create", "--username", "bob", "--password-stdin")
		app := createAppWith(t, f.dir, vars, "--name", "Leaky", "--type", "confidential", "--scope", "read",
			"--redirect-uri", "https://leaky.example/cb", "--grant", "authorization_code,refresh_token,client_credentials")
		service, _ := f.appToken(t, app.ClientID, app.ClientSecret)
		alice := f.grantTokens(t, app, "https://leaky.example/cb", "read")
		bob := f.grantTokensAs(t, "bob", bobPassword, app, "https://leaky.example/cb", "read")
		other := f.grantTokens(t, f.web, "https://client.example/cb", "read")
		var spare struct {
			ID     int64  `json:"credential_id"`
			Secret string `json:"client_secret"`
		}
		if err := json.Unmarshal([]byte(f.cmd(t, "", "credential", "create", "--app", app.ClientID, "--name", "spare", "-o", "json")), &spare); err != nil || spare.Secret == "" {
			t.Fatalf("credential create: %v", err)
		}
		leaked := f.credentials(t, app.ClientID, app.ClientSecret, spare.Secret)[0]

		// Standard input is not a terminal and there is no --yes: refused,
		// nothing deleted, nothing revoked.
		code, out, errOut := runCmd(t, f.dir, vars, "", "credential", "delete", "--app", app.ClientID, "--credential", fmt.Sprint(leaked.ID))
		if code == 0 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--yes") {
			t.Fatalf("delete without --yes off a terminal: exit %d, %q, %q", code, out, errOut)
		}
		if len(f.credentials(t, app.ClientID)) != 2 || !f.introspectAs(t, app, service) {
			t.Fatal("a refused delete deleted or revoked something")
		}

		out = f.cmd(t, "", "credential", "delete", "--app", app.ClientID, "--credential", fmt.Sprint(leaked.ID), "--yes", "-o", "json")
		var deleted struct {
			Tokens int64 `json:"tokens_revoked"`
			Grants int64 `json:"grants_revoked"`
		}
		if err := json.Unmarshal([]byte(out), &deleted); err != nil || deleted.Grants != 2 || deleted.Tokens < 5 {
			t.Fatalf("credential delete: %v: %s; want 2 grants and at least 5 tokens revoked", err, out)
		}
		// The leaked secret stops at once; every token of the app is dead.
		if tok, code := f.appToken(t, app.ClientID, app.ClientSecret); tok != "" || code != "invalid_client" {
			t.Fatalf("the deleted secret: token %v, error %q; want invalid_client", tok != "", code)
		}
		for name, tok := range map[string]string{"client credentials": service, "alice's access": alice.access, "bob's access": bob.access} {
			if f.introspectAs(t, app, tok) {
				t.Errorf("%s token is active after its app's credential was deleted", name)
			}
		}
		for name, rt := range map[string]string{"alice": alice.refresh, "bob": bob.refresh} {
			_, r := f.refresh(t, createdApp{ClientID: app.ClientID, ClientSecret: spare.Secret}, rt, nil)
			wantError(t, name+"'s refresh after the credential was deleted", r, 400, "invalid_grant")
		}
		// Positive controls: the app's other credential works, and so do
		// other apps' tokens.
		fresh, errCode := f.appToken(t, app.ClientID, spare.Secret)
		if fresh == "" || !f.introspectAs(t, app, fresh) {
			t.Fatalf("the app's other credential: %s", errCode)
		}
		if !f.introspectAs(t, f.web, other.access) {
			t.Error("deleting one app's credential revoked another app's token")
		}
		f.mustRefresh(t, f.web, other.refresh, nil)

		e := f.event(t, "credential_deleted", "--app", app.ClientID)
		if e.Actor != "operator" || e.Detail["credential_id"] != float64(leaked.ID) || e.Detail["grants_revoked"] != float64(2) {
			t.Errorf("credential_deleted event: %+v", e)
		}
		for _, e := range f.events(t, "--app", app.ClientID) {
			if e.Kind == "refresh_token_reuse" {
				t.Errorf("a refresh token revoked with its app's credential was taken for a reuse: %+v", e)
			}
		}
	})
}

// TestCredentialCommandsRefuseInTheOperatorsWords: at most 5 unexpired
// credentials, none for a public app, and every bad argument refused with
// one line on stderr and nothing changed.
func TestCredentialCommandsRefuseInTheOperatorsWords(t *testing.T) {
	onBothBackends(t, func(t *testing.T, vars map[string]string) {
		dir := t.TempDir()
		if vars == nil {
			vars = map[string]string{"GATEHOUSE_SECRET_KEY": randomHexKey(t)}
		}
		f := &flowFixture{dir: dir, vars: vars}
		f.cmd(t, "", "migrate")
		app := createAppWith(t, dir, vars, "--name", "Web", "--type", "confidential", "--grant", "client_credentials")
		pub := createAppWith(t, dir, vars, "--name", "SPA", "--type", "public", "--redirect-uri", "https://spa.example/cb")
		for i := range 4 {
			f.cmd(t, "", "credential", "create", "--app", app.ClientID, "--name", fmt.Sprint("extra-", i))
		}
		id := fmt.Sprint(f.credentials(t, app.ClientID)[0].ID)
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"credential", "create", "--app", app.ClientID, "--name", "sixth"}, "already holds 5 unexpired credentials"},
			{[]string{"credential", "rotate", "--app", app.ClientID, "--credential", id}, "already holds 5 unexpired credentials"},
			{[]string{"credential", "create", "--app", pub.ClientID, "--name", "x"}, "public"},
			{[]string{"credential", "rotate", "--app", pub.ClientID, "--credential", id}, "public"},
			{[]string{"credential", "create", "--app", "app_nosuch", "--name", "x"}, "no app has client_id"},
			{[]string{"credential", "create", "--app", app.ClientID}, "missing --name"},
			{[]string{"credential", "create", "--name", "x"}, "missing --app"},
			{[]string{"credential", "create", "--app", app.ClientID, "--name", "bad\tname"}, "one line"},
			{[]string{"credential", "create", "--app", app.ClientID, "--name", "x", "--expires-in", "soon"}, "not a duration"},
			{[]string{"credential", "rotate", "--app", app.ClientID}, "missing --credential"},
			{[]string{"credential", "rotate", "--app", app.ClientID, "--credential", "abc"}, "positive number"},
			{[]string{"credential", "rotate", "--app", app.ClientID, "--credential", "999999"}, "has no credential 999999"},
			{[]string{"credential", "rotate", "--app", app.ClientID, "--credential", id, "--overlap", "400d"}, "overlap must be between"},
			{[]string{"credential", "delete", "--app", app.ClientID, "--credential", "999999", "--yes"}, "has no credential 999999"},
			{[]string{"credential", "frobnicate"}, "unknown command"},
		} {
			code, out, errOut := runCmd(t, dir, vars, "", tt.args...)
			if code == 0 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) ||
				strings.Contains(strings.ToLower(errOut), "sql") || strings.Contains(errOut, "pgx") {
				t.Errorf("%v: exit %d, %q, %q; want one line saying %q", tt.args, code, out, errOut, tt.want)
			}
		}
		if n := len(f.credentials(t, app.ClientID)); n != 5 {
			t.Errorf("%d credentials after the refusals, want 5", n)
		}
		// Without an overlap the old credential expires at once, so the
		// rotation of a full app fits.
		f.cmd(t, "", "credential", "rotate", "--app", app.ClientID, "--credential", id, "--overlap", "0")
		live := 0
		for _, c := range f.credentials(t, app.ClientID) {
			if !c.Expired {
				live++
			}
		}
		if live != 5 {
			t.Errorf("%d unexpired credentials after a rotation without overlap, want 5", live)
		}
	})
}
