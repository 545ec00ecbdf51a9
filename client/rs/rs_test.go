package rs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

const token = "gth_at_unit0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"

// fakeAS is an introspection endpoint that gives the answer of its
// function field and counts requests.
type fakeAS struct {
	*httptest.Server
	calls  atomic.Int64
	answer func(w http.ResponseWriter, r *http.Request)
}

func newFakeAS(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *fakeAS {
	f := &fakeAS{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		f.answer(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func jsonAnswer(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func newValidator(t *testing.T, as *fakeAS, opts ...Option) *Validator {
	t.Helper()
	t.Setenv("RS_SECRET", "s:e%cret")
	secret, err := client.SecretFromEnv("RS_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	p := &client.Provider{Metadata: client.Metadata{Issuer: "https://as.test", IntrospectionEndpoint: as.URL + "/introspect"}, HTTPClient: as.Client()}
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	v, err := New(p, "rs:1", secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func serve(mw func(http.Handler) http.Handler) (int, bool) {
	called := false
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	r := httptest.NewRequest("GET", "/items", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, called
}

// The introspection request: POST, form-encoded, the token and a hint,
// client_secret_basic with the id and secret form-urlencoded (RFC 6749
// §2.3.1, RFC 7662 §2.1).
func TestIntrospectionRequest(t *testing.T) {
	as := newFakeAS(t, func(w http.ResponseWriter, r *http.Request) {
		id, sec, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		sec, _ = url.QueryUnescape(sec)
		if r.Method != "POST" || !ok || id != "rs:1" || sec != "s:e%cret" ||
			r.PostFormValue("token") != token || r.PostFormValue("token_type_hint") != "access_token" || r.URL.RawQuery != "" {
			t.Errorf("request: %s %s %q %q %v", r.Method, r.URL, id, r.PostForm, ok)
		}
		jsonAnswer(200, `{"active":true,"scope":"read write","client_id":"svc","sub":"user:1","username":"ann"}`)(w, r)
	})
	v := newValidator(t, as)
	info, err := v.Validate(t.Context(), token)
	if err != nil || info.ClientID != "svc" || info.Subject != "user:1" || info.Username != "ann" || !info.HasScope("write") {
		t.Fatalf("%+v %v", info, err)
	}
}

// Odd answers of an authorization server: only the JSON literal true is
// active (401 otherwise), and an answer that is not an introspection
// response is 503 — never the handler.
func TestOddAnswers(t *testing.T) {
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	past := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	for _, c := range []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request)
		want   int
	}{
		{"active", jsonAnswer(200, `{"active":true,"exp":`+future+`}`), 200},
		{"inactive", jsonAnswer(200, `{"active":false}`), 401},
		{"active as the string true", jsonAnswer(200, `{"active":"true"}`), 401},
		{"active as 1", jsonAnswer(200, `{"active":1}`), 401},
		{"active null", jsonAnswer(200, `{"active":null}`), 401},
		{"no active member", jsonAnswer(200, `{"scope":"read"}`), 401},
		{"expired", jsonAnswer(200, `{"active":true,"exp":`+past+`}`), 401},
		{"a refresh token", jsonAnswer(200, `{"active":true,"token_type":"refresh_token"}`), 401},
		{"sender-constrained (DPOP-7.2-a)", jsonAnswer(200, `{"active":true,"token_type":"Bearer","cnf":{"jkt":"abc"}}`), 401},
		{"another issuer", jsonAnswer(200, `{"active":true,"iss":"https://evil.test"}`), 401},
		{"the issuer", jsonAnswer(200, `{"active":true,"iss":"https://as.test"}`), 200},
		{"not JSON", jsonAnswer(200, `<html>ok</html>`), 503},
		{"a JSON array", jsonAnswer(200, `[{"active":true}]`), 503},
		{"JSON null", jsonAnswer(200, `null`), 503},
		{"scope of the wrong type", jsonAnswer(200, `{"active":true,"scope":42}`), 503},
		{"exp of the wrong type", jsonAnswer(200, `{"active":true,"exp":"soon"}`), 503},
		{"500", jsonAnswer(500, `{"active":true}`), 503},
		{"401 invalid_client", jsonAnswer(401, `{"error":"invalid_client"}`), 503},
		{"429", jsonAnswer(429, `{"active":true}`), 503},
		{"too large", jsonAnswer(200, `{"active":true,"x":"`+strings.Repeat("a", maxResponse)+`"}`), 503},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, 503},
	} {
		as := newFakeAS(t, c.answer)
		if got, called := serve(newValidator(t, as).Middleware); got != c.want || called != (c.want == 200) {
			t.Errorf("%s: %d (handler called: %v), want %d", c.name, got, called, c.want)
		}
	}
}

// A server slower than the timeout is 503.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	as := newFakeAS(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	v := newValidator(t, as, WithTimeout(50*time.Millisecond))
	if _, err := v.Validate(t.Context(), token); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("%v", err)
	}
}

// INT-4-c: a cached result is never used past the token's exp, however
// long maxAge is: the token is introspected again (and, expired, refused).
func TestINT_4_c_CacheNeverPastExp(t *testing.T) {
	start := time.Now()
	now := start
	exp := strconv.FormatInt(start.Add(60*time.Second).Unix(), 10)
	as := newFakeAS(t, jsonAnswer(200, `{"active":true,"exp":`+exp+`}`))
	v := newValidator(t, as, WithCache(10*time.Minute, 10), WithClock(func() time.Time { return now }))
	for i := range 3 {
		if code, _ := serve(v.Middleware); code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	if n := as.calls.Load(); n != 1 {
		t.Fatalf("%d introspections for 3 requests, want 1", n)
	}
	now = start.Add(61 * time.Second)
	if code, _ := serve(v.Middleware); code != 401 {
		t.Fatalf("after exp: %d", code)
	}
	if n := as.calls.Load(); n != 2 {
		t.Fatalf("after exp: %d introspections, want 2", n)
	}
}

// The cache: off by default; inactive answers and failures are never
// cached; at most maxEntries, the least recently used going first; keyed
// by SHA-256, never by the token (BCP-4.9.3-a); a handler that changes its
// Info's scopes changes nothing cached.
func TestCache(t *testing.T) {
	active := true
	as := newFakeAS(t, func(w http.ResponseWriter, r *http.Request) {
		jsonAnswer(200, `{"active":`+strconv.FormatBool(active)+`,"scope":"read"}`)(w, r)
	})
	off := newValidator(t, as)
	_, _ = off.Validate(t.Context(), token)
	_, _ = off.Validate(t.Context(), token)
	if n := as.calls.Load(); n != 2 || off.cache != nil {
		t.Fatalf("without WithCache: %d introspections, want 2", n)
	}

	v := newValidator(t, as, WithCache(time.Minute, 2))
	active = false
	_, _ = v.Validate(t.Context(), token)
	if v.cache.len() != 0 {
		t.Fatal("an inactive answer was cached")
	}
	active = true
	for _, tok := range []string{"a1", "a2", "a1", "a3"} { // a2 is the least recently used
		info, err := v.Validate(t.Context(), tok)
		if err != nil {
			t.Fatal(err)
		}
		info.Scopes[0] = "admin"
	}
	if v.cache.len() != 2 {
		t.Fatalf("%d entries, want 2", v.cache.len())
	}
	for key := range v.cache.entries {
		if key != sha256.Sum256([]byte("a1")) && key != sha256.Sum256([]byte("a3")) {
			t.Fatalf("unexpected key %x", key)
		}
	}
	if info, _ := v.Validate(t.Context(), "a1"); !info.HasScope("read") || info.HasScope("admin") {
		t.Fatalf("the cached Info changed: %+v", info)
	}
}

// A body the middleware looked into reaches the handler as it was sent,
// and one that cannot be checked is refused.
func TestBodyKept(t *testing.T) {
	as := newFakeAS(t, jsonAnswer(200, `{"active":true}`))
	v := newValidator(t, as)
	var got []byte
	h := v.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got, _ = io.ReadAll(r.Body) }))
	big := bytes.Repeat([]byte("a"), maxFormBytes+10)
	for _, c := range []struct {
		name, ct string
		body     []byte
		want     int
	}{
		{"small form", "application/x-www-form-urlencoded", []byte("a=1&b=2"), 200},
		{"form with a bad parameter", "application/x-www-form-urlencoded; =", []byte("access_token=x"), 400},
		{"large form", "application/x-www-form-urlencoded", big, 413},
		{"large body without Content-Type", "", big, 200},
		{"large JSON", "application/json", big, 200},
	} {
		got = nil
		r := httptest.NewRequest("POST", "/items", bytes.NewReader(c.body))
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want || c.want == 200 && !bytes.Equal(got, c.body) {
			t.Errorf("%s: %d (want %d), the handler read %d of %d bytes", c.name, w.Code, c.want, len(got), len(c.body))
		}
	}
}

func TestBearerToken(t *testing.T) {
	for _, c := range []struct {
		header []string
		token  string
		err    error
	}{
		{nil, "", errNoToken},
		{[]string{"Bearer abc"}, "abc", nil},
		{[]string{"bEaReR abc"}, "abc", nil},
		{[]string{"Basic YTpi"}, "", errNoToken},
		{[]string{"DPoP abc"}, "", errNoToken},
		{[]string{"Bearer"}, "", errMalformed},
		{[]string{"Bearer "}, "", errMalformed},
		{[]string{"Bearer a b"}, "", errMalformed},
		{[]string{"Bearer a,b"}, "", errMalformed},
		{[]string{"Bearer a", "Bearer a"}, "", errTwoTokens},
	} {
		h := http.Header{"Authorization": c.header}
		if tok, err := bearerToken(h); tok != c.token || !errors.Is(err, c.err) {
			t.Errorf("%q: %q %v", c.header, tok, err)
		}
	}
}

// A token that is not an RFC 6750 b64token is refused without asking the
// server.
func TestMalformedTokenNotSent(t *testing.T) {
	as := newFakeAS(t, jsonAnswer(200, `{"active":true}`))
	v := newValidator(t, as)
	for _, tok := range []string{"", "a=b", "\x00", "é", strings.Repeat("a", 5000), "=abc"} {
		if _, err := v.Validate(t.Context(), tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%q: %v", tok, err)
		}
	}
	if n := as.calls.Load(); n != 0 {
		t.Fatalf("%d introspections", n)
	}
	if _, err := v.Validate(t.Context(), "abc=="); err != nil {
		t.Fatalf("a b64token with padding: %v", err)
	}
}

// Errors never carry the token, even when a server echoes it.
func TestErrorsWithoutToken(t *testing.T) {
	as := newFakeAS(t, func(w http.ResponseWriter, r *http.Request) {
		jsonAnswer(400, `{"error":"invalid_request","error_description":"bad token `+r.PostFormValue("token")+`"}`)(w, r)
	})
	_, err := newValidator(t, as).Validate(t.Context(), token)
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), token) {
		t.Fatalf("%v", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Setenv("RS_SECRET", "x")
	secret, _ := client.SecretFromEnv("RS_SECRET")
	p := &client.Provider{Metadata: client.Metadata{Issuer: "https://as.test"}}
	_, err := New(p, "", client.Secret{}, WithCache(0, 0))
	for _, want := range []string{"introspection_endpoint", "client id", "client secret", "WithCache"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %s: %v", want, err)
		}
	}
	if _, err := New(nil, "rs", secret); err == nil {
		t.Error("a nil provider")
	}
}

func TestRequireScopePanicsOnABadScope(t *testing.T) {
	as := newFakeAS(t, jsonAnswer(200, `{"active":true}`))
	v := newValidator(t, as)
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	v.RequireScope("read write")
}

// Concurrent requests share the cache safely (go test -race).
func TestConcurrent(t *testing.T) {
	as := newFakeAS(t, jsonAnswer(200, `{"active":true,"scope":"read"}`))
	v := newValidator(t, as, WithCache(time.Minute, 3))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := v.Validate(t.Context(), "tok"+strconv.Itoa(i%5)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
