package client_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/internal/gatehousetest"
	"golang.org/x/oauth2"
)

// pathCounter counts the requests to the server by path.
type pathCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *pathCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *pathCounter) count(endpoint string) int {
	u, _ := url.Parse(endpoint)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[u.Path]
}

// e2e is the real server with a user, a resource server for
// introspection, and a Provider whose requests are counted.
type e2e struct {
	s        *gatehousetest.Server
	p        *client.Provider
	counter  *pathCounter
	rs       gatehousetest.App
	user, pw string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	e := &e2e{s: gatehousetest.Start(t), counter: &pathCounter{}, user: "alice"}
	e.pw = e.s.CreateUser(t, e.user)
	e.rs = e.s.CreateApp(t, "--name", "API", "--type", "confidential", "--resource-server", "--grant", "client_credentials")
	p, err := client.Discover(t.Context(), e.s.URL, client.AllowInsecureLoopback(),
		client.WithHTTPClient(&http.Client{Transport: e.counter, Timeout: 30 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	return e
}

func (e *e2e) tokenRequests() int { return e.counter.count(e.p.TokenEndpoint) }

// webApp is an app's web server: Login at /login, Callback at /callback.
type webApp struct {
	URL      string
	flow     *client.WebFlow
	mu       sync.Mutex
	sessions []*client.Session
	errs     []error
}

// listen reserves the app's address, so that its redirect URL can be
// registered before the flow exists.
func listen(t *testing.T) (*httptest.Server, string) {
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	return srv, "http://" + srv.Listener.Addr().(*net.TCPAddr).String()
}

func startWebApp(t *testing.T, srv *httptest.Server, base string, app client.App) *webApp {
	t.Helper()
	w := &webApp{URL: base}
	f, err := client.NewWebFlow(app,
		func(_ http.ResponseWriter, _ *http.Request, s *client.Session) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.sessions = append(w.sessions, s)
			return nil
		},
		func(rw http.ResponseWriter, _ *http.Request, err error) {
			w.mu.Lock()
			w.errs = append(w.errs, err)
			w.mu.Unlock()
			http.Error(rw, "login failed", http.StatusBadRequest)
		})
	if err != nil {
		t.Fatal(err)
	}
	w.flow = f
	mux := http.NewServeMux()
	mux.Handle("GET /login", f.Login())
	mux.Handle("GET /callback", f.Callback())
	srv.Config.Handler = mux
	srv.Start()
	return w
}

// userAgent is a browser on the app's side: its own cookie jar, no
// redirects followed.
func userAgent() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, ua *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := ua.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// authorize starts a login in ua and signs in and consents on the server;
// it returns the callback URL, not yet delivered.
func (e *e2e) authorize(t *testing.T, w *webApp, ua *http.Client) *url.URL {
	t.Helper()
	resp := get(t, ua, w.URL+"/login?returnTo=/home")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %s", resp.Status)
	}
	cb, err := e.s.NewBrowser().Authorize(t.Context(), resp.Header.Get("Location"), e.user, e.pw, "allow")
	if err != nil {
		t.Fatal(err)
	}
	return cb
}

// login runs a whole login in ua and returns its Session.
func (e *e2e) login(t *testing.T, w *webApp, ua *http.Client) *client.Session {
	t.Helper()
	resp := get(t, ua, e.authorize(t, w, ua).String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/home" {
		t.Fatalf("callback: %s %q %v", resp.Status, resp.Header.Get("Location"), w.errs)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sessions[len(w.sessions)-1]
}

// expire stores tok with its access token expired.
func expire(t *testing.T, store client.TokenStore, k client.TokenKey, tok *oauth2.Token) {
	t.Helper()
	c := *tok
	c.Expiry = time.Now().Add(-time.Minute)
	if err := store.Save(t.Context(), k, &c); err != nil {
		t.Fatal(err)
	}
}

// refreshTogether has 50 goroutines ask src for a token at once and
// returns the access tokens they got.
func refreshTogether(t *testing.T, src client.TokenSource) map[string]int {
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			tok, err := src.Token(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got[tok.AccessToken]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return got
}

func TestEndToEndConfidentialWebApp(t *testing.T) {
	e := newE2E(t)
	srv, base := listen(t)
	reg := e.s.CreateApp(t, "--name", "Web", "--type", "confidential", "--redirect-uri", base+"/callback", "--scope", "read", "--scope", "write")
	t.Setenv("WEB_CLIENT_SECRET", reg.ClientSecret)
	secret, err := client.SecretFromEnv("WEB_CLIENT_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	app := &client.ConfidentialApp{Provider: e.p, ClientID: reg.ClientID, RedirectURL: base + "/callback", Scopes: []string{"read"}, Secret: secret}
	w := startWebApp(t, srv, base, app)

	ua := userAgent()
	s := e.login(t, w, ua)
	if s.Token.AccessToken == "" || s.Token.RefreshToken == "" || len(s.Scopes) != 1 || s.Scopes[0] != "read" || len(s.Missing) != 0 {
		t.Fatalf("session %+v", s)
	}
	if n := e.tokenRequests(); n != 1 {
		t.Fatalf("%d token requests for one login", n)
	}

	t.Run("BCP-4.4.2-a a callback in another browser", func(t *testing.T) {
		get(t, ua, w.URL+"/login") // ua has a login of its own in progress
		cb := e.authorize(t, w, userAgent())
		if resp := get(t, ua, cb.String()); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("foreign callback: %s", resp.Status)
		}
		if n := e.tokenRequests(); n != 1 {
			t.Errorf("%d token requests", n)
		}
	})

	store := &client.MemoryStore{}
	k := client.TokenKey{Issuer: e.p.Issuer, ClientID: reg.ClientID, Subject: e.user}
	expire(t, store, k, s.Token)
	src := app.TokenSource(store, k)
	got := refreshTogether(t, src)
	if n := e.tokenRequests(); n != 2 || len(got) != 1 {
		t.Fatalf("50 callers across an expiry: %d token requests in all (want 2: login, one refresh), tokens %v", n, got)
	}
	stored, _ := store.Load(t.Context(), k)
	if stored.RefreshToken == s.Token.RefreshToken {
		t.Error("the stored refresh token is not the rotated one")
	}
	if e.s.Introspect(t, reg, s.Token.RefreshToken) || !e.s.Introspect(t, reg, stored.RefreshToken) {
		t.Error("the server does not see the stored refresh token as the live one")
	}
	if !e.s.Introspect(t, e.rs, stored.AccessToken) {
		t.Fatal("the new access token is not active")
	}

	// Logout revokes at the server and forgets here.
	if err := src.Logout(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e.s.Introspect(t, e.rs, stored.AccessToken) || e.s.Introspect(t, reg, stored.RefreshToken) {
		t.Error("a token is still active after Logout")
	}
	if _, err := store.Load(t.Context(), k); !errors.Is(err, client.ErrNoToken) {
		t.Error("Logout left the tokens in the store")
	}
}

func TestEndToEndPublicApp(t *testing.T) {
	e := newE2E(t)
	srv, base := listen(t)
	reg := e.s.CreateApp(t, "--name", "CLI", "--type", "public", "--redirect-uri", base+"/callback", "--scope", "read", "--scope", "write")
	app := &client.PublicApp{Provider: e.p, ClientID: reg.ClientID, RedirectURL: base + "/callback", Scopes: []string{"read", "write"}}
	w := startWebApp(t, srv, base, app)
	s := e.login(t, w, userAgent())
	if s.Token.RefreshToken == "" || len(s.Missing) != 0 {
		t.Fatalf("session %+v", s)
	}

	// Two refreshes, in two sources (as after a restart): each rotates,
	// and each sends the newest refresh token.
	store := &client.MemoryStore{}
	k := client.TokenKey{Issuer: e.p.Issuer, ClientID: reg.ClientID, Subject: e.user}
	seen := map[string]bool{s.Token.RefreshToken: true}
	tok := s.Token
	for i := range 2 {
		expire(t, store, k, tok)
		// A restart makes a new app too (the same app shares one source
		// per store and key, which holds the token it refreshed).
		got := refreshTogether(t, restart(app).TokenSource(store, k))
		if n := e.tokenRequests(); n != 2+i || len(got) != 1 {
			t.Fatalf("refresh %d: %d token requests, tokens %v", i, n, got)
		}
		tok, _ = store.Load(t.Context(), k)
		if seen[tok.RefreshToken] {
			t.Fatalf("refresh %d: the refresh token did not rotate", i)
		}
		seen[tok.RefreshToken] = true
	}

	// The resource server sees the token; Transport carries it.
	src := app.TokenSource(store, k)
	api := newRecorder(t, func(rw http.ResponseWriter, r *http.Request) {
		const prefix = "Bearer "
		if h := r.Header.Get("Authorization"); len(h) <= len(prefix) || !e.s.Introspect(t, e.rs, h[len(prefix):]) {
			rw.WriteHeader(http.StatusUnauthorized)
		}
	}, false)
	resp, err := client.NewClient(src).Get(api.URL + "/me")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("API call: %v %v", resp, err)
	}
	resp.Body.Close()

	if err := src.Logout(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e.s.Introspect(t, e.rs, tok.AccessToken) {
		t.Error("the access token is active after Logout")
	}
	// The revoked refresh token is refused: ErrLoginRequired, and the
	// store is emptied.
	old := &client.MemoryStore{}
	expire(t, old, k, tok)
	if _, err := app.TokenSource(old, k).Token(t.Context()); !errors.Is(err, client.ErrLoginRequired) {
		t.Errorf("refresh with the revoked refresh token: %v", err)
	}
	if _, err := old.Load(t.Context(), k); !errors.Is(err, client.ErrNoToken) {
		t.Error("invalid_grant left the tokens in the store")
	}
}
