package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Issue 13 acceptance, in headless Chromium: sign in → connected apps →
// disconnect → the app's refresh token fails. The screenshot is saved in
// the test's artifact directory (go test -artifacts keeps it).
func TestBrowserDisconnectApp(t *testing.T) {
	bctx := newChromium(t)
	f := newFlowFixture(t, "--brand-name", "Acme Hub")
	spa := f.grantTokens(t, f.spa, spaCB, "read", "write")
	web := f.grantTokens(t, f.web, webCB, "read")

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v\nserver log: %s", name, err, f.srv.Stderr.String())
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	step("sign in from the connected apps",
		chromedp.Navigate(f.srv.URL+"/account/apps"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), f.user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), f.password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Disconnect SPA"]`)),
	)
	before := text("main")
	step("disconnect",
		chromedp.Click(chromedp.CSS(`button[aria-label="Disconnect SPA"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	after := text("main")
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.ArtifactDir(), "connected-apps-after-disconnect.png")
	if err := os.WriteFile(path, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if !strings.Contains(before, "SPA") || !strings.Contains(before, "Change your data") || !strings.Contains(before, "Web") {
		t.Errorf("before: %q", before)
	}
	if strings.Contains(after, "Change your data") || !strings.Contains(after, "The app was disconnected") || !strings.Contains(after, "Web") {
		t.Errorf("after: %q", after)
	}
	f.wantRefreshFails(t, "the SPA's refresh token after the click", f.spa, spa.refresh)
	f.mustRefresh(t, f.web, web.refresh, nil)
}
