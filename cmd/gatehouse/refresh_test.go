package main

import (
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// tokens holds a token response.
type tokens struct{ access, refresh, scope string }

// grantTokens walks the flow for the web app and redeems the code.
func (f *flowFixture) grantTokens(t *testing.T, app createdApp, redirect string, scopes ...string) tokens {
	t.Helper()
	b := newBrowser(t, f.srv.URL)
	code, verifier := f.code(t, b, f.config(app, redirect, scopes...))
	r := f.exchange(t, app, url.Values{"code": {code}, "code_verifier": {verifier}})
	if r.status != 200 {
		t.Fatalf("redeem: %d %s", r.status, r.raw)
	}
	return tokens{r.body["access_token"].(string), r.body["refresh_token"].(string), r.body["scope"].(string)}
}

// refresh exchanges a refresh token as app.
func (f *flowFixture) refresh(t *testing.T, app createdApp, rt string, extra url.Values) (tokens, rawResponse) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, v := range extra {
		form[k] = v
	}
	var h map[string]string
	if app.ClientSecret != "" {
		h = map[string]string{"Authorization": basicAuth(app.ClientID, app.ClientSecret)}
	} else {
		form.Set("client_id", app.ClientID)
	}
	r := send(t, "POST", f.srv.URL+"/token", formCT, form.Encode(), h)
	if r.status != 200 {
		return tokens{}, r
	}
	return tokens{r.body["access_token"].(string), r.body["refresh_token"].(string), r.body["scope"].(string)}, r
}

func (f *flowFixture) mustRefresh(t *testing.T, app createdApp, rt string, extra url.Values) tokens {
	t.Helper()
	tok, r := f.refresh(t, app, rt, extra)
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.raw)
	}
	return tok
}

// BCP-4.14.2-a: a public app's refresh token rotates on every use.
func TestBCP_4_14_2_a_PublicRefreshTokensRotate(t *testing.T) {
	f := newFlowFixture(t)
	t0 := f.grantTokens(t, f.spa, "https://spa.example/cb", "read")
	t1 := f.mustRefresh(t, f.spa, t0.refresh, nil)
	if t1.refresh == "" || t1.refresh == t0.refresh {
		t.Fatal("the refresh token did not rotate")
	}
}

// BCP-4.14.2-b: a superseded refresh token presented after its successor
// was used kills the whole grant, and the event is recorded.
func TestBCP_4_14_2_b_ReuseRevokesTheGrant(t *testing.T) {
	f := newFlowFixture(t)
	t0 := f.grantTokens(t, f.spa, "https://spa.example/cb", "read")
	t1 := f.mustRefresh(t, f.spa, t0.refresh, nil)
	t2 := f.mustRefresh(t, f.spa, t1.refresh, nil) // the successor is used
	_, r := f.refresh(t, f.spa, t0.refresh, nil)
	wantError(t, "reuse of RT0", r, 400, "invalid_grant")
	_, r = f.refresh(t, f.spa, t2.refresh, nil)
	wantError(t, "the newest refresh token after reuse", r, 400, "invalid_grant")
	for i, at := range []string{t0.access, t1.access, t2.access} {
		if f.introspectAs(t, f.spa, at) {
			t.Errorf("access token %d is active after reuse detection", i)
		}
	}
	code, out, _ := runCmd(t, f.dir, nil, "", "audit", "-o", "json")
	if code != 0 || !strings.Contains(out, `"refresh_token_reuse"`) {
		t.Fatalf("no reuse event in the audit log: %s", out)
	}
}

// DESIGN "The retry window": a client that lost the response presents the
// old token again; the unused successor is revoked and a new one issued,
// and the grant lives on.
func TestRefreshRetryWithinWindow(t *testing.T) {
	f := newFlowFixture(t)
	t0 := f.grantTokens(t, f.spa, "https://spa.example/cb", "read")
	lost := f.mustRefresh(t, f.spa, t0.refresh, nil) // the response is lost
	again := f.mustRefresh(t, f.spa, t0.refresh, nil)
	if again.refresh == lost.refresh {
		t.Fatal("the retry returned the lost token")
	}
	if f.introspectAs(t, f.spa, lost.access) || f.liveRefresh(t, lost.refresh) {
		t.Fatal("the lost successor is still active")
	}
	next := f.mustRefresh(t, f.spa, again.refresh, nil)
	if !f.introspectAs(t, f.spa, next.access) {
		t.Fatal("the grant died on a retry inside the window")
	}
}

// BCP-4.14.2-b: a thief who replays a stolen refresh token inside the retry
// window does not keep the grant: when the client then presents its own,
// now revoked, successor, the whole grant dies.
func TestBCP_4_14_2_b_ThiefRetryingInsideTheWindowLosesTheGrant(t *testing.T) {
	f := newFlowFixture(t)
	t0 := f.grantTokens(t, f.spa, "https://spa.example/cb", "read")
	client := f.mustRefresh(t, f.spa, t0.refresh, nil) // the client rotates
	thief := f.mustRefresh(t, f.spa, t0.refresh, nil)  // the thief replays RT0 in the window
	_, r := f.refresh(t, f.spa, client.refresh, nil)
	wantError(t, "the client's revoked successor", r, 400, "invalid_grant")
	if _, r := f.refresh(t, f.spa, thief.refresh, nil); r.status != 400 {
		t.Fatalf("the thief's refresh token still works: %d", r.status)
	}
	if f.introspectAs(t, f.spa, thief.access) {
		t.Fatal("the thief's access token is still active")
	}
}

// BCP-4.14.2-b concurrency variant: many parallel uses of one refresh token
// leave exactly one live successor.
func TestConcurrentRefreshesLeaveOneSuccessor(t *testing.T) {
	f := newFlowFixture(t)
	t0 := f.grantTokens(t, f.spa, "https://spa.example/cb", "read")
	var mu sync.Mutex
	var got []tokens
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			tok, r := f.refresh(t, f.spa, t0.refresh, nil)
			if r.status == 200 {
				mu.Lock()
				got = append(got, tok)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	live := 0
	for _, tok := range got {
		if f.liveRefresh(t, tok.refresh) {
			live++
		}
	}
	if len(got) == 0 || live != 1 {
		t.Fatalf("%d exchanges succeeded, %d successors live; want exactly 1 live", len(got), live)
	}
}

// BCP-4.14.2-c: scope may narrow on refresh, never widen; the grant keeps
// its full scope.
func TestBCP_4_14_2_c_RefreshScope(t *testing.T) {
	f := newFlowFixture(t)
	t0 := f.grantTokens(t, f.web, "https://client.example/cb", "read", "write")
	_, r := f.refresh(t, f.web, t0.refresh, url.Values{"scope": {"read admin"}})
	wantError(t, "widening", r, 400, "invalid_scope")
	narrow := f.mustRefresh(t, f.web, t0.refresh, url.Values{"scope": {"read"}})
	if narrow.scope != "read" {
		t.Fatalf("narrowed scope %q", narrow.scope)
	}
	full := f.mustRefresh(t, f.web, narrow.refresh, nil)
	if full.scope != "read write" {
		t.Fatalf("the next refresh has scope %q, want the grant's full scope", full.scope)
	}
}

// O21-4.3-a: a refresh token is bound to its client, and a confidential
// client must authenticate to use it.
func TestO21_4_3_a_RefreshBoundToClient(t *testing.T) {
	f := newFlowFixture(t)
	t0 := f.grantTokens(t, f.web, "https://client.example/cb", "read")
	_, r := f.refresh(t, f.tenant, t0.refresh, nil)
	wantError(t, "another app's refresh token", r, 400, "invalid_grant")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t0.refresh}, "client_id": {f.web.ClientID}}
	wantError(t, "no client authentication", send(t, "POST", f.srv.URL+"/token", formCT, form.Encode(), nil), 401, "invalid_client")
	f.mustRefresh(t, f.web, t0.refresh, nil) // both refusals left it usable
}

// BCP-4.14.2-e: a refresh token cannot be guessed or modified.
func TestBCP_4_14_2_e_ModifiedRefreshTokens(t *testing.T) {
	f := newFlowFixture(t)
	t0 := f.grantTokens(t, f.web, "https://client.example/cb", "read")
	for _, i := range []int{0, 7, 20, 49, 55} {
		b := []byte(t0.refresh)
		b[i] ^= 0x01
		_, r := f.refresh(t, f.web, string(b), nil)
		wantError(t, "flipped bit", r, 400, "invalid_grant")
	}
	_, r := f.refresh(t, f.web, t0.access, nil)
	wantError(t, "an access token as a refresh token", r, 400, "invalid_grant")
}

// REV-2-a, REV-2.1-b, REV-2.1-a: revoking a refresh token ends its grant at
// once; another client cannot revoke it.
func TestREV_2_1_b_RevokingARefreshTokenEndsTheGrant(t *testing.T) {
	f := newFlowFixture(t)
	t0 := f.grantTokens(t, f.web, "https://client.example/cb", "read")
	status, body := postForm(t, f.srv.URL+"/revoke", f.tenant.ClientID, f.tenant.ClientSecret, url.Values{"token": {t0.refresh}})
	if status != 400 || !f.introspect(t, t0.refresh) {
		t.Fatalf("another app revoked the refresh token: %d %v", status, body)
	}
	revoke(t, f.srv.URL, f.web, t0.refresh, 200)
	if f.introspect(t, t0.access) {
		t.Fatal("the sibling access token survived the refresh token's revocation")
	}
	_, r := f.refresh(t, f.web, t0.refresh, nil)
	wantError(t, "refresh after revocation", r, 400, "invalid_grant")
	// A public app revokes its own tokens by client_id (RFC 7009 §2.1).
	p := f.grantTokens(t, f.spa, "https://spa.example/cb", "read")
	revoke(t, f.srv.URL, f.spa, p.access, 200)
	if f.introspectAs(t, f.spa, p.access) || !f.liveRefresh(t, p.refresh) {
		t.Fatal("revoking a public app's access token did not revoke exactly that token")
	}
}

// introspectAs asks as a resource server whether a token is active.
func (f *flowFixture) introspectAs(t *testing.T, _ createdApp, token string) bool {
	t.Helper()
	if f.rs.ClientID == "" {
		f.rs = createAppWith(t, f.dir, f.vars, "--name", "RS", "--type", "confidential", "--resource-server", "--grant", "client_credentials")
	}
	status, body := postForm(t, f.srv.URL+"/introspect", f.rs.ClientID, f.rs.ClientSecret, url.Values{"token": {token}})
	if status != 200 {
		t.Fatalf("introspect: %d %v", status, body)
	}
	return body["active"] == true
}

// liveRefresh reports, from the database and without using the token,
// whether a refresh token is live: active and not yet exchanged.
// Introspection shows a refresh token only to its own confidential app
// (issue 9 finding 2), and a refresh would be a use.
func (f *flowFixture) liveRefresh(t *testing.T, rt string) bool {
	t.Helper()
	key, _, err := loadKey(func(string) string { return "" }, f.dir)
	if err != nil || key == nil {
		t.Fatalf("server key: %v", err)
	}
	d, err := secret.NewDigester(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(t.Context(), "sqlite:"+filepath.Join(f.dir, dbFileName), false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := st.GetToken(t.Context(), d.Digest(rt))
	if errors.Is(err, gatehouse.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok.Kind == gatehouse.RefreshToken && tok.Active(time.Now()) && tok.UsedAt.IsZero()
}
