package client_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/client"
)

// webHarness is a WebFlow of a public app of a mockAS, driven with
// recorders; it records what onSuccess and onError received.
type webHarness struct {
	as   *mockAS
	flow *client.WebFlow

	mu       sync.Mutex
	sessions []*client.Session
	errs     []error
}

func newWebHarness(t *testing.T, as *mockAS) *webHarness {
	t.Helper()
	h := &webHarness{as: as}
	f, err := client.NewWebFlow(as.publicApp(t),
		func(_ http.ResponseWriter, _ *http.Request, s *client.Session) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.sessions = append(h.sessions, s)
			return nil
		},
		func(w http.ResponseWriter, _ *http.Request, err error) {
			h.mu.Lock()
			h.errs = append(h.errs, err)
			h.mu.Unlock()
			http.Error(w, "login failed", http.StatusBadRequest)
		})
	if err != nil {
		t.Fatal(err)
	}
	h.flow = f
	return h
}

// login starts a login as a browser would and returns its cookie and the
// authorization request's parameters.
func (h *webHarness) login(t *testing.T, returnTo string) (*http.Cookie, url.Values) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.flow.Login().ServeHTTP(rec, httptest.NewRequest("GET", "/login?returnTo="+url.QueryEscape(returnTo), nil))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	cks := rec.Result().Cookies()
	if len(cks) != 1 {
		t.Fatalf("login set %d cookies", len(cks))
	}
	return cks[0], loc.Query()
}

// callback delivers an authorization response with the cookie (nil: none)
// and returns the recorder.
func (h *webHarness) callback(ck *http.Cookie, resp url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/callback?"+resp.Encode(), nil)
	if ck != nil {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	h.flow.Callback().ServeHTTP(rec, req)
	return rec
}

func (h *webHarness) lastErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) == 0 {
		return nil
	}
	return h.errs[len(h.errs)-1]
}

// refusedWithoutTokenRequest checks that rec is a refusal with want and
// that the token endpoint saw nothing.
func (h *webHarness) refusedWithoutTokenRequest(t *testing.T, rec *httptest.ResponseRecorder, want error) {
	t.Helper()
	if rec.Code != http.StatusBadRequest {
		t.Errorf("callback answered %d, want the refusal", rec.Code)
	}
	if err := h.lastErr(); !errors.Is(err, want) {
		t.Errorf("error %v, want %v", err, want)
	}
	if n := h.as.tokenRequests.Load(); n != 0 {
		t.Errorf("%d token requests, want none", n)
	}
}

func response(req url.Values, iss string) url.Values {
	v := url.Values{"code": {"code-1"}, "state": {req.Get("state")}}
	if iss != "" {
		v.Set("iss", iss)
	}
	return v
}

// The control: a right response reaches the token endpoint once, and the
// browser is sent on to a clean URL (BCP-4.2.4-b).
func TestBCP_4_2_4_b_CallbackRedirectsToCleanURL(t *testing.T) {
	h := newWebHarness(t, newMockAS(t))
	ck, req := h.login(t, "/settings?tab=1")
	rec := h.callback(ck, response(req, h.as.URL))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/settings?tab=1" {
		t.Fatalf("callback: %d %q %v", rec.Code, rec.Header().Get("Location"), h.lastErr())
	}
	if loc := rec.Header().Get("Location"); strings.Contains(loc, "code") || strings.Contains(loc, "state") {
		t.Errorf("the redirect %q carries the response", loc)
	}
	if rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Error("no Referrer-Policy on the callback")
	}
	if n := h.as.tokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	f := h.as.forms[0]
	if f.Get("code_verifier") == "" || f.Get("client_id") != "app-1" || f.Get("redirect_uri") != "http://127.0.0.1:9/callback" || f.Get("client_secret") != "" {
		t.Errorf("token request %v", f)
	}
	if s := h.sessions[0]; s.Token.AccessToken != "at-1" || len(s.Missing) != 0 {
		t.Errorf("session %+v", s)
	}
}

func TestISS_2_4_a_WrongIssuerRefusedWithoutTokenRequest(t *testing.T) {
	other := newMockAS(t)
	for name, iss := range map[string]func(issuer string) string{
		"another server":  func(string) string { return other.URL },
		"trailing slash":  func(i string) string { return i + "/" },
		"https for http":  func(i string) string { return "https://" + strings.TrimPrefix(i, "http://") },
		"upper case":      func(i string) string { return strings.ToUpper(i) },
		"percent-encoded": func(i string) string { return strings.Replace(i, ":", "%3A", 1) },
	} {
		t.Run(name, func(t *testing.T) {
			h := newWebHarness(t, newMockAS(t))
			ck, req := h.login(t, "")
			h.refusedWithoutTokenRequest(t, h.callback(ck, response(req, iss(h.as.URL))), client.ErrResponseIssuer)
			if other.tokenRequests.Load() != 0 {
				t.Error("the other server got a token request")
			}
		})
	}
}

func TestISS_2_4_a_MissingIssuerRefusedWhenAdvertised(t *testing.T) {
	h := newWebHarness(t, newMockAS(t))
	ck, req := h.login(t, "")
	h.refusedWithoutTokenRequest(t, h.callback(ck, response(req, "")), client.ErrResponseIssuer)
}

// A server that does not promise iss may omit it; if it sends one, it is
// still checked.
func TestISS_2_4_a_MissingIssuerAcceptedWhenNotAdvertised(t *testing.T) {
	as := newMockAS(t)
	as.md["authorization_response_iss_parameter_supported"] = false
	h := newWebHarness(t, as)
	ck, req := h.login(t, "")
	if rec := h.callback(ck, response(req, "")); rec.Code != http.StatusSeeOther {
		t.Fatalf("callback %d: %v", rec.Code, h.lastErr())
	}
	ck, req = h.login(t, "")
	rec := h.callback(ck, response(req, "https://evil.test"))
	if rec.Code != http.StatusBadRequest || !errors.Is(h.lastErr(), client.ErrResponseIssuer) || as.tokenRequests.Load() != 1 {
		t.Errorf("wrong iss from a server without the promise: %d %v, %d token requests", rec.Code, h.lastErr(), as.tokenRequests.Load())
	}
}

// An error response with a wrong iss is not reported as the server's.
func TestISS_2_4_a_ErrorResponseWithWrongIssuerIsNotTheServers(t *testing.T) {
	h := newWebHarness(t, newMockAS(t))
	ck, req := h.login(t, "")
	resp := url.Values{"error": {"access_denied"}, "state": {req.Get("state")}, "iss": {"https://b.test"}}
	h.refusedWithoutTokenRequest(t, h.callback(ck, resp), client.ErrResponseIssuer)
	var ae *client.AuthError
	if errors.As(h.lastErr(), &ae) {
		t.Errorf("reported as the server's error: %v", ae)
	}
	// With the right iss, it is the server's error.
	ck, req = h.login(t, "")
	resp.Set("state", req.Get("state"))
	resp.Set("iss", h.as.URL)
	h.callback(ck, resp)
	if !errors.As(h.lastErr(), &ae) || ae.Code != "access_denied" {
		t.Errorf("error response: %v", h.lastErr())
	}
}

func TestBCP_4_2_4_c_ReplayedCallbackRefusedWithoutTokenRequest(t *testing.T) {
	h := newWebHarness(t, newMockAS(t))
	ck, req := h.login(t, "")
	resp := response(req, h.as.URL)
	if rec := h.callback(ck, resp); rec.Code != http.StatusSeeOther {
		t.Fatalf("first callback %d: %v", rec.Code, h.lastErr())
	}
	rec := h.callback(ck, resp)
	if rec.Code != http.StatusBadRequest || !errors.Is(h.lastErr(), client.ErrState) {
		t.Errorf("replay: %d %v", rec.Code, h.lastErr())
	}
	if n := h.as.tokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests, want the first only", n)
	}
}

// A callback delivered in another browser (another cookie jar) is refused
// (BCP-4.4.2-a), and so is one with no cookie at all.
func TestBCP_4_4_2_a_ForeignStateRefusedWithoutTokenRequest(t *testing.T) {
	h := newWebHarness(t, newMockAS(t))
	_, req1 := h.login(t, "") // browser S1
	ck2, _ := h.login(t, "")  // browser S2
	h.refusedWithoutTokenRequest(t, h.callback(ck2, response(req1, h.as.URL)), client.ErrState)
	h.refusedWithoutTokenRequest(t, h.callback(nil, response(req1, h.as.URL)), client.ErrState)
}

// Login CSRF: the attacker's own code and state, or no state, in the
// victim's browser (BCP-2.1-b).
func TestBCP_2_1_b_MissingOrForeignStateRefusedWithoutTokenRequest(t *testing.T) {
	h := newWebHarness(t, newMockAS(t))
	ck, _ := h.login(t, "")
	h.refusedWithoutTokenRequest(t, h.callback(ck, url.Values{"code": {"attacker"}, "iss": {h.as.URL}}), client.ErrState)
	ck, req := h.login(t, "")
	st := []byte(req.Get("state"))
	st[0] ^= 1 // one changed byte
	h.refusedWithoutTokenRequest(t, h.callback(ck, url.Values{"code": {"attacker"}, "state": {string(st)}, "iss": {h.as.URL}}), client.ErrState)
}

var unreserved = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// PKCE-7.2-a: S256 with a 43-character challenge, never plain; a refused
// exchange is not retried.
func TestPKCE_7_2_a_S256Only(t *testing.T) {
	as := newMockAS(t)
	as.token = func(url.Values) any { return map[string]any{"error": "invalid_request"} }
	h := newWebHarness(t, as)
	ck, req := h.login(t, "")
	if req.Get("code_challenge_method") != "S256" || len(req.Get("code_challenge")) != 43 || !unreserved.MatchString(req.Get("code_challenge")) {
		t.Errorf("authorization request %v", req)
	}
	h.callback(ck, response(req, as.URL))
	if h.lastErr() == nil || as.tokenRequests.Load() != 1 {
		t.Errorf("refused exchange: %v, %d token requests (no retry)", h.lastErr(), as.tokenRequests.Load())
	}
}

// BCP-2.1.1-c: 1,000 transactions, 1,000 different verifiers,
// challenges and states; after an error the next request has new ones.
func TestBCP_2_1_1_c_FreshVerifierPerTransaction(t *testing.T) {
	app := newMockAS(t).publicApp(t)
	seen := map[string]bool{}
	for range 1000 {
		u, tx, err := app.AuthCodeURL("")
		if err != nil {
			t.Fatal(err)
		}
		q, _ := url.Parse(u)
		ch := q.Query().Get("code_challenge")
		if !unreserved.MatchString(tx.Verifier) || seen[ch] || seen[tx.State] || seen[tx.Verifier] {
			t.Fatalf("verifier %q, challenge %q, state %q: malformed or repeated", tx.Verifier, ch, tx.State)
		}
		seen[ch], seen[tx.State], seen[tx.Verifier] = true, true, true
	}
}

func TestBCP_4_11_1_a_ReturnToStaysOnSite(t *testing.T) {
	h := newWebHarness(t, newMockAS(t))
	for _, bad := range []string{
		"https://evil.test", "//evil.test", "/\\evil.test", "\\\\evil.test", "/%5Cevil.test",
		"///evil.test", "http:evil.test", "evil.test", "javascript:alert(1)", "/\tevil", "/%2F/evil.test",
		" /x", "https:/evil.test",
	} {
		rec := httptest.NewRecorder()
		h.flow.Login().ServeHTTP(rec, httptest.NewRequest("GET", "/login?returnTo="+url.QueryEscape(bad), nil))
		if rec.Code == http.StatusSeeOther || !errors.Is(h.lastErr(), client.ErrReturnTo) {
			t.Errorf("returnTo %q: %d %v", bad, rec.Code, h.lastErr())
		}
	}
	for _, good := range []string{"/", "/a/b?c=d", "/x#frag"} {
		if err := client.CheckReturnTo(good); err != nil {
			t.Errorf("returnTo %q: %v", good, err)
		}
	}
}

func TestGrantedScopeComparedWithRequested(t *testing.T) {
	t.Run("narrower is reported", func(t *testing.T) {
		as := newMockAS(t)
		as.scopeOut = "read"
		h := newWebHarness(t, as)
		ck, req := h.login(t, "")
		h.callback(ck, response(req, as.URL))
		if len(h.sessions) != 1 || strings.Join(h.sessions[0].Missing, " ") != "write" {
			t.Fatalf("sessions %v, error %v", h.sessions, h.lastErr())
		}
	})
	t.Run("wider is refused", func(t *testing.T) {
		as := newMockAS(t)
		as.scopeOut = "read write admin"
		h := newWebHarness(t, as)
		ck, req := h.login(t, "")
		h.callback(ck, response(req, as.URL))
		if len(h.sessions) != 0 || !errors.Is(h.lastErr(), client.ErrUnrequestedScope) {
			t.Fatalf("sessions %v, error %v", h.sessions, h.lastErr())
		}
	})
}

// The transaction cookie: HttpOnly, SameSite=Lax, Path=/, __Host- and
// Secure on https.
func TestTransactionCookie(t *testing.T) {
	as := newMockAS(t)
	h := newWebHarness(t, as)
	ck, _ := h.login(t, "")
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure || ck.Domain != "" {
		t.Errorf("loopback cookie %+v", ck)
	}
	app := as.publicApp(t)
	app.RedirectURL = "https://app.test/callback"
	f, err := client.NewWebFlow(app, func(http.ResponseWriter, *http.Request, *client.Session) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	f.Login().ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	c := rec.Result().Cookies()[0]
	if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("https cookie %+v", c)
	}
}
