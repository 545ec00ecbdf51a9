package bff

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"golang.org/x/oauth2"
)

func randomHex(t testing.TB) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// recorder is an upstream that records what reached it.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	srv  *httptest.Server
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Clone(r.Context()))
		rec.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "upstream", Value: "x"})
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) got() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.reqs...)
}

// fixture is a BFF whose authorization server is unreachable (127.0.0.1
// port 1), with one session seeded in a MemoryStore.
type fixture struct {
	b     *BFF
	store *client.MemoryStore
	srv   *httptest.Server
	id    string
	tok   *oauth2.Token
}

func newFixture(t *testing.T, upstreams map[string]string) *fixture {
	t.Helper()
	t.Setenv("BFF_TEST_SECRET", randomHex(t))
	t.Setenv("BFF_TEST_KEY", randomHex(t))
	secret, err := client.SecretFromEnv("BFF_TEST_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	k, err := client.KeyFromEnv("BFF_TEST_KEY")
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := client.NewKeys(k)
	const as = "http://127.0.0.1:1"
	p := &client.Provider{Metadata: client.Metadata{Issuer: as, AuthorizationEndpoint: as + "/authorize",
		TokenEndpoint: as + "/token", RevocationEndpoint: as + "/revoke", IssParameterSupported: true}}
	f := &fixture{store: &client.MemoryStore{}}
	f.srv = httptest.NewUnstartedServer(nil)
	t.Cleanup(f.srv.Close)
	app := &client.ConfidentialApp{Provider: p, ClientID: "spa-bff", Secret: secret, Scopes: []string{"read"},
		RedirectURL: "http://" + f.srv.Listener.Addr().String() + "/bff/callback"}
	f.b, err = New(Config{App: app, Store: f.store, Keys: keys, Upstreams: upstreams})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	f.b.Mount(mux)
	f.srv.Config.Handler = mux
	f.srv.Start()
	f.id = newSessionID(time.Now())
	f.tok = &oauth2.Token{AccessToken: "gha_" + randomHex(t), RefreshToken: "ghr_" + randomHex(t), TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
	if err := f.store.Save(t.Context(), f.b.key(f.id), f.tok); err != nil {
		t.Fatal(err)
	}
	return f
}

// do sends a request to the BFF with the session cookie and headers h.
func (f *fixture) do(t *testing.T, method, path string, h map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: f.id})
	for k, v := range h {
		req.Header.Set(k, v)
	}
	if h["Host"] != "" {
		req.Host = h["Host"] // net/http sends req.Host, not Header["Host"]
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var sameOrigin = map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "same-origin"}

// TestProxyCSRFRule: every way a page of another origin could call the
// proxy is refused with 403 before the upstream is reached, beside
// same-origin positive controls (BBA-6.1.3.3-a).
func TestProxyCSRFRule(t *testing.T) {
	rs := newRecorder(t, nil)
	f := newFixture(t, map[string]string{"rs": rs.srv.URL})
	refused := map[string]struct {
		method string
		h      map[string]string
	}{
		"no X-CSRF":                  {"GET", map[string]string{"Sec-Fetch-Site": "same-origin"}},
		"X-CSRF 0":                   {"GET", map[string]string{"X-CSRF": "0", "Sec-Fetch-Site": "same-origin"}},
		"cross-site":                 {"GET", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "cross-site"}},
		"same-site":                  {"GET", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "same-site"}},
		"none (typed URL)":           {"GET", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "none"}},
		"form POST, no header":       {"POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.test"}},
		"POST from a foreign Origin": {"POST", map[string]string{"X-CSRF": "1", "Origin": "https://evil.test"}},
	}
	for name, c := range refused {
		resp := f.do(t, c.method, "/bff/api/rs/items", c.h)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, resp.StatusCode)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: Access-Control-Allow-Origin is set", name)
		}
	}
	if n := len(rs.got()); n != 0 {
		t.Fatalf("the upstream received %d refused requests", n)
	}
	// Preflight from another origin: no CORS approval.
	resp := f.do(t, "OPTIONS", "/bff/api/rs/items", map[string]string{"Origin": "https://evil.test", "Access-Control-Request-Headers": "x-csrf", "Sec-Fetch-Site": "cross-site"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("the preflight was approved")
	}
	// Positive controls: a same-origin call, and a non-browser caller
	// (no Sec-Fetch-Site) with the header.
	for name, h := range map[string]map[string]string{"same-origin": sameOrigin, "no Sec-Fetch-Site": {"X-CSRF": "1"}} {
		if resp := f.do(t, "GET", "/bff/api/rs/items", h); resp.StatusCode != 200 {
			t.Errorf("%s: status %d, want 200", name, resp.StatusCode)
		}
	}
	if n := len(rs.got()); n != 2 {
		t.Fatalf("the upstream received %d requests, want the 2 positive controls", n)
	}
}

// TestProxyAllowList: a request never reaches a host that is not on the
// allow-list, whatever its path, request URI, Host or X-Forwarded-Host,
// and an upstream's redirect elsewhere is not followed; the positive
// control reaches the allowed upstream with the token in Authorization
// only and without the browser's cookies, X-CSRF or Sec-Fetch-*, and its
// Set-Cookie does not reach the browser (BBA-6.1.3.6-a, BCP-4.3.2-a).
func TestProxyAllowList(t *testing.T) {
	evil := newRecorder(t, nil)
	rs := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/base/redirect" {
			http.Redirect(w, r, evil.srv.URL+"/stolen", http.StatusFound)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "upstream", Value: "x"})
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	f := newFixture(t, map[string]string{"rs": rs.srv.URL + "/base/"})
	evilHost := strings.TrimPrefix(evil.srv.URL, "http://")
	for _, p := range []string{
		"/bff/api/evil/x",
		"/bff/api/rs/..%2f..%2fevil",
		"/bff/api/rs/%2e%2e/%2e%2e/x",
		"/bff/api/rs/%2E%2E%2Fx",
		"/bff/api/rs/a%5c..%5cx",
		"/bff/api/rs/%252e%252e/x",
		"/bff/api/https:%2f%2f" + evilHost + "/x",
		"/bff/api/" + evil.srv.URL + "/x",
		"/bff/api/rs//" + evilHost + "/x",
		"/bff/api//rs/x",
		"/bff/proxy?url=" + evil.srv.URL,
	} {
		resp := f.do(t, "GET", p, sameOrigin)
		if resp.StatusCode == 200 {
			t.Errorf("%s: 200", p)
		}
	}
	// Host and X-Forwarded-Host do not choose the destination.
	resp := f.do(t, "GET", "/bff/api/rs/items", map[string]string{"X-CSRF": "1", "Sec-Fetch-Site": "same-origin", "Host": evilHost, "X-Forwarded-Host": evilHost})
	if resp.StatusCode != 200 {
		t.Errorf("Host trick: status %d, want 200 from the allowed upstream", resp.StatusCode)
	}
	// An absolute-form request URI naming another host is refused.
	conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(conn, "GET "+evil.srv.URL+"/bff/api/rs/items HTTP/1.1\r\nHost: "+evilHost+"\r\nX-CSRF: 1\r\nCookie: "+SessionCookie+"="+f.id+"\r\nConnection: close\r\n\r\n")
	ar, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if ar.StatusCode != http.StatusBadRequest {
		t.Errorf("absolute-form request URI: status %d, want 400", ar.StatusCode)
	}
	// A redirect from the upstream goes back to the browser, unfollowed.
	resp = f.do(t, "GET", "/bff/api/rs/redirect", sameOrigin)
	if resp.StatusCode != http.StatusFound {
		t.Errorf("upstream redirect: status %d, want the 302 passed through", resp.StatusCode)
	}
	if n := len(evil.got()); n != 0 {
		t.Fatalf("evil received %d requests", n)
	}

	// Positive control.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+"/bff/api/rs/items/7?q=1", strings.NewReader(`{"a":1}`))
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: f.id})
	req.AddCookie(&http.Cookie{Name: "other", Value: "app-cookie"})
	req.Header.Set("X-CSRF", "1")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer from-the-browser")
	req.Header.Set("X-Forwarded-For", "1.2.3.4")
	presp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(presp.Body)
	presp.Body.Close()
	if presp.StatusCode != 200 || string(body) != `{"ok":true}` {
		t.Fatalf("positive control: %d %s", presp.StatusCode, body)
	}
	if presp.Header.Get("Set-Cookie") != "" {
		t.Error("the upstream's Set-Cookie reached the browser")
	}
	got := rs.got()
	last := got[len(got)-1]
	if last.URL.Path != "/base/items/7" || last.URL.RawQuery != "q=1" || last.Method != "POST" {
		t.Errorf("forwarded to %s %s?%s", last.Method, last.URL.Path, last.URL.RawQuery)
	}
	if a := last.Header.Values("Authorization"); len(a) != 1 || a[0] != "Bearer "+f.tok.AccessToken {
		t.Errorf("Authorization = %d values, want the session's token only", len(a))
	}
	for _, h := range []string{"Cookie", "X-Csrf", "Sec-Fetch-Site", "X-Forwarded-For", "X-Forwarded-Host"} {
		if v := last.Header.Get(h); v != "" {
			t.Errorf("%s was forwarded: %q", h, v)
		}
	}
	if last.Header.Get("Content-Type") != "application/json" {
		t.Error("Content-Type was not forwarded")
	}
	for _, r := range got {
		if r.Header.Get("Cookie") != "" {
			t.Errorf("a forwarded request carried cookies")
		}
		if strings.Contains(r.URL.String(), f.tok.AccessToken) {
			t.Error("the token is in a URL")
		}
	}
}

// TestLogoutForgetsWhenServerUnreachable: with the authorization server
// down, logout still deletes the session and its cookie, says the tokens
// were not revoked, and the next call needs a login (the checklist's
// "revoke access tokens on logout"; client.PersistentSource.Logout).
func TestLogoutForgetsWhenServerUnreachable(t *testing.T) {
	rs := newRecorder(t, nil)
	f := newFixture(t, map[string]string{"rs": rs.srv.URL})
	if resp := f.do(t, "POST", "/bff/logout", map[string]string{"Sec-Fetch-Site": "same-origin"}); resp.StatusCode != 403 {
		t.Fatalf("logout without X-CSRF: %d, want 403", resp.StatusCode)
	}
	if _, err := f.store.Load(t.Context(), f.b.key(f.id)); err != nil {
		t.Fatalf("a refused logout ended the session: %v", err)
	}
	resp := f.do(t, "POST", "/bff/logout", sameOrigin)
	var out map[string]bool
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 || !out["signed_out"] || out["revoked"] {
		t.Fatalf("logout: %d %v, want 200 signed_out and not revoked", resp.StatusCode, out)
	}
	if !deletesSessionCookie(resp) {
		t.Error("logout did not delete the cookie")
	}
	if _, err := f.store.Load(t.Context(), f.b.key(f.id)); err != client.ErrNoToken {
		t.Fatalf("after logout the store holds the session: %v", err)
	}
	resp = f.do(t, "GET", "/bff/api/rs/x", sameOrigin)
	if resp.StatusCode != 401 {
		t.Fatalf("proxy after logout: %d, want 401", resp.StatusCode)
	}
	var e map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if e["error"] != "login_required" {
		t.Errorf("proxy after logout: %v", e)
	}
}

func deletesSessionCookie(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

// TestSessionLifetime: a session past SessionLifetime is refused and
// deleted, however fresh its tokens; the positive control within the
// lifetime is served.
func TestSessionLifetime(t *testing.T) {
	rs := newRecorder(t, nil)
	f := newFixture(t, map[string]string{"rs": rs.srv.URL})
	if resp := f.do(t, "GET", "/bff/api/rs/x", sameOrigin); resp.StatusCode != 200 {
		t.Fatalf("within the lifetime: %d", resp.StatusCode)
	}
	f.b.now = func() time.Time { return time.Now().Add(DefaultSessionLifetime + time.Minute) }
	if resp := f.do(t, "GET", "/bff/api/rs/x", sameOrigin); resp.StatusCode != 401 {
		t.Fatalf("past the lifetime: %d, want 401", resp.StatusCode)
	}
	if _, err := f.store.Load(t.Context(), f.b.key(f.id)); err != client.ErrNoToken {
		t.Fatalf("the expired session is still stored: %v", err)
	}
}

// TestCookies: the login cookie and the session cookie are Secure,
// HttpOnly, host-only, Path=/ and __Host- named; the session cookie is
// SameSite=Strict, the login cookie Lax (it must return with the redirect
// from the server: BBA-6.1.3.2-b's documented exception); the login
// cookie's value holds neither the state nor the PKCE verifier in plain
// text (BBA-6.1.3.2-a, BBA-6.1.3.2-b, BBA-6.1.3.2-c).
func TestCookies(t *testing.T) {
	rs := newRecorder(t, nil)
	f := newFixture(t, map[string]string{"rs": rs.srv.URL})
	resp := f.do(t, "GET", "/bff/login?returnTo=/app", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	set := resp.Header.Values("Set-Cookie")
	if len(set) != 1 {
		t.Fatalf("login set %d cookies", len(set))
	}
	for _, want := range []string{LoginCookie + "=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(set[0], want) {
			t.Errorf("login cookie %q lacks %s", set[0], want)
		}
	}
	if strings.Contains(strings.ToLower(set[0]), "domain=") {
		t.Error("the login cookie has a Domain")
	}
	loc, _ := resp.Location()
	state := loc.Query().Get("state")
	v := resp.Cookies()[0].Value
	tx, err := f.b.openTx(v)
	if err != nil || tx.State != state {
		t.Fatalf("the login cookie does not open to the transaction: %v", err)
	}
	if strings.Contains(v, state) || strings.Contains(v, tx.Verifier) {
		t.Error("the login cookie shows the state or the verifier")
	}
	sc := sessionCookie(f.id, 60).String()
	for _, want := range []string{SessionCookie + "=", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if !strings.HasPrefix(SessionCookie, "__Host-") || strings.Contains(strings.ToLower(sc), "domain=") {
		t.Errorf("session cookie %q is not a host-only __Host- cookie", sc)
	}
}

// TestCallbackRefusals: a callback without the browser's login cookie,
// with an altered one, or with another login's state is refused before
// any token request (BCP-2.1-b, BCP-4.2.4-c), and login refuses an
// open-redirect returnTo (BCP-4.11.1-a).
func TestCallbackRefusals(t *testing.T) {
	rs := newRecorder(t, nil)
	f := newFixture(t, map[string]string{"rs": rs.srv.URL})
	for _, rt := range []string{"https://evil.test", "//evil.test", "/\\evil.test", "https:evil.test", "%2F%2Fevil.test"} {
		resp := f.do(t, "GET", "/bff/login?returnTo="+rt, nil)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("returnTo %q: %d %q", rt, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp := f.do(t, "GET", "/bff/login", nil)
	good := resp.Cookies()[0].Value
	loc, _ := resp.Location()
	state := loc.Query().Get("state")
	cb := func(cookie, st string) int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", f.srv.URL+"/bff/callback?code=c&iss="+f.b.app.Provider.Issuer+"&state="+st, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: LoginCookie, Value: cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	altered := []byte(good)
	altered[len(altered)/2] ^= 1
	if altered[len(altered)/2] == '-' || altered[len(altered)/2] == '_' {
		altered[len(altered)/2] = 'A'
	}
	for name, c := range map[string][2]string{
		"no cookie":     {"", state},
		"altered":       {string(altered), state},
		"another state": {good, "attacker-state"},
	} {
		if got := cb(c[0], c[1]); got != 400 {
			t.Errorf("%s: %d, want 400", name, got)
		}
	}
	// Positive control: the right cookie and state pass every check and
	// reach the (unreachable) token endpoint: 502, not 400.
	if got := cb(good, state); got != http.StatusBadGateway {
		t.Errorf("the right cookie and state: %d, want 502 (token endpoint down)", got)
	}
}

// TestNewRefuses: New reports every problem of the configuration.
func TestNewRefuses(t *testing.T) {
	_, err := New(Config{Prefix: "bff/", Upstreams: map[string]string{"a b": "https://x.test", "plain": "http://api.example.com", "q": "https://x.test/?a=1"}, ForwardHeaders: []string{"Cookie"}})
	if err == nil {
		t.Fatal("New accepted a bad configuration")
	}
	for _, want := range []string{"no App", "no Store", "no Keys", "Prefix", "a b", "plain", "q", "Cookie"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
}
