package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Issue 13 acceptance, in headless Chromium: a developer signs in →
// creates an app → creates a credential → rotates it → deletes the old one
// → that secret fails at the token endpoint, while the new one works. The
// screenshot is saved in the test's artifact directory (go test -artifacts
// keeps it).
func TestBrowserDeveloperPortalCredentials(t *testing.T) {
	bctx := newChromium(t)
	f := newFlowFixture(t, "--brand-name", "Acme Hub")
	password := "portal dev " + f.password
	f.cmd(t, password+"\n", "user", "create", "--username", "dev", "--password-stdin", "--developer")

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v\nserver log: %s", name, err, f.srv.Stderr.String())
		}
	}
	secret := func() string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Value(chromedp.ID("secret")))
		if err != nil || v == "" {
			t.Fatalf("the secret on the page: %q %v", v, err)
		}
		return v
	}
	back := chromedp.Click(chromedp.CSS(`main a[href^="/developer/apps/"]`))
	step("sign in from the portal",
		chromedp.Navigate(f.srv.URL+"/developer/apps"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "dev"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/developer/apps"]`)),
	)
	step("create an app",
		chromedp.SendKeys(chromedp.ID("name"), "Notes"),
		chromedp.SendKeys(chromedp.ID("redirect_uri"), "https://notes.example/cb"),
		chromedp.Click(chromedp.CSS(`input[name="scope"][value="read"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/developer/apps"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("secret")),
	)
	initial := secret()
	clientID, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`main p code`)))
	if err != nil || !strings.HasPrefix(clientID, "app_") {
		t.Fatalf("client_id on the page: %q %v", clientID, err)
	}
	step("create a credential",
		back,
		chromedp.WaitVisible(chromedp.ID("credential-name")),
		chromedp.SendKeys(chromedp.ID("credential-name"), "ci"),
		chromedp.Click(chromedp.CSS(`form[action$="/credentials/create"] button`)),
		chromedp.WaitVisible(chromedp.ID("secret")),
	)
	ci := secret()
	// The credentials are listed by id: initial, ci, then ci's successor.
	const second = `li.credential:nth-of-type(2) `
	step("rotate it",
		back,
		chromedp.WaitVisible(chromedp.CSS(second+`form[action$="/credentials/rotate"]`)),
		chromedp.SendKeys(chromedp.CSS(second+`input[name="name"]`), "ci-2"),
		chromedp.Click(chromedp.CSS(second+`form[action$="/credentials/rotate"] button`)),
		chromedp.WaitVisible(chromedp.ID("secret")),
	)
	next := secret()
	step("delete the old one, typing its name",
		back,
		chromedp.WaitVisible(chromedp.CSS(second+`input[name="confirm"]`)),
		chromedp.SendKeys(chromedp.CSS(second+`input[name="confirm"]`), "ci"),
		chromedp.Click(chromedp.CSS(second+`form[action$="/credentials/delete"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	after, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.ArtifactDir(), "developer-app-after-credential-delete.png")
	if err := os.WriteFile(path, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if !strings.Contains(after, "The credential was deleted") || !strings.Contains(after, "ci-2") || strings.Contains(after, next) {
		t.Errorf("after the delete: %q", after)
	}
	// The token endpoint authenticates the client before it reads the
	// grant: a bogus refresh token answers invalid_grant to a good secret
	// and invalid_client to a bad one.
	auth := func(sec string) int {
		status, _ := postForm(t, f.srv.URL+"/token", clientID, sec, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"gth_rt_bogus"}})
		return status
	}
	if got := auth(ci); got != http.StatusUnauthorized {
		t.Errorf("the deleted secret at the token endpoint: %d, want 401", got)
	}
	for name, sec := range map[string]string{"the new secret": next, "the initial secret": initial} {
		if got := auth(sec); got != http.StatusBadRequest {
			t.Errorf("%s at the token endpoint: %d, want 400 invalid_grant (authenticated)", name, got)
		}
	}
}
