package main

import (
	"context"
	_ "embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Issue 13 item 5, in headless Chromium: every page passes axe-core at WCAG
// 2.1 AA in light and dark mode, fits a 320 px wide screen, and is usable
// with the keyboard alone.

// axeJS is axe-core 4.14.1 (npm axe-core, MPL-2.0, see testdata/axe),
// vendored so that the test never downloads anything. It is injected with
// Runtime.evaluate, which the pages' CSP (no inline script) does not govern.
//
//go:embed testdata/axe/axe.min.js
var axeJS string

// a11yPage is one page of the walk: name names it in failures and
// screenshots; reach is the browser steps that show it, from where the page
// before it left the browser (the walk runs in order, in one browser, so a
// page can follow a form post or a sign-in); keyboard asks for the Tab order
// check. To cover a new page, add it to a11yPages.
type a11yPage struct {
	name     string
	reach    []chromedp.Action[chromedp.Void]
	keyboard bool
}

// a11yPages is every page a person can see, in an order the browser can
// walk: signed-out pages first, then a sign-in to an app, then the signed-in
// pages, then signing out.
func a11yPages(t *testing.T, f *flowFixture) []a11yPage {
	t.Helper()
	srv := f.srv.URL
	cb := srv + "/dev/callback"
	app := createApp(t, f.dir, "--name", "Photo Share", "--type", "public", "--scope", "read,write", "--default-scope", "read",
		"--redirect-uri", cb, "--owner", f.user, "--description", "Shares your photos with your friends.",
		"--homepage", "https://photos.example/", "--privacy-url", "https://photos.example/privacy", "--terms-url", "https://photos.example/terms")
	authURL, _ := f.authURL(f.config(app, cb, "read", "write"), "a11y-state")
	// The developer portal: the user is a developer who owns a confidential app.
	f.cmd(t, "", "user", "update", f.user, "--developer")
	notes := createApp(t, f.dir, "--name", "Notes", "--type", "confidential", "--scope", "read", "--redirect-uri", "https://notes.example/cb", "--owner", f.user)
	f.grantTokens(t, f.spa, spaCB, "read", "write")
	f.grantTokens(t, f.web, webCB, "read")
	tv := createApp(t, f.dir, "--name", "Living Room TV", "--type", "public", "--scope", "read", "--grant", "device_code")
	da := send(t, "POST", srv+"/device_authorization", formCT, url.Values{"client_id": {tv.ClientID}}.Encode(), nil)
	userCode, _ := da.body["user_code"].(string)
	if userCode == "" {
		t.Fatalf("device authorization: %d %s", da.status, da.raw)
	}
	badClient := srv + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"no-such-client"}, "redirect_uri": {cb}, "state": {"s"}}.Encode()
	devCode := cb + "?" + url.Values{"code": {"gth_ac_" + strings.Repeat("x", 43)}, "state": {"a11y-state"}, "iss": {srv}}.Encode()
	devError := cb + "?" + url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request."}, "state": {"a11y-state"}, "iss": {srv}}.Encode()
	return []a11yPage{
		{name: "home-signed-out", reach: nav(srv+"/", "Gatehouse")},
		{name: "not-found", reach: nav(srv+"/no-such-page", "Page not found")},
		// A browser sends PUT or DELETE only from script; a form POST to
		// a GET-only page path gets the same 405 page. The form is added
		// through DevTools (the pages have no script), on the server's
		// own origin, so the cross-origin protection lets it through.
		{name: "method-not-allowed", reach: []chromedp.Action[chromedp.Void]{
			discard(chromedp.Evaluate[bool](`(() => { const f = document.createElement("form"); f.method = "post"; f.action = "/logged-out"; document.body.append(f); f.submit(); return true; })()`)),
			titled("Method not allowed"),
		}},
		{name: "error-bad-client", reach: nav(badClient, "")},
		{name: "dev-callback-empty", reach: nav(cb, "Dev redirect page")},
		{name: "dev-callback-code", reach: nav(devCode, "Dev redirect page")},
		{name: "dev-callback-error", reach: nav(devError, "Dev redirect page")},
		{name: "login", keyboard: true, reach: []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(authURL),
			chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
		}},
		{name: "login-wrong-password", reach: []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), f.user),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "not-the-password"),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.error`)),
		}},
		{name: "consent", keyboard: true, reach: []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), f.password),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`button[name="decision"][value="allow"]`)),
		}},
		{name: "connected-apps", reach: []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv + "/account/apps"),
			chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Disconnect SPA"]`)),
		}},
		{name: "device-entry", keyboard: true, reach: []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv + "/device"),
			chromedp.WaitVisible(chromedp.CSS(`input[name="user_code"]`)),
		}},
		{name: "device-wrong-code", reach: []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(`input[name="user_code"]`), "BBBB-CCCC"),
			chromedp.Click(chromedp.CSS(`form[action="/device"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.error`)),
		}},
		{name: "device-confirm", keyboard: true, reach: []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv + "/device?user_code=" + userCode),
			chromedp.WaitVisible(chromedp.CSS(`button[name="decision"][value="allow"]`)),
		}},
		{name: "device-connected", reach: []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(`button[name="decision"][value="allow"]`)),
			titled("Device connected"),
		}},
		{name: "developer-apps", reach: []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv + "/developer/apps"),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/developer/apps"]`)),
		}},
		{name: "developer-app", keyboard: true, reach: []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv + "/developer/apps/" + notes.ClientID),
			chromedp.WaitVisible(chromedp.CSS(`#credential-name`)),
		}},
		{name: "developer-secret", reach: []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(`#credential-name`), "ci"),
			chromedp.Click(chromedp.CSS(`form[action$="/credentials/create"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#secret`)),
		}},
		{name: "home-signed-in", reach: []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv + "/"),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"] button`)),
		}},
		{name: "signed-out", reach: []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			titled("Signed out"),
		}},
	}
}

// nav loads u and waits for the title to start with title.
func nav(u, title string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{chromedp.Navigate(u), titled(title)}
}

// titled waits until a loaded page's title starts with prefix: the end of
// a navigation that a form post started. Unlike chromedp.Poll, it outlives
// the page it starts on.
func titled(prefix string) chromedp.Action[chromedp.Void] {
	expr := fmt.Sprintf(`document.readyState === "complete" && document.title.startsWith(%q)`, prefix)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			if ok, err := chromedp.Evaluate[bool](expr)(ctx, t); err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("no page titled %q: %w", prefix, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// discard runs a and drops its value.
func discard[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := a(ctx, t)
		return err
	})
}

// colorSchemes are the two values of prefers-color-scheme every page is
// checked in.
var colorSchemes = []string{"light", "dark"}

// walkPages starts a browser and a dev server, shows each page of
// a11yPages in turn, and calls check on it once per colour scheme.
func walkPages(t *testing.T, setup func(bctx context.Context), check func(t *testing.T, bctx context.Context, p a11yPage, scheme string)) {
	bctx := newChromium(t)
	f := newFlowFixture(t)
	pages := a11yPages(t, f)
	if setup != nil {
		setup(bctx)
	}
	for _, p := range pages {
		if err := chromedp.Do(bctx, p.reach...); err != nil {
			t.Fatalf("show %s: %v\nserver log: %s", p.name, err, f.srv.Stderr.String())
		}
		for _, scheme := range colorSchemes {
			setColorScheme(t, bctx, scheme)
			check(t, bctx, p, scheme)
		}
	}
	setColorScheme(t, bctx, "")
}

// setColorScheme emulates prefers-color-scheme (empty: no emulation) and
// checks that the page sees it.
func setColorScheme(t *testing.T, bctx context.Context, scheme string) {
	t.Helper()
	params := emulation.SetEmulatedMediaParams{}
	if scheme != "" {
		params.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	if _, err := chromedp.Call(bctx, emulation.SetEmulatedMedia, params); err != nil {
		t.Fatalf("emulate prefers-color-scheme %q: %v", scheme, err)
	}
	if scheme == "" {
		return
	}
	dark, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`matchMedia("(prefers-color-scheme: dark)").matches`))
	if err != nil {
		t.Fatalf("matchMedia: %v", err)
	}
	if dark != (scheme == "dark") {
		t.Fatalf("prefers-color-scheme: dark matches %t after emulating %s", dark, scheme)
	}
}

// axeViolation is the part of an axe-core violation a failure shows.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// axeRun is the axe-core run of the issue: the WCAG 2.0 and 2.1 A and AA
// rules, violations only.
const axeRun = `axe.run(document, {
	runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
	resultTypes: ["violations"],
}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || "", help: v.help,
	nodes: v.nodes.map(n => ({target: n.target.flat(Infinity).join(" "), summary: n.failureSummary || ""})),
})))`

// TestBrowserPagesPassAxe: zero axe-core violations at WCAG 2.1 AA on every
// page, in light and dark mode.
func TestBrowserPagesPassAxe(t *testing.T) {
	walkPages(t, nil, func(t *testing.T, bctx context.Context, p a11yPage, scheme string) {
		loaded, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if !loaded {
			if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](axeJS+"\n;true")); err != nil {
				t.Fatalf("%s: inject axe-core: %v", p.name, err)
			}
		}
		vs, err := chromedp.Run(bctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s (%s): axe.run: %v", p.name, scheme, err)
		}
		if len(vs) == 0 {
			return
		}
		var b strings.Builder
		for _, v := range vs {
			fmt.Fprintf(&b, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
			for _, n := range v.Nodes {
				fmt.Fprintf(&b, "\n    %s\n      %s", n.Target, strings.ReplaceAll(n.Summary, "\n", "\n      "))
			}
		}
		t.Errorf("%s, %s mode: %d axe-core violations:%s", p.name, scheme, len(vs), b.String())
	})
}

// TestBrowserPagesFit320px: at 320 CSS px wide (a small phone), no page
// scrolls sideways. A screenshot of each page in each scheme is saved in
// the test's artifact directory (go test -artifacts keeps them).
func TestBrowserPagesFit320px(t *testing.T) {
	const width = 320
	dir := t.ArtifactDir()
	walkPages(t, func(bctx context.Context) {
		if _, err := chromedp.Call(bctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: 640, DeviceScaleFactor: 2, Mobile: true,
		}); err != nil {
			t.Fatalf("emulate a %d px screen: %v", width, err)
		}
	}, func(t *testing.T, bctx context.Context, p a11yPage, scheme string) {
		sizes, err := chromedp.Run(bctx, chromedp.Evaluate[[]int](`[innerWidth, document.documentElement.scrollWidth]`))
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		// A mobile browser widens the layout viewport (and zooms out)
		// to fit content wider than the screen: both mean the page does
		// not fit.
		if sizes[0] != width || sizes[1] > width {
			t.Errorf("%s, %s mode: on a %d px screen the window is %d px and the page %d px wide: it does not fit", p.name, scheme, width, sizes[0], sizes[1])
		}
		shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", p.name, err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%s-%dpx.png", p.name, scheme, width))
		if err := os.WriteFile(path, shot, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("screenshots: %s", dir)
}

// describeJS describes an element for the Tab order check.
const describeJS = `const describe = el => {
	if (!el || el === document.body || el === document.documentElement) return "(document)";
	let d = el.tagName.toLowerCase();
	if (el.id) d += "#" + el.id;
	if (el.name) d += "[name=" + el.name + "]";
	if (el.getAttribute("href")) d += "[href=" + el.getAttribute("href") + "]";
	if (el.tagName === "BUTTON" && el.value) d += "[value=" + el.value + "]";
	const text = (el.textContent || "").trim();
	if (text) d += " " + JSON.stringify(text);
	return d;
};`

// focusableJS is every control and link of the page, in DOM order.
const focusableJS = `(() => { ` + describeJS + `
	return [...document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")]
		.filter(el => !el.disabled && el.type !== "hidden" && el.tabIndex >= 0)
		.map(describe);
})()`

// TestBrowserKeyboardReachesEveryControl: on the sign-in and consent pages,
// pressing Tab from the top of the page focuses every form control and link,
// in DOM order, in light and dark mode alike.
func TestBrowserKeyboardReachesEveryControl(t *testing.T) {
	checked := 0
	walkPages(t, nil, func(t *testing.T, bctx context.Context, p a11yPage, scheme string) {
		if !p.keyboard {
			return
		}
		checked++
		want, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](focusableJS))
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if len(want) < 2 {
			t.Fatalf("%s: only %q are focusable: the check proves nothing", p.name, want)
		}
		// A click on the empty top left corner of the page moves the
		// focus, and where Tab starts from, to the document.
		if err := chromedp.Do(bctx, chromedp.MouseClickXY(2, 2)); err != nil {
			t.Fatalf("%s: click: %v", p.name, err)
		}
		var got []string
		for range want {
			if err := chromedp.Do(bctx, chromedp.KeyEvent("\t")); err != nil {
				t.Fatalf("%s: Tab: %v", p.name, err)
			}
			el, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => { `+describeJS+` return describe(document.activeElement); })()`))
			if err != nil {
				t.Fatalf("%s: active element: %v", p.name, err)
			}
			got = append(got, el)
		}
		t.Logf("%s, %s mode: Tab order:\n  %s", p.name, scheme, strings.Join(got, "\n  "))
		if !slices.Equal(got, want) {
			t.Errorf("%s, %s mode: Tab focuses, in order:\n  %s\nwant every control and link in DOM order:\n  %s",
				p.name, scheme, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	})
	if checked != 5*len(colorSchemes) {
		t.Errorf("checked %d page and scheme pairs, want the login, consent, device entry, device confirmation and developer app pages in %d schemes", checked, len(colorSchemes))
	}
}
