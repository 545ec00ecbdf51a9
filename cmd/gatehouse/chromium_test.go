package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
)

// chromiumPath is Debian's chromium package; .ci/run installs it.
const chromiumPath = "/usr/bin/chromium"

// newChromium starts a headless Chromium with a fresh profile and returns a
// tab context bounded to 60 seconds. Only the flags below are passed by the
// test: nothing is fetched at run time. In CI a missing browser fails the
// test; elsewhere it skips.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("%s not found (install it: apt-get update && apt-get install -y --no-install-recommends chromium)", chromiumPath)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// TestBrowserLoginConsentReachesDevRedirectPage walks the authorization code
// flow in a real browser: login form, consent, the dev redirect page, then
// the code exchange. It also checks in the browser that the session cookie
// is HttpOnly and that the login page refuses to be framed by another origin
// (DESIGN invariant 9; RFC 9700 §4.16).
func TestBrowserLoginConsentReachesDevRedirectPage(t *testing.T) {
	bctx := newChromium(t)
	f := newFlowFixture(t)
	app := createApp(t, f.dir, "--name", "Browser", "--type", "public", "--scope", "read", "--redirect-uri", f.srv.URL+"/dev/callback")
	cfg := f.config(app, f.srv.URL+"/dev/callback", "read")
	const state = "browser-state-42"
	authURL, verifier := f.authURL(cfg, state)

	if err := chromedp.Do(bctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS(`form input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), f.user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), f.password),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name="decision"][value="allow"]`)),
		chromedp.Click(chromedp.CSS(`button[name="decision"][value="allow"]`)),
		chromedp.WaitVisible(chromedp.ID("state")),
	); err != nil {
		t.Fatalf("browser flow: %v\nserver log: %s", err, f.srv.Stderr.String())
	}
	code := browserText(t, bctx, "code")
	gotState := browserText(t, bctx, "state")
	iss := browserText(t, bctx, "iss")
	jsCookies, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatalf("document.cookie: %v", err)
	}
	res, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{f.srv.URL + "/"}})
	if err != nil {
		t.Fatalf("get cookies: %v", err)
	}
	cookies := res.Cookies
	if gotState != state {
		t.Errorf("state = %q, want %q", gotState, state)
	}
	if iss != f.srv.URL {
		t.Errorf("iss = %q, want %q", iss, f.srv.URL)
	}
	if !strings.HasPrefix(code, "gth_ac_") {
		t.Fatalf("code = %q, want prefix gth_ac_", code)
	}

	// The browser holds the session cookie, but script cannot read it.
	var session *network.Cookie
	for _, c := range cookies {
		if strings.HasSuffix(c.Name, "gatehouse_session") {
			session = c
		}
	}
	if session == nil {
		t.Errorf("browser has no session cookie for %s: %v", f.srv.URL, cookies)
	} else if !session.HTTPOnly {
		t.Errorf("session cookie %s is not HttpOnly", session.Name)
	}
	if strings.Contains(jsCookies, "gatehouse_session") {
		t.Errorf("document.cookie exposes the session cookie (%d bytes of cookies readable)", len(jsCookies))
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("exchange: access token %t, refresh token %t", tok.AccessToken != "", tok.RefreshToken != "")
	}

	checkLoginNotFramed(t, bctx, f.srv.URL)
}

// checkLoginNotFramed loads a page of another origin (another port of
// 127.0.0.1) that frames the login page, and asserts that the browser
// fetched the login page but did not show it in the frame.
func checkLoginNotFramed(t *testing.T, bctx context.Context, server string) {
	loginURL := server + "/login"
	framer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>framer</title><iframe id="victim" src="%s"></iframe>`, loginURL)
	}))
	t.Cleanup(framer.Close)
	if strings.HasPrefix(framer.URL, server) || !strings.HasPrefix(framer.URL, "http://127.0.0.1:") {
		t.Fatalf("framer %s is not another origin than %s", framer.URL, server)
	}

	var mu sync.Mutex
	var loginFetched bool
	var childURLs []string
	err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			if ev.Response.URL == loginURL && ev.Response.Status == http.StatusOK {
				loginFetched = true
			}
		case *cdppage.EventFrameNavigated:
			if ev.Frame.ParentID != "" {
				childURLs = append(childURLs, ev.Frame.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("network.enable: %v", err)
	}
	// Navigate returns after the framer's load event, which waits for
	// the iframe to finish, shown or blocked.
	if err := chromedp.Do(bctx, chromedp.Navigate(framer.URL)); err != nil {
		t.Fatalf("load framer: %v", err)
	}
	res, err := chromedp.Call(bctx, cdppage.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatalf("frame tree: %v", err)
	}
	tree := res.FrameTree
	mu.Lock()
	defer mu.Unlock()
	if !loginFetched {
		t.Fatalf("the browser never fetched %s for the frame: the check proves nothing", loginURL)
	}
	if len(tree.ChildFrames) != 1 {
		t.Fatalf("framer has %d child frames, want 1", len(tree.ChildFrames))
	}
	child := tree.ChildFrames[0].Frame
	t.Logf("child frame: url %q unreachable %q; navigations %q", child.URL, child.UnreachableURL, childURLs)
	if strings.HasPrefix(child.URL, server) {
		t.Errorf("login page is shown in a frame of %s (url %s): framing is not blocked", framer.URL, child.URL)
	}
	for _, u := range childURLs {
		if strings.HasPrefix(u, server) {
			t.Errorf("child frame navigated to %s: framing is not blocked", u)
		}
	}
}

// browserText is the trimmed text of the element with the id.
func browserText(t *testing.T, bctx context.Context, id string) string {
	t.Helper()
	v, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("text of #%s: %v", id, err)
	}
	return strings.TrimSpace(v)
}
