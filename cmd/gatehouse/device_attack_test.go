package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// cookie returns b's cookie named name (or its __Host- form), if any.
func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name || c.Name == "__Host-"+name {
			return c
		}
	}
	return nil
}

// setCookieHeader returns the Set-Cookie line of p that sets name.
func setCookieHeader(p page, name string) string {
	for _, sc := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, name+"=") || strings.HasPrefix(sc, "__Host-"+name+"=") {
			return sc
		}
	}
	return ""
}

// failPasswords sends n wrong passwords for username from b.
func failPasswords(b *browser, username string, n int) {
	for range n {
		b.post("/login", url.Values{"username": {username}, "password": {"wrong password"}})
	}
}

// DESIGN invariant 11; issue 9 finding 4 (OWASP device cookies): sign in,
// sign out, let six other addresses exhaust the account's limit, then sign
// in again from the known browser on a new address: it works. Positive
// controls: a stranger's browser on a fresh address is refused for the same
// account, so is a browser that holds another account's device cookie, and
// the known browser's own failures are throttled by a limit of its own.
func TestKnownDeviceSignsInDespiteAnAttack(t *testing.T) {
	f := newFlowFixture(t)
	bob, bobPassword := "bob", "bob's own long password"
	if code, _, errOut := runCmd(t, f.dir, nil, bobPassword+"\n", "user", "create", "--username", bob, "--password-stdin"); code != 0 {
		t.Fatalf("user create: %s", errOut)
	}
	known := newBrowserFrom(t, f.srv.URL, "127.0.0.50")
	p := known.login(known.get("/login"), f.user, f.password)
	sc := setCookieHeader(p, "gatehouse_device")
	if p.status != http.StatusSeeOther || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") {
		t.Fatalf("sign-in: %d, device cookie %q", p.status, sc)
	}
	if c := known.cookie("gatehouse_device"); c == nil || !strings.HasPrefix(c.Value, "gth_dc_") {
		t.Fatal("no device cookie in the jar")
	}
	if p := known.post("/logout", nil); p.status != http.StatusSeeOther || setCookieHeader(p, "gatehouse_device") != "" {
		t.Fatalf("logout: %d, touched the device cookie: %q", p.status, setCookieHeader(p, "gatehouse_device"))
	}
	other := newBrowserFrom(t, f.srv.URL, "127.0.0.51")
	if p := other.login(other.get("/login"), bob, bobPassword); p.status != http.StatusSeeOther {
		t.Fatalf("bob's sign-in: %d", p.status)
	}

	for a := range 6 {
		failPasswords(newBrowserFrom(t, f.srv.URL, fmt.Sprintf("127.0.0.%d", 52+a)), f.user, 6)
	}
	stranger := newBrowserFrom(t, f.srv.URL, "127.0.0.60")
	if p := stranger.login(stranger.get("/login"), f.user, f.password); p.status != http.StatusTooManyRequests {
		t.Fatalf("a stranger's right password during the attack: %d, want 429 (the attack did not exhaust the account)", p.status)
	}
	other.c.Transport = fromAddr("127.0.0.61").Transport
	if p := other.login(other.get("/login"), f.user, f.password); p.status != http.StatusTooManyRequests {
		t.Fatalf("a browser with another account's device cookie: %d, want 429", p.status)
	}
	known.c.Transport = fromAddr("127.0.0.62").Transport
	if p := known.login(known.get("/login"), f.user, f.password); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("the known browser on a new address: %d %q, want 303 to /", p.status, p.location)
	}

	// The known browser's own failures count against a limit of its own.
	failPasswords(known, f.user, 10)
	if p := known.login(known.get("/login"), f.user, f.password); p.status != http.StatusTooManyRequests {
		t.Fatalf("the known browser after 10 wrong passwords: %d, want 429", p.status)
	}
}

// Issue 9 "also seen": signing in again ends the previous session on the
// server, not only in the browser. The new session works (the positive
// control).
func TestSigningInAgainEndsThePreviousSession(t *testing.T) {
	f := newFlowFixture(t)
	b := f.signedIn(t)
	first := b.cookie("gatehouse_session")
	if first == nil {
		t.Fatal("no session cookie")
	}
	if p := b.login(b.get("/login"), f.user, f.password); p.status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", p.status)
	}
	second := b.cookie("gatehouse_session")
	if second == nil || second.Value == first.Value {
		t.Fatal("signing in again kept the session id")
	}
	signedInAs := func(id string) bool {
		req := mustRequest(t, "GET", f.srv.URL+"/")
		req.AddCookie(&http.Cookie{Name: "gatehouse_session", Value: id})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), f.user)
	}
	if signedInAs(first.Value) {
		t.Fatal("the previous session still works on the server")
	}
	if !signedInAs(second.Value) {
		t.Fatal("the new session does not work")
	}
}

// Issue 9 finding 6: a redemption by another app (confidential or public),
// with a wrong verifier or with another redirect_uri does not consume the
// code: the real redemption then works, once. Each failed attempt is
// audited as code_refused, and none as a replay by the code's app.
func TestCodeCannotBeBurnedWithoutItsVerifier(t *testing.T) {
	f := newFlowFixture(t)
	b := newBrowser(t, f.srv.URL)
	code, verifier := f.code(t, b, f.config(f.web, webCB, "read"))
	for name, c := range map[string]struct {
		app  createdApp
		form url.Values
	}{
		"another confidential app": {f.tenant, url.Values{"code": {code}, "code_verifier": {verifier}}},
		"a public app":             {f.spa, url.Values{"code": {code}, "code_verifier": {verifier}}},
		"a wrong verifier":         {f.web, url.Values{"code": {code}, "code_verifier": {strings.Repeat("x", 43)}}},
		"another redirect_uri":     {f.web, url.Values{"code": {code}, "code_verifier": {verifier}, "redirect_uri": {webCB + "/other"}}},
	} {
		wantError(t, name, f.exchange(t, c.app, c.form), 400, "invalid_grant")
	}
	if r := f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}}); r.status != 200 {
		t.Fatalf("the real redemption after the attempts: %d %s", r.status, r.raw)
	}
	_, out, _ := runCmd(t, f.dir, nil, "", "audit", "log", "-o", "json")
	if n := strings.Count(out, `"code_refused"`); n != 4 || strings.Contains(out, `"code_replay"`) {
		t.Fatalf("audit: %d code_refused (want 4), replay recorded: %v\n%s", n, strings.Contains(out, `"code_replay"`), out)
	}
	wantError(t, "a second real redemption", f.exchange(t, f.web, url.Values{"code": {code}, "code_verifier": {verifier}}), 400, "invalid_grant")
}
