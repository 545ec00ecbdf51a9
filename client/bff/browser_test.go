package bff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/bff"
)

const chromiumPath = "/usr/bin/chromium"

// newChromium starts headless Chromium as cmd/gatehouse's browser tests
// do; under CI=true a missing chromium fails the test.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("%s not found (install it: apt-get update && apt-get install -y --no-install-recommends chromium)", chromiumPath)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancelAlloc)
	bctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// seen is everything the browser received: request URLs, response
// headers and bodies.
type seen struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	parts  []string
	status map[string][]int64 // by URL
}

func (s *seen) add(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parts = append(s.parts, v...)
}

func (s *seen) all() string {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.parts, "\n")
}

func watch(t *testing.T, bctx context.Context) *seen {
	s := &seen{status: map[string][]int64{}}
	err := chromedp.Listen(bctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			s.add(ev.Request.URL)
			if ev.RedirectResponse != nil {
				h, _ := json.Marshal(ev.RedirectResponse.Headers)
				s.add(ev.RedirectResponse.URL, string(h))
			}
		case *network.EventResponseReceived:
			h, _ := json.Marshal(ev.Response.Headers)
			s.add(ev.Response.URL, string(h))
			s.mu.Lock()
			s.status[ev.Response.URL] = append(s.status[ev.Response.URL], ev.Response.Status)
			s.mu.Unlock()
		case *network.EventResponseReceivedExtraInfo:
			h, _ := json.Marshal(ev.Headers)
			s.add(string(h), ev.HeadersText)
		case *network.EventLoadingFinished:
			id := ev.RequestID
			s.wg.Go(func() {
				if res, err := chromedp.Call(bctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id}); err == nil {
					s.add(string(res.Body))
				}
			})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("network.enable: %v", err)
	}
	return s
}

func eval(t *testing.T, bctx context.Context, js string) string {
	t.Helper()
	v, err := chromedp.Run(bctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// evilPage is a page of another site (localhost, where the BFF is
// 127.0.0.1) that tries the proxy with the browser's cookies.
func evilPage(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /evil", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<!doctype html><title>evil</title><script src="/evil.js"></script>`)
	})
	mux.HandleFunc("GET /evil.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = io.WriteString(w, `
const t = new URL(location.href).searchParams.get('t');
(async () => {
  const r = {};
  try { const x = await fetch(t, {credentials: 'include', mode: 'no-cors'}); r.nocors = x.type; } catch (e) { r.nocors = 'error'; }
  try { const x = await fetch(t, {credentials: 'include', method: 'POST', mode: 'no-cors', body: 'a=1'}); r.post = x.type; } catch (e) { r.post = 'error'; }
  try { const x = await fetch(t, {credentials: 'include', headers: {'X-CSRF': '1'}}); r.header = String(x.status); } catch (e) { r.header = 'blocked'; }
  document.title = 'done ' + JSON.stringify(r);
})();`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserLoginProxyLogout: in headless Chromium, against the real
// server and a resource server on client/rs: the SPA signs in through the
// BFF, calls the API from its own external script (CSP without inline
// script) with X-CSRF, a page of another site cannot, and logout revokes
// the tokens and ends the session. No access or refresh token the server
// issued appears in any URL, response header or body the browser got, in
// its cookies, Web Storage or IndexedDB (BBA-6.1-a); the session cookie
// is __Host-, HttpOnly, Secure, SameSite=Strict and invisible to
// document.cookie (BBA-6.1.3.2-a, BBA-6.1.3.2-b); the cross-site calls
// are refused before the API (BBA-6.1.3.3-a); the token is inactive at
// introspection after logout (REV-2.1-b, the checklist's "revoke on
// logout").
func TestBrowserLoginProxyLogout(t *testing.T) {
	w := newWorld(t, 1)
	store := &client.MemoryStore{}
	r := w.start(t, 0, store)
	evil := evilPage(t)
	bctx := newChromium(t)
	s := watch(t, bctx)

	// Login: the BFF, the server's login and consent pages, the callback, the SPA.
	if err := chromedp.Do(bctx,
		chromedp.Navigate(r.URL+"/bff/login?returnTo=/app"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), w.user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), w.pw),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name="decision"][value="allow"]`)),
		chromedp.Click(chromedp.CSS(`button[name="decision"][value="allow"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="in"]`)),
	); err != nil {
		t.Fatalf("browser login: %v\nserver log: %s", err, w.s.Log())
	}
	if got := eval(t, bctx, `location.pathname + location.search`); got != "/app" {
		t.Fatalf("after login the browser is at %q, want /app (no code or state in the URL)", got)
	}
	info := eval(t, bctx, `window.bff.session().then(JSON.stringify)`)
	if !strings.Contains(info, `"authenticated":true`) || !strings.Contains(info, `"read"`) {
		t.Fatalf("session: %s", info)
	}
	api := eval(t, bctx, `window.bff.api().then(JSON.stringify)`)
	if !strings.Contains(api, `"status":200`) || !strings.Contains(api, `subject`) || !strings.Contains(api, `cookies\":0`) {
		t.Fatalf("same-origin API call (the positive control): %s", api)
	}

	// Cookies: only the session cookie, with every attribute.
	if dc := eval(t, bctx, `document.cookie`); dc != "" {
		t.Errorf("document.cookie = %q, want empty (HttpOnly)", dc)
	}
	res, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{r.URL + "/", w.s.URL + "/", evil.URL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	var sess *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == bff.SessionCookie {
			sess = c
		}
		if c.Name == bff.LoginCookie {
			t.Error("the login cookie outlived the callback")
		}
	}
	if sess == nil {
		t.Fatalf("no %s cookie in the browser: %+v", bff.SessionCookie, res.Cookies)
	}
	if !sess.HTTPOnly || !sess.Secure || sess.SameSite != network.CookieSameSiteStrict || sess.Path != "/" || strings.HasPrefix(sess.Domain, ".") {
		t.Errorf("session cookie: httpOnly %v secure %v sameSite %q path %q domain %q", sess.HTTPOnly, sess.Secure, sess.SameSite, sess.Path, sess.Domain)
	}
	key := sessionKey(r.app, sess.Value)
	tok, err := store.Load(t.Context(), key)
	if err != nil {
		t.Fatalf("the session's tokens are not in the store: %v", err)
	}

	// A page of another site calls the proxy with the browser's cookies.
	target := r.URL + "/bff/api/api/whoami"
	u := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1) + "/evil?t=" + url.QueryEscape(target)
	apiBefore := w.apiCalls.Load()
	s.mu.Lock()
	statusBefore := len(s.status[target]) // the same-origin positive control's 200
	s.mu.Unlock()
	var title string
	if err := chromedp.Do(bctx, chromedp.Navigate(u), chromedp.Poll[chromedp.Void](`document.title.startsWith("done")`)); err != nil {
		t.Fatalf("evil page: %v", err)
	}
	title = eval(t, bctx, `document.title`)
	if !strings.Contains(title, `"header":"blocked"`) {
		t.Errorf("the cross-site fetch with X-CSRF was not blocked: %s", title)
	}
	if n := w.apiCalls.Load() - apiBefore; n != 0 {
		t.Fatalf("the API received %d calls from the other site", n)
	}
	s.mu.Lock()
	cross := s.status[target][statusBefore:]
	s.mu.Unlock()
	if len(cross) == 0 {
		t.Error("no cross-site call reached the BFF: the check proves nothing")
	}
	for _, st := range cross {
		if st != http.StatusForbidden {
			t.Errorf("a cross-site call got %d, want 403", st)
		}
	}

	// Logout from the SPA.
	if err := chromedp.Do(bctx, chromedp.Navigate(r.URL+"/app"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="in"]`))); err != nil {
		t.Fatal(err)
	}
	if !w.s.Introspect(t, w.rsApp, tok.AccessToken) {
		t.Fatal("the access token is inactive before logout: the check after it proves nothing")
	}
	if out := eval(t, bctx, `window.bff.logout().then(JSON.stringify)`); !strings.Contains(out, `"revoked":true`) {
		t.Fatalf("logout: %s", out)
	}
	if out := eval(t, bctx, `window.bff.session().then(JSON.stringify)`); !strings.Contains(out, `"authenticated":false`) {
		t.Errorf("session after logout: %s", out)
	}
	if out := eval(t, bctx, `window.bff.api().then(JSON.stringify)`); !strings.Contains(out, `"status":401`) || !strings.Contains(out, `login_required`) {
		t.Errorf("API after logout: %s", out)
	}
	if w.s.Introspect(t, w.rsApp, tok.AccessToken) {
		t.Error("the access token is active after logout")
	}
	if _, err := store.Load(t.Context(), key); err != client.ErrNoToken {
		t.Errorf("the store holds the session after logout: %v", err)
	}

	// Nothing the browser holds or received has a token.
	storage := eval(t, bctx, `JSON.stringify({l: {...localStorage}, s: {...sessionStorage}, c: document.cookie})`)
	idb := eval(t, bctx, `indexedDB.databases().then(JSON.stringify)`)
	res, err = chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{r.URL + "/", w.s.URL + "/", evil.URL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	cookies, _ := json.Marshal(res.Cookies)
	got := s.all() + storage + idb + string(cookies) + info + api + title
	if !strings.Contains(storage, "spa-marker") || !strings.Contains(got, `"subject"`) {
		t.Fatal("the capture misses the SPA's storage or the API's body: the scan proves nothing")
	}
	tokens := append(w.counter.tokens(), tok.AccessToken, tok.RefreshToken)
	if len(tokens) < 4 {
		t.Fatalf("only %d tokens seen at the server", len(tokens))
	}
	for _, tk := range tokens {
		if strings.Contains(got, tk) || strings.Contains(got, url.QueryEscape(tk)) {
			t.Errorf("a token the server issued reached the browser")
		}
	}
}
