package client_test

// Attack tests of the client-review (issue 12 security review). Each test
// asserts the behaviour a secure toolkit should have; a failing test is a
// finding (see the review report). Tests that pass document attacks that
// held.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"golang.org/x/oauth2"
	_ "modernc.org/sqlite"
)

func reviewKeys(t *testing.T) *client.Keys {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	t.Setenv("REVIEW_TOKEN_KEY", hex.EncodeToString(b))
	k, err := client.KeyFromEnv("REVIEW_TOKEN_KEY")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := client.NewKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// ---------------------------------------------------------------------
// WebFlow
// ---------------------------------------------------------------------

// FINDING: an unauthenticated attacker who sends MaxPendingLogins GETs to
// /login (no cookie needed, each one a new pending login) locks every user
// out of logging in for TransactionTTL (10 minutes), and can keep doing so.
func TestReview_LoginFloodLocksEveryoneOut(t *testing.T) {
	h := newWebHarness(t, newMockAS(t))
	login := h.flow.Login()
	for range client.MaxPendingLogins {
		rec := httptest.NewRecorder()
		login.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil)) // the attacker, cookie thrown away
	}
	// The victim now tries to log in.
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("after %d anonymous GET /login, a real user's login is refused: %d, %v",
			client.MaxPendingLogins, rec.Code, h.lastErr())
	}
}

// FINDING (minor): a hostile page can abort a victim's login in progress by
// navigating the victim's browser to the callback with any state: the
// transaction (sent along by SameSite=Lax on a top-level GET) is consumed
// before state is compared, so the victim's real callback then fails.
func TestReview_ForeignCallbackCancelsVictimsLogin(t *testing.T) {
	h := newWebHarness(t, newMockAS(t))
	ck, req := h.login(t, "")
	// The attacker's navigation: the victim's cookie, the attacker's junk.
	_ = h.callback(ck, url.Values{"state": {"attacker"}, "code": {"x"}, "iss": {h.as.URL}})
	// The victim's real response arrives.
	rec := h.callback(ck, response(req, h.as.URL))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("the victim's own callback is refused after a foreign one: %d %v", rec.Code, h.lastErr())
	}
}

// HELD: returnTo bypass variants are refused at Login, or end on the
// client's own origin after the callback.
func TestReview_ReturnToBypassVariantsHeld(t *testing.T) {
	variants := []string{
		"/%2F%2Fevil.test", "/%2f%2fevil.test", "/%5Cevil.test", "/\t/evil.test", "/\n/evil.test",
		"/%09/evil.test", "/.//evil.test", "/..//evil.test", "/./%2F/evil.test", "//evil.test",
		"/\\evil.test", "\\\\evil.test", "/\u3000/evil.test", "/\uff0f\uff0fevil.test", "https:evil.test",
		"/x/../../evil.test", "/?//evil.test", "/#//evil.test", "/%00/evil.test", "/\r\nLocation: https://evil.test",
		"/%0d%0aSet-Cookie:%20x=1", " /evil", "/@evil.test", "/:@evil.test",
	}
	base, _ := url.Parse("https://client.test/callback")
	for _, v := range variants {
		h := newWebHarness(t, newMockAS(t))
		rec := httptest.NewRecorder()
		h.flow.Login().ServeHTTP(rec, httptest.NewRequest("GET", "/login?returnTo="+url.QueryEscape(v), nil))
		if rec.Code != http.StatusSeeOther {
			continue // refused
		}
		ck := rec.Result().Cookies()[0]
		loc, _ := url.Parse(rec.Header().Get("Location"))
		cb := h.callback(ck, response(loc.Query(), h.as.URL))
		if cb.Code != http.StatusSeeOther {
			t.Errorf("%q: callback %d %v", v, cb.Code, h.lastErr())
			continue
		}
		raw := cb.Header().Get("Location")
		// A browser drops tabs and newlines in URLs, and reads \ as /.
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(raw)
		to, err := base.Parse(browser)
		if err != nil || to.Host != "client.test" || len(cb.Header().Values("Set-Cookie")) > 1 {
			t.Errorf("returnTo %q: the callback redirects to %q (%v)", v, raw, to)
		}
	}
}

// HELD: duplicated or repeated response parameters do not confuse the
// state or iss checks, and an error response with the right state is
// reported as the server's error without a token request.
func TestReview_CallbackParameterInjectionHeld(t *testing.T) {
	cases := map[string]func(req url.Values, iss string) string{
		"iss twice (right, wrong)": func(req url.Values, iss string) string {
			return "code=c&state=" + url.QueryEscape(req.Get("state")) + "&iss=" + url.QueryEscape(iss) + "&iss=https://evil.test"
		},
		"iss twice (wrong, right)": func(req url.Values, iss string) string {
			return "code=c&state=" + url.QueryEscape(req.Get("state")) + "&iss=https://evil.test&iss=" + url.QueryEscape(iss)
		},
		"state twice (attacker first)": func(req url.Values, iss string) string {
			return "code=c&state=attacker&state=" + url.QueryEscape(req.Get("state")) + "&iss=" + url.QueryEscape(iss)
		},
		"iss percent-encoded twice": func(req url.Values, iss string) string {
			return "code=c&state=" + url.QueryEscape(req.Get("state")) + "&iss=" + url.QueryEscape(url.QueryEscape(iss))
		},
		"iss with semicolon": func(req url.Values, iss string) string {
			return "code=c&state=" + url.QueryEscape(req.Get("state")) + ";iss=" + url.QueryEscape(iss)
		},
		"error response, right state and iss": func(req url.Values, iss string) string {
			return "error=access_denied&code=c&state=" + url.QueryEscape(req.Get("state")) + "&iss=" + url.QueryEscape(iss)
		},
		"empty iss": func(req url.Values, iss string) string {
			return "code=c&state=" + url.QueryEscape(req.Get("state")) + "&iss="
		},
	}
	for name, build := range cases {
		h := newWebHarness(t, newMockAS(t))
		ck, req := h.login(t, "")
		r := httptest.NewRequest("GET", "/callback?"+build(req, h.as.URL), nil)
		r.AddCookie(ck)
		rec := httptest.NewRecorder()
		h.flow.Callback().ServeHTTP(rec, r)
		if rec.Code == http.StatusSeeOther || h.as.tokenRequests.Load() != 0 {
			t.Errorf("%s: accepted (%d), %d token requests", name, rec.Code, h.as.tokenRequests.Load())
		}
	}
}

// ---------------------------------------------------------------------
// PersistentSource
// ---------------------------------------------------------------------

// rotatingAS makes the mock AS enforce refresh-token rotation as Gatehouse
// does: only the newest refresh token is accepted; a retired one is
// invalid_grant.
func rotatingAS(t *testing.T, as *mockAS, current string, before func(url.Values)) *atomic.Value {
	var cur atomic.Value
	cur.Store(current)
	var n atomic.Int64
	as.mu.Lock()
	as.token = func(f url.Values) any {
		if f.Get("grant_type") == "refresh_token" && f.Get("refresh_token") != cur.Load().(string) {
			return map[string]any{"error": "invalid_grant"}
		}
		i := n.Add(1)
		next := fmt.Sprintf("rt-rotated-%d", i)
		cur.Store(next) // the server has rotated: the old one is retired
		if before != nil {
			before(f)
		}
		return map[string]any{"access_token": fmt.Sprintf("at-rotated-%d", i), "refresh_token": next,
			"token_type": "Bearer", "expires_in": 3600, "scope": "read write"}
	}
	as.mu.Unlock()
	return &cur
}

// FINDING: the refresh runs under the context of whichever caller happened
// to trigger it. When that caller gives up (its HTTP request was
// cancelled, a short deadline) after the server rotated the refresh token
// but before the answer was read, the new refresh token is lost: the store
// keeps the retired one, the next refresh is invalid_grant, the stored
// tokens are deleted and the user must sign in again.
func TestReview_CancelledRefreshLosesRotatedToken(t *testing.T) {
	as := newMockAS(t)
	ctx, cancel := context.WithCancel(t.Context())
	rotatingAS(t, as, "rt-0", func(url.Values) {
		cancel()                          // the triggering caller goes away...
		time.Sleep(50 * time.Millisecond) // ...after the server has rotated
	})
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, expired("rt-0"))
	src := as.publicApp(t).TokenSource(store, key)
	if _, err := src.Token(ctx); err == nil {
		t.Fatal("the cancelled caller got a token")
	}
	// Another caller, a moment later, with a live context.
	tok, err := src.Token(t.Context())
	if err != nil {
		t.Fatalf("one cancelled caller logged the user out: %v (the server rotated the refresh token, the store kept the retired one)", err)
	}
	_ = tok
}

// slowRotation blocks the token endpoint's answer until released.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{entered: make(chan struct{}), release: make(chan struct{})} }
func (g *gate) wait(url.Values) {
	g.once.Do(func() { close(g.entered) })
	<-g.release
}

// FINDING: Logout does not stop a refresh in flight. With a store that is
// not a Locker (the KeyringStore, the MemoryStore) — or a FileStore/SQLStore
// whose lock Logout could not take in time, see the next test — a refresh
// that started before Logout saves its new tokens after Logout deleted
// them: the user is logged in again, with a refresh token the server did
// not revoke (Logout revoked the retired one).
func TestReview_LogoutDuringRefreshResurrectsTokens(t *testing.T) {
	as := newMockAS(t)
	g := newGate()
	rotatingAS(t, as, "rt-0", g.wait)
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, expired("rt-0"))
	app := as.publicApp(t)
	background := app.TokenSource(store, key) // e.g. a request handler
	done := make(chan error, 1)
	go func() { _, err := background.Token(t.Context()); done <- err }()
	<-g.entered
	// The user presses "log out" (another request, its own source).
	_ = app.TokenSource(store, key).Logout(t.Context())
	close(g.release)
	<-done
	if tok, err := store.Load(t.Context(), key); err == nil {
		t.Fatalf("after Logout the store holds live tokens again: refresh token %q", tok.RefreshToken)
	}
}

// FINDING: Logout goes on without the cross-process lock when it cannot
// take it before its context ends, so the refresh holding the lock (in
// another process) saves its new tokens after Logout deleted the old ones.
func TestReview_LogoutWithoutLockResurrectsTokens(t *testing.T) {
	as := newMockAS(t)
	g := newGate()
	rotatingAS(t, as, "rt-0", g.wait)
	dir := filepath.Join(t.TempDir(), "tokens")
	keys := reviewKeys(t)
	storeA, err := client.NewFileStore(dir, keys) // process A
	if err != nil {
		t.Fatal(err)
	}
	storeB, _ := client.NewFileStore(dir, keys) // process B
	_ = storeA.Save(t.Context(), key, expired("rt-0"))
	app := as.publicApp(t)
	done := make(chan error, 1)
	go func() { _, err := app.TokenSource(storeA, key).Token(t.Context()); done <- err }()
	<-g.entered
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	lerr := app.TokenSource(storeB, key).Logout(ctx)
	close(g.release)
	<-done
	if tok, err := storeB.Load(t.Context(), key); err == nil {
		t.Fatalf("Logout (%v) returned, then the other process's refresh put tokens back: refresh token %q", lerr, tok.RefreshToken)
	}
}

// HELD: a refresh answer without a refresh_token keeps the old one; one
// with a huge body is refused without storing anything.
func TestReview_RefreshAnswersHeld(t *testing.T) {
	as := newMockAS(t)
	as.token = func(url.Values) any {
		return map[string]any{"access_token": "at-new", "token_type": "Bearer", "expires_in": 3600}
	}
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, expired("rt-0"))
	if _, err := as.publicApp(t).TokenSource(store, key).Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if tok, _ := store.Load(t.Context(), key); tok.RefreshToken != "rt-0" {
		t.Errorf("an answer without refresh_token dropped the old one: %q", tok.RefreshToken)
	}

	as.token = func(url.Values) any {
		return map[string]any{"access_token": strings.Repeat("A", 2<<20), "token_type": "Bearer", "refresh_token": "rt-big"}
	}
	_ = store.Save(t.Context(), key, expired("rt-0"))
	if _, err := as.publicApp(t).TokenSource(store, key).Token(t.Context()); err == nil {
		t.Error("a 2 MiB token response was accepted")
	}
	if tok, _ := store.Load(t.Context(), key); tok.RefreshToken != "rt-0" {
		t.Errorf("stored %q", tok.RefreshToken)
	}
}

// FINDING (low): a token endpoint that echoes the refresh token in its
// error (a server_error page, an error_description naming it) puts the
// refresh token into the error Token returns, which apps log. client/rs
// drops such errors (withoutToken); the client does not.
func TestReview_RefreshTokenInErrorString(t *testing.T) {
	as := newMockAS(t)
	as.token = func(f url.Values) any {
		return map[string]any{"error": "server_error", "error_description": "cannot refresh " + f.Get("refresh_token")}
	}
	store := &client.MemoryStore{}
	const rt = "rt-secret-canary-77"
	_ = store.Save(t.Context(), key, expired(rt))
	_, err := as.publicApp(t).TokenSource(store, key).Token(t.Context())
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), rt) {
		t.Errorf("the refresh token is in the error: %v", err)
	}
	// And through the Transport, where it ends up in an *url.Error.
	_, err = client.NewClient(as.publicApp(t).TokenSource(store, key)).Get(as.URL + "/api")
	if err != nil && strings.Contains(err.Error(), rt) {
		t.Errorf("the refresh token is in the http.Client's error: %v", err)
	}
}

// ---------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------

// strippingBase is a Base RoundTripper that returns a fresh Response (as a
// recording, caching or mocking transport may), without Request set.
type strippingBase struct{}

func (strippingBase) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	return &http.Response{Status: resp.Status, StatusCode: resp.StatusCode, Header: resp.Header, Body: resp.Body,
		Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor}, nil
}

// FINDING: the Transport learns where a redirect chain began from
// req.Response.Request, which only the base RoundTripper sets. With a Base
// that does not set it, every redirected request looks like the first one,
// and the token goes to wherever the redirect points: the check fails
// open.
func TestReview_TransportRedirectFailsOpenWithCustomBase(t *testing.T) {
	evil := newRecorder(t, nil, false)
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
	}, false)
	c := &http.Client{Transport: &client.Transport{Source: staticSource(canary), Base: strippingBase{}}}
	resp, err := c.Get(api.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	evil.mu.Lock()
	defer evil.mu.Unlock()
	for _, a := range evil.auth {
		if strings.Contains(a, canary) {
			t.Fatalf("the redirect target (another origin) received %q", a)
		}
	}
}

// FINDING (hardening): the Transport sends the token to any https (or
// loopback) host the app's client is pointed at: it has no notion of the
// API it is for. An app that fetches a user-supplied URL (a webhook, an
// avatar, a link preview) with the client from NewClient hands the user's
// token to that host.
func TestReview_TransportSendsTokenToAnyHost(t *testing.T) {
	api := newRecorder(t, nil, false)
	evil := newRecorder(t, nil, false)
	// Changed in the fix (finding 13): the allow-list is opt-in
	// (Transport.Origins, NewClient's origins), so that existing callers
	// of NewClient keep working; the test now lists the API's origin, as
	// the documentation tells an app that fetches URLs it did not choose
	// to do, and still asserts that evil gets no token.
	c := client.NewClient(staticSource(canary), api.URL)
	for _, u := range []string{api.URL + "/reports", evil.URL + "/avatar.png"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(api.auth) != 1 || !strings.Contains(api.auth[0], canary) {
		t.Errorf("the listed API did not receive the token: %q", api.auth)
	}
	if len(evil.auth) == 1 && strings.Contains(evil.auth[0], canary) {
		t.Errorf("a host the token is not for received it: %q (NewClient has no allowed-origin list)", evil.auth[0])
	}
}

// HELD: userinfo, the scheme's default port spelled out, a redirect back
// and forth, and a 307 with a body do not carry the token to another origin.
func TestReview_TransportRedirectVariantsHeld(t *testing.T) {
	evil := newRecorder(t, nil, false)
	var apiURL string
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			u, _ := url.Parse(evil.URL)
			http.Redirect(w, r, "http://user:pw@"+u.Host+"/b", http.StatusTemporaryRedirect)
		case "/c":
			http.Redirect(w, r, strings.Replace(evil.URL, "127.0.0.1", "[::ffff:127.0.0.1]", 1)+"/d", http.StatusFound)
		}
	}, false)
	apiURL = api.URL
	c := client.NewClient(staticSource(canary))
	for _, p := range []string{"/a", "/c"} {
		resp, err := c.Post(apiURL+p, "text/plain", strings.NewReader("body"))
		if err == nil {
			resp.Body.Close()
		}
	}
	for _, a := range evil.auth {
		if strings.Contains(a, canary) {
			t.Errorf("evil received %q", a)
		}
	}
}

// ---------------------------------------------------------------------
// Discover and the Provider
// ---------------------------------------------------------------------

// FINDING: Discover follows redirects of the metadata request to any
// origin (http.Client's default), so the document that configures the app
// may come from another server. That server cannot change the issuer or
// the endpoints' origin, but it chooses everything else: here it turns
// off authorization_response_iss_parameter_supported (the RFC 9207 mix-up
// defence then accepts a response without iss) and drops the revocation
// endpoint (Logout revokes nothing).
func TestReview_DiscoverFollowsRedirectToAnotherOrigin(t *testing.T) {
	var issuer string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token",
			"code_challenge_methods_supported":               []string{"S256"},
			"authorization_response_iss_parameter_supported": false,
		})
	}))
	t.Cleanup(evil.Close)
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(as.Close)
	issuer = as.URL
	p, err := client.Discover(t.Context(), issuer, client.AllowInsecureLoopback())
	if err == nil {
		t.Fatalf("Discover used metadata served by another origin (%s) after a redirect: iss parameter supported = %v, revocation endpoint %q",
			evil.URL, p.IssParameterSupported, p.RevocationEndpoint)
	}
}

// FINDING: the https rule lives in Discover only. A Provider is a plain
// struct with exported fields; one written by hand (static configuration,
// or a Provider copied and edited as client/rs's own tests do) with an
// http endpoint on a public host makes a ConfidentialApp send its client
// secret and the codes and refresh tokens there over plain http: nothing
// in ConfidentialApp/PersistentSource re-checks the scheme.
func TestReview_ProviderLiteralSendsSecretOverHTTP(t *testing.T) {
	t.Setenv("REVIEW_SECRET", "s3cr3t-canary")
	secret, _ := client.SecretFromEnv("REVIEW_SECRET")
	var sent []string
	var mu sync.Mutex
	hc := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		sent = append(sent, r.URL.String()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"access_token":"at","token_type":"Bearer","refresh_token":"rt2","expires_in":60}`)), Request: r}, nil
	})}
	p := &client.Provider{Metadata: client.Metadata{
		Issuer: "https://as.example.com", AuthorizationEndpoint: "https://as.example.com/authorize",
		TokenEndpoint: "http://as.example.com/token", RevocationEndpoint: "http://as.example.com/revoke",
	}, HTTPClient: hc}
	app := &client.ConfidentialApp{Provider: p, ClientID: "web", Secret: secret, RedirectURL: "https://app.example.com/cb", Scopes: []string{"read"}}
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, expired("rt-1"))
	_, _ = app.TokenSource(store, key).Token(t.Context())
	_ = app.TokenSource(store, key).Logout(t.Context())
	mu.Lock()
	defer mu.Unlock()
	for _, s := range sent {
		if strings.HasPrefix(s, "http://") {
			t.Errorf("sent over plain http to a public host: %s", s)
		}
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ---------------------------------------------------------------------
// Secret
// ---------------------------------------------------------------------

// FINDING: Secret redacts itself through its methods, which fmt cannot call
// on an unexported field. A Secret kept in an unexported field of the
// app's own config struct (the natural place) prints in full with %v,
// %+v and %#v of that struct, and so does the slog text of it.
func TestReview_SecretPrintedThroughUnexportedField(t *testing.T) {
	t.Setenv("REVIEW_SECRET", "s3cr3t-canary")
	secret, _ := client.SecretFromEnv("REVIEW_SECRET")
	type config struct {
		clientID string
		secret   client.Secret
	}
	c := config{"web", secret}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		fmt.Fprintf(&out, verb+"\n", c)
		fmt.Fprintf(&out, verb+"\n", &c)
	}
	if strings.Contains(out.String(), "s3cr3t-canary") {
		t.Errorf("the secret is printed:\n%s", out.String())
	}
}

// HELD: the Secret in an exported field (the ConfidentialApp printed with
// %+v and %#v) and the errors of a refused code redemption do not show it.
func TestReview_ErrorsNameNoSecret(t *testing.T) {
	t.Setenv("REVIEW_SECRET", "s3cr3t-canary")
	secret, _ := client.SecretFromEnv("REVIEW_SECRET")
	as := newMockAS(t)
	as.token = func(url.Values) any { return map[string]any{"error": "invalid_client"} }
	app := &client.ConfidentialApp{Provider: as.provider(t), ClientID: "web", Secret: secret,
		RedirectURL: "https://app.example.com/cb", Scopes: []string{"read"}}
	_, tx, _ := app.AuthCodeURL("")
	_, err := app.Exchange(t.Context(), tx, url.Values{"code": {"c"}, "state": {tx.State}, "iss": {as.URL}})
	if err == nil || strings.Contains(err.Error(), "s3cr3t-canary") || strings.Contains(fmt.Sprintf("%+v %#v", app, *app), "s3cr3t-canary") {
		t.Errorf("the secret leaked: %v", err)
	}
}

// FINDING: Logout deletes the local tokens under the caller's context.
// When the revocation endpoint is slow (a stalled network, a hostile or
// overloaded server) the context runs out during the revocation, and the
// SQL store's Delete then fails too: Logout returns an error, the tokens
// are neither revoked nor deleted, and the user is still signed in.
// (Save after a refresh already runs under context.WithoutCancel.)
func TestReview_SlowRevocationKeepsTokensInSQLStore(t *testing.T) {
	as := newMockAS(t)
	as.revoke = func(url.Values) int { time.Sleep(300 * time.Millisecond); return http.StatusOK }
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := client.NewSQLStore(db, client.SQLite, reviewKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	_ = store.Save(t.Context(), key, &oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	lerr := as.publicApp(t).TokenSource(store, key).Logout(ctx)
	if _, err := store.Load(t.Context(), key); err == nil {
		t.Fatalf("after Logout (%v) the tokens are still stored", lerr)
	}
}

// FINDING (low): KeyFromFile and SecretFromFile check the file's mode but
// not its owner, and follow symbolic links, unlike the FileStore, which
// refuses both. A service running as root (or any user able to read it)
// accepts a key or secret from a file that another user owns and can
// rewrite at will.
func TestReview_KeyAndSecretFileOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file owned by another user")
	}
	dir := t.TempDir()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	kf := filepath.Join(dir, "key")
	sf := filepath.Join(dir, "secret")
	_ = os.WriteFile(kf, []byte(hex.EncodeToString(b)), 0o600)
	_ = os.WriteFile(sf, []byte("s3cr3t"), 0o600)
	for _, f := range []string{kf, sf} {
		if err := os.Chown(f, 65534, 65534); err != nil { // nobody
			t.Skip(err)
		}
	}
	if _, err := client.KeyFromFile(kf); err == nil {
		t.Error("KeyFromFile accepted a key file owned by another user (nobody)")
	}
	if _, err := client.SecretFromFile(sf); err == nil {
		t.Error("SecretFromFile accepted a secret file owned by another user (nobody)")
	}
}
