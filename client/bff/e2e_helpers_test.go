package bff_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/bff"
	"github.com/gatehouse/gatehouse/client/internal/gatehousetest"
	"github.com/gatehouse/gatehouse/client/rs"
)

// tokenCounter sees every request the BFFs make to the authorization
// server, counts the refresh grants and keeps every token the server
// issued (to look for them where the browser can see).
type tokenCounter struct {
	mu       sync.Mutex
	refresh  int
	issued   []string
	tokenURL string
}

func (c *tokenCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	isToken := r.URL.String() == c.tokenURL
	if isToken && r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if f, _ := url.ParseQuery(string(b)); f.Get("grant_type") == "refresh_token" {
			c.mu.Lock()
			c.refresh++
			c.mu.Unlock()
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !isToken {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		c.mu.Lock()
		for _, k := range []string{"access_token", "refresh_token"} {
			if v, _ := m[k].(string); v != "" {
				c.issued = append(c.issued, v)
			}
		}
		c.mu.Unlock()
	}
	return resp, nil
}

func (c *tokenCounter) refreshes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refresh
}

func (c *tokenCounter) tokens() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.issued...)
}

// world is the real Gatehouse, a user, a resource server on client/rs
// and a BFF registration with one redirect URI per replica.
type world struct {
	s        *gatehousetest.Server
	counter  *tokenCounter
	rsApp    gatehousetest.App
	bffApp   gatehousetest.App
	user, pw string
	api      *httptest.Server
	keys     *client.Keys
	replicas []*replica
	apiCalls atomic.Int64 // requests that reached the API's handler
}

// replica is one BFF instance: its own server, Provider, app value and
// store, as another process would have.
type replica struct {
	srv *httptest.Server
	URL string
	b   *bff.BFF
	app *client.ConfidentialApp
}

func randomHex(t testing.TB) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newWorld starts the server with args and reserves n replica addresses.
func newWorld(t *testing.T, n int, args ...string) *world {
	t.Helper()
	w := &world{s: gatehousetest.StartArgs(t, args), counter: &tokenCounter{}, user: "alice"}
	w.pw = w.s.CreateUser(t, w.user)
	w.rsApp = w.s.CreateApp(t, "--name", "API", "--type", "confidential", "--resource-server", "--grant", "client_credentials")
	create := []string{"--name", "SPA BFF", "--type", "confidential", "--scope", "read"}
	for range n {
		srv := httptest.NewUnstartedServer(nil)
		t.Cleanup(srv.Close)
		r := &replica{srv: srv, URL: "http://" + srv.Listener.Addr().String()}
		w.replicas = append(w.replicas, r)
		create = append(create, "--redirect-uri", r.URL+"/bff/callback")
	}
	w.bffApp = w.s.CreateApp(t, create...)
	t.Setenv("BFF_KEY", randomHex(t))
	k, err := client.KeyFromEnv("BFF_KEY")
	if err != nil {
		t.Fatal(err)
	}
	w.keys, _ = client.NewKeys(k)
	w.api = w.startAPI(t)
	return w
}

// startAPI is a resource server on client/rs: /api/whoami answers the
// token's subject and scopes; it sets a cookie the BFF must drop.
func (w *world) startAPI(t *testing.T) *httptest.Server {
	p := w.provider(t, http.DefaultTransport)
	t.Setenv("RS_SECRET", w.rsApp.ClientSecret)
	secret, err := client.SecretFromEnv("RS_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	v, err := rs.New(p, w.rsApp.ClientID, secret)
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.apiCalls.Add(1)
		info, _ := rs.FromContext(r.Context())
		http.SetCookie(rw, &http.Cookie{Name: "api_session", Value: "from-the-api"})
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]any{"subject": info.Subject, "scopes": info.Scopes, "cookies": len(r.Cookies())})
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func (w *world) provider(t *testing.T, rt http.RoundTripper) *client.Provider {
	t.Helper()
	p, err := client.Discover(t.Context(), w.s.URL, client.AllowInsecureLoopback(),
		client.WithHTTPClient(&http.Client{Transport: rt, Timeout: 30 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// start runs replica i with its own Provider and app values over store.
func (w *world) start(t *testing.T, i int, store client.TokenStore) *replica {
	t.Helper()
	r := w.replicas[i]
	p := w.provider(t, w.counter)
	w.counter.tokenURL = p.TokenEndpoint
	t.Setenv("BFF_SECRET", w.bffApp.ClientSecret)
	secret, err := client.SecretFromEnv("BFF_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	r.app = &client.ConfidentialApp{Provider: p, ClientID: w.bffApp.ClientID, RedirectURL: r.URL + "/bff/callback", Scopes: []string{"read"}, Secret: secret}
	r.b, err = bff.New(bff.Config{App: r.app, Store: store, Keys: w.keys, Upstreams: map[string]string{"api": w.api.URL + "/api"}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.b.Mount(mux)
	mux.Handle("/", spa())
	r.srv.Config.Handler = mux
	r.srv.Start()
	return r
}

// sessionKey is the store key of a session cookie value, as the package
// documentation defines it.
func sessionKey(app *client.ConfidentialApp, cookie string) client.TokenKey {
	h := sha256.Sum256([]byte("gatehouse bff session v1\x00" + cookie))
	return client.TokenKey{Issuer: app.Provider.Issuer, ClientID: app.ClientID, Subject: "bff-" + hex.EncodeToString(h[:])}
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login signs in through replica a's /bff/login and delivers the
// callback to replica b (another replica: the sealed login cookie travels
// with the browser), and returns the session cookie's value.
func (w *world) login(t *testing.T, a, b *replica) string {
	t.Helper()
	resp, err := noRedirect().Get(a.URL + "/bff/login?returnTo=/app")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var loginCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == bff.LoginCookie {
			loginCookie = c
		}
	}
	if loginCookie == nil {
		t.Fatal("login set no login cookie")
	}
	cb, err := w.s.NewBrowser().Authorize(t.Context(), resp.Header.Get("Location"), w.user, w.pw, "allow")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", b.URL+"/bff/callback?"+cb.RawQuery, nil)
	req.AddCookie(&http.Cookie{Name: bff.LoginCookie, Value: loginCookie.Value})
	resp, err = noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app" {
		t.Fatalf("callback: %s to %q\n%s", resp.Status, resp.Header.Get("Location"), w.s.Log())
	}
	for _, c := range resp.Cookies() {
		if c.Name == bff.SessionCookie {
			return c.Value
		}
	}
	t.Fatal("the callback set no session cookie")
	return ""
}

// call makes one API call through replica r as the SPA would.
func call(t *testing.T, r *replica, session string) (int, string) {
	req, _ := http.NewRequestWithContext(t.Context(), "GET", r.URL+"/bff/api/api/whoami", nil)
	req.AddCookie(&http.Cookie{Name: bff.SessionCookie, Value: session})
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Set-Cookie") != "" {
		t.Error("a proxied answer set a cookie")
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// spa is the test single-page app: a page with an external script under
// a CSP without inline script, which signs in, calls the API through the
// BFF and logs out when asked.
func spa() http.Handler {
	mux := http.NewServeMux()
	page := func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; frame-ancestors 'none'")
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(rw, `<!doctype html><title>SPA</title><pre id="out">loading</pre><script src="/app.js"></script>`)
	}
	mux.HandleFunc("GET /app", page)
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /app.js", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/javascript")
		_, _ = io.WriteString(rw, spaJS)
	})
	return mux
}

const spaJS = `
const h = {'X-CSRF': '1'};
window.bff = {
  session: () => fetch('/bff/session', {headers: h}).then(r => r.json()),
  api: () => fetch('/bff/api/api/whoami', {headers: h}).then(async r => ({status: r.status, body: await r.text()})),
  logout: () => fetch('/bff/logout', {method: 'POST', headers: h}).then(r => r.json()),
};
(async () => {
  try { sessionStorage.setItem('spa-marker', 'kept'); localStorage.setItem('spa-marker', 'kept'); } catch (e) {}
  const s = await window.bff.session();
  document.getElementById('out').textContent = JSON.stringify(s);
  document.body.dataset.ready = s.authenticated ? 'in' : 'out';
})();
`
