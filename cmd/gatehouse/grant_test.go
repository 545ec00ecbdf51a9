package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestGrantListAndRevoke: an operator lists a user's grants by username
// and client_id, and 'grant revoke' kills the grant with its access and
// refresh tokens at once (DESIGN cascade "grant revoked"), audited; the
// user's grant with another app lives on (the positive control). Issue 11
// item 5.
func TestGrantListAndRevoke(t *testing.T) {
	onBothBackends(t, testGrantListAndRevoke)
}

func testGrantListAndRevoke(t *testing.T, vars map[string]string) {
	f := newFlowFixtureOn(t, vars)
	doomed := f.grantTokens(t, f.spa, "https://spa.example/cb", "read")
	kept := f.grantTokens(t, f.web, "https://client.example/cb", "read")

	code, out, errOut := runCmd(t, f.dir, f.vars, "", "-o", "json", "grant", "list", "--user", f.user)
	var grants []struct {
		ID        int64  `json:"id"`
		User      string `json:"user"`
		App       string `json:"app"`
		RevokedAt string `json:"revoked_at"`
	}
	if err := json.Unmarshal([]byte(out), &grants); code != 0 || err != nil || len(grants) != 2 {
		t.Fatalf("grant list --user: exit %d, %q, %q (%v)", code, out, errOut, err)
	}
	var target int64
	for _, g := range grants {
		if g.User != f.user || g.RevokedAt != "" {
			t.Errorf("grant %+v: want %s's, active", g, f.user)
		}
		if g.App == f.spa.ClientID {
			target = g.ID
		}
	}
	if target == 0 {
		t.Fatalf("no grant of %s for the SPA in %s", f.user, out)
	}
	code, out, _ = runCmd(t, f.dir, f.vars, "", "grant", "list", "--app", f.spa.ClientID)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("\n%d ", target)) || strings.Contains(out, f.web.ClientID) {
		t.Errorf("grant list --app: exit %d, %q", code, out)
	}

	// Without --yes, off a terminal: refused, and the grant lives on.
	if code, out, errOut := runCmd(t, f.dir, f.vars, "", "grant", "revoke", fmt.Sprint(target)); code == 0 || out != "" || !strings.Contains(errOut, "--yes") {
		t.Fatalf("grant revoke without --yes: exit %d, %q, %q", code, out, errOut)
	}
	if !f.introspectAs(t, f.spa, doomed.access) {
		t.Fatal("a refused grant revoke revoked the grant")
	}
	if code, out, errOut := runCmd(t, f.dir, f.vars, "", "grant", "revoke", fmt.Sprint(target), "--yes"); code != 0 || !strings.Contains(out, "revoked grant") {
		t.Fatalf("grant revoke: exit %d, %q, %q", code, out, errOut)
	}
	if f.introspectAs(t, f.spa, doomed.access) {
		t.Error("the revoked grant's access token is active")
	}
	if f.liveRefresh(t, doomed.refresh) {
		t.Error("the revoked grant's refresh token is active")
	}
	_, r := f.refresh(t, f.spa, doomed.refresh, nil)
	wantError(t, "refresh in a revoked grant", r, 400, "invalid_grant")
	if !f.introspectAs(t, f.web, kept.access) {
		t.Error("revoking one grant killed the user's grant with another app")
	}
	f.mustRefresh(t, f.web, kept.refresh, nil)

	code, out, _ = runCmd(t, f.dir, f.vars, "", "grant", "list", "--user", f.user, "--app", f.spa.ClientID)
	if code != 0 || !strings.Contains(out, "revoked ") {
		t.Errorf("the revoked grant is not listed as revoked: %q", out)
	}
	if code, out, _ := runCmd(t, f.dir, f.vars, "", "audit", "log", "-o", "json"); code != 0 || !strings.Contains(out, `"grant_revoked"`) {
		t.Errorf("no grant_revoked event in the audit log: %s", out)
	}
	for _, args := range [][]string{
		{"grant", "revoke", "999999"},
		{"grant", "revoke", "abc"},
		{"grant", "list"},
		{"grant", "list", "--user", "nobody"},
		{"grant", "list", "--app", "app_nosuch"},
	} {
		if code, out, errOut := runCmd(t, f.dir, f.vars, "", args...); code == 0 || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, %q, %q; want one line of refusal", args, code, out, errOut)
		}
	}
}
