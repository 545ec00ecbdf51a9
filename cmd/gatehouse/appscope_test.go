package main

import (
	"net/url"
	"testing"
)

// A scope that the operator takes from an app with 'app update' is not
// issued again to a grant made before: the next refresh narrows the grant
// to what the app may still request (before the update, the same refresh
// keeps both scopes: the positive control), and a grant left with no
// scope the app may request ends with invalid_scope.
func TestScopeRemovedFromAnAppIsNotRefreshedAgain(t *testing.T) {
	f := newFlowFixture(t)
	tok := f.grantTokens(t, f.web, "https://client.example/cb", "read", "write")
	tok = f.mustRefresh(t, f.web, tok.refresh, nil)
	if tok.scope != "read write" && tok.scope != "write read" {
		t.Fatalf("refresh before the update: scope %q, want read and write", tok.scope)
	}
	f.cmd(t, "", "app", "update", f.web.ClientID, "--scope", "read", "--default-scope", "read")
	tok = f.mustRefresh(t, f.web, tok.refresh, nil)
	if tok.scope != "read" {
		t.Fatalf("refresh after write was removed from the app: scope %q, want read", tok.scope)
	}
	_, r := f.refresh(t, f.web, tok.refresh, url.Values{"scope": {"write"}})
	wantError(t, "asking for the removed scope", r, 400, "invalid_scope")

	only := f.grantTokens(t, f.web, "https://client.example/cb", "read")
	f.cmd(t, "", "scope", "create", "other", "--description", "Other")
	f.cmd(t, "", "app", "update", f.web.ClientID, "--scope", "other", "--default-scope", "other")
	_, r = f.refresh(t, f.web, only.refresh, nil)
	wantError(t, "a grant whose every scope was removed", r, 400, "invalid_scope")
}
