package main

import (
	"net/url"
	"testing"
)

// countKind counts the events of one kind in the audit log.
func (f *flowFixture) countKind(t *testing.T, kind string) (int, []auditEvent) {
	t.Helper()
	n, of := 0, []auditEvent{}
	for _, e := range f.events(t, "--limit", "1000") {
		if e.Kind == kind {
			n++
			of = append(of, e)
		}
	}
	return n, of
}

// Issue 11 item 3: repeated failed sign-ins and client authentications
// are audited once per lockout, not once per failure; the failures before
// the limit runs out make no event (the positive control that the count is
// not of failures).
func TestLockoutsAuditedOncePerLockout(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	wrong := url.Values{"username": {f.user}, "password": {"wrong " + f.password}}
	for range 5 { // the account-and-address limit holds 5
		if p := b.post("/login", wrong); p.status != 401 {
			t.Fatalf("a wrong password before the limit: %d", p.status)
		}
	}
	if n, _ := f.countKind(t, "login_throttled"); n != 0 {
		t.Fatalf("%d login_throttled events before any lockout", n)
	}
	for range 8 {
		if p := b.post("/login", wrong); p.status != 429 {
			t.Fatalf("a wrong password past the limit: %d", p.status)
		}
	}
	n, es := f.countKind(t, "login_throttled")
	if n != 1 || es[0].User != f.user || es[0].Address != "127.0.0.1" || es[0].Detail["limit"] != "account_address" || es[0].Actor != "server" {
		t.Fatalf("after one lockout of 8 refusals: %d login_throttled events %+v, want 1 naming %s, the address and the limit", n, es, f.user)
	}
	for _, e := range f.events(t) {
		for _, v := range e.Detail {
			if s, ok := v.(string); ok && s == wrong.Get("password") {
				t.Fatal("the audit log holds the typed password")
			}
		}
	}

	bad := wrongSecretFor(f.cc, f.web)
	cc := url.Values{"grant_type": {"client_credentials"}}
	for range 9 { // the client-and-address limit holds 10; the 10th failure empties it
		wantError(t, "a wrong secret", f.postFrom(t, "127.0.0.31", "/token", clientForm(bad, cc)), 401, "invalid_client")
	}
	if n, _ := f.countKind(t, "client_auth_throttled"); n != 0 {
		t.Fatalf("%d client_auth_throttled events before any lockout", n)
	}
	wantError(t, "the failure that empties the limit", f.postFrom(t, "127.0.0.31", "/token", clientForm(bad, cc)), 401, "invalid_client")
	for range 10 {
		wantError(t, "a wrong secret past the limit", f.postFrom(t, "127.0.0.31", "/token", clientForm(bad, cc)), 429, "invalid_client")
	}
	n, es = f.countKind(t, "client_auth_throttled")
	if n != 1 || es[0].Address != "127.0.0.31" || es[0].Detail["client_id"] != f.cc.ClientID || es[0].Actor != "app" {
		t.Fatalf("after one client lockout: %d client_auth_throttled events %+v, want 1 with the address and client_id", n, es)
	}
}
