package rs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/internal/gatehousetest"
	"github.com/gatehouse/gatehouse/client/rs"
)

// fixture is a real Gatehouse server with a resource server (api) and a
// service app (svc) that may ask for read and write.
type fixture struct {
	s        *gatehousetest.Server
	api, svc gatehousetest.App
	provider *client.Provider
	logs     *syncBuffer
	calls    atomic.Int64 // introspection requests made by the validators
}

func setup(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{s: gatehousetest.Start(t), logs: &syncBuffer{}}
	// serve --dev seeds the scopes read and write.
	f.api = f.s.CreateApp(t, "--name", "API", "--type", "confidential", "--resource-server", "--grant", "client_credentials")
	f.svc = f.s.CreateApp(t, "--name", "Svc", "--type", "confidential", "--scope", "read,write", "--grant", "client_credentials")
	p, err := client.Discover(t.Context(), f.s.URL, client.AllowInsecureLoopback())
	if err != nil {
		t.Fatal(err)
	}
	f.provider = p
	return f
}

// validator is the API's validator, its secret from the environment as in
// production; extra options come after the defaults.
func (f *fixture) validator(t *testing.T, opts ...rs.Option) *rs.Validator {
	t.Helper()
	return f.validatorAs(t, f.api, opts...)
}

func (f *fixture) validatorAs(t *testing.T, app gatehousetest.App, opts ...rs.Option) *rs.Validator {
	t.Helper()
	t.Setenv("API_CLIENT_SECRET", app.ClientSecret)
	secret, err := client.SecretFromEnv("API_CLIENT_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	counting := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		f.calls.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]rs.Option{rs.WithHTTPClient(counting), rs.WithLogger(logger)}, opts...)
	v, err := rs.New(f.provider, app.ClientID, secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// token gets an access token for svc by client credentials.
func (f *fixture) token(t *testing.T, scope string) string {
	t.Helper()
	body := f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, http.StatusOK)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v %s", err, body)
	}
	return tok.AccessToken
}

// revoke revokes token at the server (RFC 7009) as svc.
func (f *fixture) revoke(t *testing.T, token string) {
	t.Helper()
	f.post(t, "/revoke", url.Values{"token": {token}}, http.StatusOK)
}

func (f *fixture) post(t *testing.T, path string, form url.Values, want int) []byte {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(f.svc.ClientID), url.QueryEscape(f.svc.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// handler records whether it was called, and with what.
type handler struct {
	called bool
	info   rs.Info
	ok     bool
	body   string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.called = true
	h.info, h.ok = rs.FromContext(r.Context())
	b, _ := io.ReadAll(r.Body)
	h.body = string(b)
	_, _ = io.WriteString(w, "ok")
}

// do sends a request through mw to a fresh handler.
func do(mw func(http.Handler) http.Handler, r *http.Request) (*httptest.ResponseRecorder, *handler) {
	h := &handler{}
	w := httptest.NewRecorder()
	mw(h).ServeHTTP(w, r)
	return w, h
}

func get(target, token string) *http.Request {
	r := httptest.NewRequest("GET", target, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

func postForm(target, token, body string) *http.Request {
	r := httptest.NewRequest("POST", target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// refused checks that the handler was not called and the answer is status
// with a Bearer challenge carrying code ("" for none).
func refused(t *testing.T, name string, w *httptest.ResponseRecorder, h *handler, status int, code string) {
	t.Helper()
	if h.called {
		t.Errorf("%s: the handler was called", name)
	}
	if w.Code != status {
		t.Errorf("%s: status %d, want %d (%s)", name, w.Code, status, w.Body)
	}
	c := w.Header().Get("WWW-Authenticate")
	if status == http.StatusServiceUnavailable {
		return
	}
	if !strings.HasPrefix(c, `Bearer realm="api"`) {
		t.Errorf("%s: WWW-Authenticate %q", name, c)
	}
	if code == "" && strings.Contains(c, "error=") || code != "" && !strings.Contains(c, `error="`+code+`"`) {
		t.Errorf("%s: WWW-Authenticate %q, want error %q", name, c, code)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error != code {
		t.Errorf("%s: body %s, want error %q", name, w.Body, code)
	}
}

// A valid token reaches the handler with its client, scopes and expiry
// (BCP-2.3-c, the accepted half).
func TestValidTokenReachesHandler(t *testing.T) {
	f := setup(t)
	v := f.validator(t)
	tok := f.token(t, "read")
	w, h := do(v.Middleware, get("/items", tok))
	if w.Code != 200 || !h.called || !h.ok {
		t.Fatalf("status %d, called %v, info %v: %s", w.Code, h.called, h.ok, w.Body)
	}
	if h.info.ClientID != f.svc.ClientID || !h.info.HasScope("read") || h.info.HasScope("write") ||
		h.info.Subject != "" || !h.info.ExpiresAt.After(time.Now()) {
		t.Fatalf("info %+v", h.info)
	}
}

// R6750-3-a: every 401 carries a Bearer challenge, without an error code
// when the request had no credentials; the scheme is case-insensitive.
func TestR6750_3_a_ChallengeAndSchemeCase(t *testing.T) {
	f := setup(t)
	v := f.validator(t)
	w, h := do(v.Middleware, get("/items", ""))
	refused(t, "no header", w, h, 401, "")
	r := get("/items", "")
	r.Header.Set("Authorization", "Basic "+"c3ZjOnB3")
	w, h = do(v.Middleware, r)
	refused(t, "another scheme", w, h, 401, "")

	tok := f.token(t, "read")
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		r := get("/items", "")
		r.Header.Set("Authorization", scheme+" "+tok)
		if w, h := do(v.Middleware, r); w.Code != 200 || !h.called {
			t.Errorf("scheme %q: %d %s", scheme, w.Code, w.Body)
		}
	}
	w, h = do(v.Middleware, get("/items", "gh_at_not-a-real-token"))
	refused(t, "unknown token", w, h, 401, "invalid_token")

	two := get("/items", tok)
	two.Header.Add("Authorization", "Bearer "+tok)
	w, h = do(v.Middleware, two)
	refused(t, "two headers", w, h, 400, "invalid_request")
}

// O21-5.1-a; DESIGN invariant 7: a token in the query string is never
// accepted. It is refused with 400 invalid_request (RFC 6750 §3.1) rather
// than ignored, even beside a valid header, in every spelling that a
// parser could take for access_token.
func TestO21_5_1_a_QueryTokenRefused(t *testing.T) {
	f := setup(t)
	v := f.validator(t)
	tok := f.token(t, "read")
	for _, target := range []string{ // {T} is replaced by the token; the names keep it out of the test log
		"/items?access_token={T}",
		"/items?x=1&ACCESS_TOKEN={T}",
		"/items?access%5Ftoken={T}",
		"/items?x=1;access_token={T}",
		"/items?access_token={T}&bad=%zz",
	} {
		for _, header := range []string{"", tok} {
			w, h := do(v.Middleware, get(strings.Replace(target, "{T}", url.QueryEscape(tok), 1), header))
			refused(t, target+" header="+boolString(header != ""), w, h, 400, "invalid_request")
			if !strings.Contains(w.Body.String(), "Authorization header") {
				t.Errorf("%s: the description does not say where the token goes: %s", target, w.Body)
			}
		}
	}
	// A query that merely mentions the words is not a token.
	if w, h := do(v.Middleware, get("/search?q=access_token", tok)); w.Code != 200 || !h.called {
		t.Errorf("q=access_token: %d %s", w.Code, w.Body)
	}
}

// O21-5.1-b; DESIGN invariant 7: a form-body token is refused with 400,
// alone or beside a header (one method only); a token in a JSON or
// multipart body is not a credential (401 without a header), and the
// handler reads every body it gets exactly as it was sent.
func TestO21_5_1_b_BodyTokenRefused(t *testing.T) {
	f := setup(t)
	v := f.validator(t)
	tok := f.token(t, "read")
	for _, header := range []string{"", tok} {
		w, h := do(v.Middleware, postForm("/items", header, "name=x&access_token="+url.QueryEscape(tok)))
		refused(t, "form body header="+boolString(header != ""), w, h, 400, "invalid_request")
	}
	r := httptest.NewRequest("POST", "/items", strings.NewReader("access_token="+tok))
	r.Header.Set("Authorization", "Bearer "+tok) // no Content-Type
	w, h := do(v.Middleware, r)
	refused(t, "body without Content-Type", w, h, 400, "invalid_request")

	js := `{"access_token":"` + tok + `"}`
	r = httptest.NewRequest("POST", "/items", strings.NewReader(js))
	r.Header.Set("Content-Type", "application/json")
	w, h = do(v.Middleware, r)
	refused(t, "JSON body, no header", w, h, 401, "")
	mp := "--b\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\n" + tok + "\r\n--b--\r\n"
	r = httptest.NewRequest("POST", "/items", strings.NewReader(mp))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	w, h = do(v.Middleware, r)
	refused(t, "multipart body, no header", w, h, 401, "")

	w, h = do(v.Middleware, postForm("/items", tok, "name=x&token_count=2"))
	if w.Code != 200 || h.body != "name=x&token_count=2" {
		t.Errorf("a form without a token: %d, the handler read %q", w.Code, h.body)
	}
	r = httptest.NewRequest("PUT", "/items", strings.NewReader(js))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tok)
	if w, h := do(v.Middleware, r); w.Code != 200 || h.body != js {
		t.Errorf("JSON body beside the header: %d, the handler read %q", w.Code, h.body)
	}
}

// REV-2-a, REV-2.1-b: without a cache, a revoked token is refused from
// the very next request.
func TestREV_2_a_RevokedTokenRefusedAtOnce(t *testing.T) {
	f := setup(t)
	v := f.validator(t)
	tok := f.token(t, "read")
	if w, _ := do(v.Middleware, get("/items", tok)); w.Code != 200 {
		t.Fatalf("before revocation: %d %s", w.Code, w.Body)
	}
	f.revoke(t, tok)
	w, h := do(v.Middleware, get("/items", tok))
	refused(t, "revoked", w, h, 401, "invalid_token")
}

// INT-4-c; the cache's documented delay: with WithCache(maxAge), a
// revoked token is still served from the cache until maxAge has passed,
// with no further introspection, and refused after.
func TestINT_4_c_CacheDelaysRevocationByMaxAge(t *testing.T) {
	f := setup(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	v := f.validator(t, rs.WithCache(time.Minute, 100), rs.WithClock(clock))
	tok := f.token(t, "read")
	if w, _ := do(v.Middleware, get("/items", tok)); w.Code != 200 {
		t.Fatalf("first: %d %s", w.Code, w.Body)
	}
	f.revoke(t, tok)
	if f.s.Introspect(t, f.api, tok) {
		t.Fatal("the server still calls the revoked token active")
	}
	before := f.calls.Load()
	advance(59 * time.Second)
	if w, h := do(v.Middleware, get("/items", tok)); w.Code != 200 || !h.called {
		t.Fatalf("within maxAge the cached result is served: %d %s", w.Code, w.Body)
	}
	if n := f.calls.Load() - before; n != 0 {
		t.Fatalf("a cached token was introspected %d times", n)
	}
	advance(2 * time.Second)
	w, h := do(v.Middleware, get("/items", tok))
	refused(t, "after maxAge", w, h, 401, "invalid_token")
	if n := f.calls.Load() - before; n != 1 {
		t.Fatalf("after maxAge: %d introspections, want 1", n)
	}
}

// BCP-2.3-c: a token without the required scope gets 403
// insufficient_scope naming the scope; an expired one 401, whatever the
// server's clock says.
func TestBCP_2_3_c_ScopeAndExpiry(t *testing.T) {
	f := setup(t)
	v := f.validator(t)
	tok := f.token(t, "read")
	w, h := do(v.RequireScope("write"), postForm("/items", tok, "name=x"))
	refused(t, "missing scope", w, h, 403, "insufficient_scope")
	if c := w.Header().Get("WWW-Authenticate"); !strings.Contains(c, `scope="write"`) {
		t.Errorf("the challenge does not name the scope: %q", c)
	}
	if w, h := do(v.RequireScope("read"), get("/items", tok)); w.Code != 200 || !h.called {
		t.Errorf("read with read: %d %s", w.Code, w.Body)
	}
	// Nested: the outer middleware introspects, the inner checks scopes only.
	before := f.calls.Load()
	if w, _ := do(func(h http.Handler) http.Handler { return v.Middleware(v.RequireScope("read")(h)) }, get("/items", tok)); w.Code != 200 {
		t.Errorf("nested: %d", w.Code)
	}
	if n := f.calls.Load() - before; n != 1 {
		t.Errorf("nested: %d introspections, want 1", n)
	}

	late := f.validator(t, rs.WithClock(func() time.Time { return time.Now().Add(24 * time.Hour) }))
	w, h = do(late.Middleware, get("/items", tok))
	refused(t, "expired by the RS's clock", w, h, 401, "invalid_token")
}

// BCP-2.3-b (in part); DESIGN invariant 12: an app that is not a
// resource server sees another app's token as inactive, so a validator
// with its credentials refuses it. This is not an audience check: every
// resource server of the same Gatehouse sees the token as active (see the
// package documentation, Audience, and TestReview_RS_TokenReplayedToAnotherAPI).
func TestBCP_2_3_b_NotMeantForThisServer(t *testing.T) {
	f := setup(t)
	other := f.s.CreateApp(t, "--name", "Other", "--type", "confidential", "--scope", "read", "--grant", "client_credentials")
	v := f.validatorAs(t, other)
	w, h := do(v.Middleware, get("/items", f.token(t, "read")))
	refused(t, "not a resource server", w, h, 401, "invalid_token")
}

// The introspection endpoint being down is 503, never the handler.
func TestIntrospectionDown(t *testing.T) {
	f := setup(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/introspect"
	l.Close()
	p := *f.provider
	p.IntrospectionEndpoint = closed
	f.provider = &p
	v := f.validator(t)
	tok := f.token(t, "read")
	w, h := do(v.Middleware, get("/items", tok))
	refused(t, "down", w, h, 503, "temporarily_unavailable")
	if !strings.Contains(f.logs.String(), "introspection failed") {
		t.Errorf("not logged: %s", f.logs)
	}
}

// A wrong resource-server secret is 503 with a log line that says what to
// fix, never an active token.
func TestWrongSecret(t *testing.T) {
	f := setup(t)
	wrong := f.api
	wrong.ClientSecret = f.svc.ClientSecret
	v := f.validatorAs(t, wrong)
	w, h := do(v.Middleware, get("/items", f.token(t, "read")))
	refused(t, "wrong secret", w, h, 503, "temporarily_unavailable")
	if log := f.logs.String(); !strings.Contains(log, "invalid_client") || !strings.Contains(log, "check its client id and secret") {
		t.Errorf("the log does not say what to fix: %s", log)
	}
}

// BCP-4.9.3-a: no token appears in a log line, an error body or a header
// of any answer: valid, revoked, unknown, in the query, in the body, with
// the server down and with a wrong secret (debug logging on).
func TestBCP_4_9_3_a_TokenNeverLogged(t *testing.T) {
	f := setup(t)
	good, revoked := f.token(t, "read"), f.token(t, "read")
	f.revoke(t, revoked)
	canary := "gth_at_canary0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
	var answers bytes.Buffer
	record := func(w *httptest.ResponseRecorder) {
		answers.WriteString(w.Body.String())
		for k, vs := range w.Header() {
			answers.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
	}
	wrong := f.api
	wrong.ClientSecret = f.svc.ClientSecret
	for _, v := range []*rs.Validator{f.validator(t), f.validatorAs(t, wrong), f.validator(t, rs.WithCache(time.Minute, 10))} {
		for _, tok := range []string{good, revoked, canary} {
			for _, r := range []*http.Request{get("/items", tok), get("/items?access_token="+tok, tok), postForm("/items", "", "access_token="+tok)} {
				w, _ := do(v.RequireScope("write"), r)
				record(w)
			}
		}
	}
	for _, tok := range []string{good, revoked, canary} {
		for name, text := range map[string]string{"logs": f.logs.String(), "answers": answers.String()} {
			if strings.Contains(text, tok) || strings.Contains(text, url.QueryEscape(tok)) {
				t.Errorf("the %s contain a token", name)
			}
		}
	}
	if !strings.Contains(f.logs.String(), "rs: access token refused") {
		t.Errorf("the refusals were not logged at debug level: %s", f.logs)
	}
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
