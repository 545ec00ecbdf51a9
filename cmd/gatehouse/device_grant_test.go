package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/oauth"
)

// deviceFixture is a flow fixture with an app registered for the device
// grant, polling allowed every second.
type deviceFixture struct {
	*flowFixture
	tv createdApp // public, device_code and refresh_token, no redirect URI
}

func newDeviceFixture(t *testing.T, serveArgs ...string) *deviceFixture {
	t.Helper()
	f := newFlowFixture(t, append([]string{"--device-poll-interval", "1s"}, serveArgs...)...)
	tv := createAppWith(t, f.dir, f.vars, "--name", "Living Room TV", "--type", "public", "--scope", "read,write", "--default-scope", "read",
		"--grant", "device_code,refresh_token")
	return &deviceFixture{flowFixture: f, tv: tv}
}

// authorizeDevice asks the device authorization endpoint for app.
func (f *deviceFixture) authorizeDevice(t *testing.T, app createdApp, scope string) rawResponse {
	t.Helper()
	form := url.Values{}
	if scope != "" {
		form.Set("scope", scope)
	}
	var h map[string]string
	if app.ClientSecret != "" {
		h = map[string]string{"Authorization": basicAuth(app.ClientID, app.ClientSecret)}
	} else {
		form.Set("client_id", app.ClientID)
	}
	return send(t, "POST", f.srv.URL+oauth.DeviceAuthorizationPath, formCT, form.Encode(), h)
}

// start returns a fresh device code and user code of app.
func (f *deviceFixture) start(t *testing.T, app createdApp, scope string) (deviceCode, userCode string) {
	t.Helper()
	r := f.authorizeDevice(t, app, scope)
	if r.status != 200 {
		t.Fatalf("device authorization: %d %s", r.status, r.raw)
	}
	return r.body["device_code"].(string), r.body["user_code"].(string)
}

// poll asks the token endpoint for the device code's tokens, as app.
func (f *deviceFixture) poll(t *testing.T, app createdApp, deviceCode string) rawResponse {
	t.Helper()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {deviceCode}}
	var h map[string]string
	if app.ClientSecret != "" {
		h = map[string]string{"Authorization": basicAuth(app.ClientID, app.ClientSecret)}
	} else {
		form.Set("client_id", app.ClientID)
	}
	return send(t, "POST", f.srv.URL+"/token", formCT, form.Encode(), h)
}

// wantPollError asserts an RFC 6749 JSON error of the token endpoint.
func wantPollError(t *testing.T, name string, r rawResponse, code string) {
	t.Helper()
	if r.status != http.StatusBadRequest || r.body["error"] != code || r.body["access_token"] != nil {
		t.Fatalf("%s: got %d %s, want 400 %s", name, r.status, r.raw, code)
	}
}

// decideDevice opens the verification page for userCode in b (signed
// in), checks the confirmation, and answers it with decision.
func decideDevice(t *testing.T, b *browser, userCode, decision string) page {
	t.Helper()
	p := b.get(oauth.DevicePath + "?user_code=" + url.QueryEscape(userCode))
	if p.status != 200 || !strings.Contains(p.body, `name="decision"`) {
		t.Fatalf("verification page for %s: %d %.400s", userCode, p.status, p.body)
	}
	form := hidden(p.body)
	form.Set("decision", decision)
	return b.post(oauth.DevicePath, form)
}

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// DEV-3.5-a, DEV-5.4-a, O21-3.2.3-a: the whole device flow against the
// server — pending, slow_down, the verification page reached through
// verification_uri_complete with a sign-in on the way, an explicit
// confirmation that names the app and scopes, the tokens once, and a
// replayed device code revoking what it issued.
func TestDeviceGrantFlow(t *testing.T) {
	f := newDeviceFixture(t)
	var md map[string]any
	if r := send(t, "GET", f.srv.URL+"/.well-known/oauth-authorization-server", "", "", nil); r.status == 200 {
		md = r.body
	}
	if md["device_authorization_endpoint"] != f.srv.URL+oauth.DeviceAuthorizationPath {
		t.Fatalf("metadata device_authorization_endpoint = %v", md["device_authorization_endpoint"])
	}
	if grants, _ := md["grant_types_supported"].([]any); !containsAny(grants, "urn:ietf:params:oauth:grant-type:device_code") {
		t.Fatalf("grant_types_supported = %v", grants)
	}

	r := f.authorizeDevice(t, f.tv, "read write")
	if r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("device authorization: %d Cache-Control %q %s", r.status, r.header.Get("Cache-Control"), r.raw)
	}
	deviceCode, _ := r.body["device_code"].(string)
	userCode, _ := r.body["user_code"].(string)
	if !strings.HasPrefix(deviceCode, "gth_dg_") || !userCodeShape.MatchString(userCode) {
		t.Fatalf("codes: device %q user %q", deviceCode, userCode)
	}
	if r.body["verification_uri"] != f.srv.URL+"/device" || r.body["verification_uri_complete"] != f.srv.URL+"/device?user_code="+userCode ||
		r.body["expires_in"] != float64(600) || r.body["interval"] != float64(1) {
		t.Fatalf("device authorization response: %s", r.raw)
	}

	wantPollError(t, "poll before the user decides", f.poll(t, f.tv, deviceCode), "authorization_pending")
	slow := f.poll(t, f.tv, deviceCode) // at once: faster than the interval
	wantPollError(t, "poll faster than the interval", slow, "slow_down")
	if !strings.Contains(slow.raw, "wait 6 seconds") {
		t.Errorf("slow_down does not say the longer interval (1 s + 5 s): %s", slow.raw)
	}

	// The user follows verification_uri_complete: signs in, comes back to
	// the same code, and sees what asks for what before anything happens.
	b := newBrowser(t, f.srv.URL)
	p := b.get(r.body["verification_uri_complete"].(string))
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?return_to=") {
		t.Fatalf("verification page signed out: %d %q", p.status, p.location)
	}
	p = b.login(b.get(p.location), f.user, f.password)
	if p.status != http.StatusSeeOther || p.location != "/device?user_code="+userCode {
		t.Fatalf("after sign-in: %d %q, want back to the code", p.status, p.location)
	}
	p = b.get(p.location)
	for _, want := range []string{"Allow Living Room TV on your device?", userCode, "Read your data", "Change your data", `name="decision" value="allow"`, "If someone sent you this link or code, deny"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("confirmation page lacks %q", want)
		}
	}
	if p.header.Get("X-Frame-Options") != "DENY" || !strings.Contains(p.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("verification page framing headers: %v", p.header) // BCP-4.16-a
	}
	// Opening the page approved nothing.
	time.Sleep(6 * time.Second) // the interval after slow_down
	wantPollError(t, "poll after the page was only opened", f.poll(t, f.tv, deviceCode), "authorization_pending")

	form := hidden(p.body)
	form.Set("decision", "allow")
	if done := b.post("/device", form); done.status != 200 || !strings.Contains(done.body, "Device connected") {
		t.Fatalf("approve: %d %.300s", done.status, done.body)
	}
	time.Sleep(6 * time.Second)
	tok := f.poll(t, f.tv, deviceCode)
	access, _ := tok.body["access_token"].(string)
	if tok.status != 200 || access == "" || tok.body["refresh_token"] == nil || tok.body["scope"] != "read write" || tok.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("poll after approval: %d %s", tok.status, tok.raw)
	}
	if !f.introspectAs(t, f.tv, access) {
		t.Fatal("the device's access token is not active")
	}
	if e := f.event(t, "device_approved"); e.Actor != "user" {
		t.Errorf("device_approved event: %+v", e)
	}

	// The device code is single-use: a second redemption (someone else
	// polled with a leaked code) is refused and kills what it issued.
	time.Sleep(6 * time.Second)
	wantPollError(t, "the device code redeemed again", f.poll(t, f.tv, deviceCode), "invalid_grant")
	if f.introspectAs(t, f.tv, access) {
		t.Fatal("a replayed device code left its access token active")
	}
	f.event(t, "device_code_replay")
	// The code cannot be used on the page again either.
	if p := b.get("/device?user_code=" + userCode); strings.Contains(p.body, `name="decision"`) || p.status != http.StatusBadRequest {
		t.Errorf("a used user code still shows a confirmation: %d", p.status)
	}
}

func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// DEV-3.5-a: a denial answers access_denied and opens no grant; an expired
// request answers expired_token, and its user code is refused on the page.
func TestDeviceGrantDeniedAndExpired(t *testing.T) {
	f := newDeviceFixture(t, "--device-code-ttl", "3s")
	b := f.signedIn(t)
	deviceCode, userCode := f.start(t, f.tv, "")
	if p := decideDevice(t, b, userCode, "deny"); p.status != 200 || !strings.Contains(p.body, "Request denied") {
		t.Fatalf("deny: %d %.300s", p.status, p.body)
	}
	wantPollError(t, "poll after a denial", f.poll(t, f.tv, deviceCode), "access_denied")
	f.event(t, "device_denied")
	if out := f.cmd(t, "", "grant", "list", "--app", f.tv.ClientID, "-o", "json"); strings.Contains(out, `"id"`) {
		t.Errorf("a denied request opened a grant: %s", out)
	}

	expiring, lateCode := f.start(t, f.tv, "")
	time.Sleep(3500 * time.Millisecond)
	wantPollError(t, "poll after expiry", f.poll(t, f.tv, expiring), "expired_token")
	p := b.get("/device?user_code=" + lateCode)
	if p.status != http.StatusBadRequest || strings.Contains(p.body, `name="decision"`) || !strings.Contains(p.body, "That code is not valid") {
		t.Errorf("an expired user code on the page: %d %.300s", p.status, p.body)
	}
	// Positive control: a fresh request of the same app is approved.
	fresh, freshCode := f.start(t, f.tv, "")
	if p := decideDevice(t, b, freshCode, "allow"); p.status != 200 {
		t.Fatalf("approve: %d", p.status)
	}
	if r := f.poll(t, f.tv, fresh); r.status != 200 {
		t.Fatalf("poll after approval: %d %s", r.status, r.raw)
	}
	if out := f.cmd(t, "", "grant", "list", "--app", f.tv.ClientID, "-o", "json"); !strings.Contains(out, `"id"`) {
		t.Errorf("an approval opened no grant: %s", out)
	}
}

// DEV-3.5-a: only apps registered for the device grant get a device code
// or redeem one; a device code is bound to its app (another app's poll is
// refused and does not burn it); a confidential app authenticates.
func TestDeviceGrantOnlyForRegisteredApps(t *testing.T) {
	f := newDeviceFixture(t)
	r := f.authorizeDevice(t, f.native, "") // public, authorization_code only
	if r.status != 400 || r.body["error"] != "unauthorized_client" {
		t.Fatalf("device authorization for an app without the grant: %d %s", r.status, r.raw)
	}
	deviceCode, userCode := f.start(t, f.tv, "")
	if r := f.poll(t, f.native, deviceCode); r.status != 400 || r.body["error"] != "unauthorized_client" {
		t.Fatalf("the device grant at the token endpoint for an app without it: %d %s", r.status, r.raw)
	}
	other := createAppWith(t, f.dir, f.vars, "--name", "Other TV", "--type", "public", "--scope", "read", "--grant", "device_code")
	if p := decideDevice(t, f.signedIn(t), userCode, "allow"); p.status != 200 {
		t.Fatalf("approve: %d", p.status)
	}
	wantPollError(t, "another app polls with the code", f.poll(t, other, deviceCode), "invalid_grant")
	if r := f.poll(t, f.tv, deviceCode); r.status != 200 {
		t.Fatalf("the code's own app after another app's attempt: %d %s (the attempt burnt it)", r.status, r.raw)
	}

	box := createAppWith(t, f.dir, f.vars, "--name", "Set-top box", "--type", "confidential", "--scope", "read", "--grant", "device_code")
	if r := f.authorizeDevice(t, createdApp{ClientID: box.ClientID, ClientSecret: "gth_cs_wrong"}, ""); r.status != 401 || r.body["error"] != "invalid_client" {
		t.Fatalf("confidential app with a wrong secret: %d %s", r.status, r.raw)
	}
	if r := f.authorizeDevice(t, createdApp{ClientID: box.ClientID}, ""); r.status != 401 {
		t.Fatalf("confidential app without its secret: %d %s", r.status, r.raw)
	}
	if r := f.authorizeDevice(t, box, "admin"); r.status != 400 || r.body["error"] != "invalid_scope" {
		t.Fatalf("a scope the app may not ask for: %d %s", r.status, r.raw)
	}
	if r := f.authorizeDevice(t, box, ""); r.status != 200 {
		t.Fatalf("confidential app with its secret: %d %s", r.status, r.raw)
	}
	for name, dc := range map[string]string{"garbage": "nope", "an access token's shape": "gth_at_" + strings.Repeat("A", 50)} {
		wantPollError(t, name, f.poll(t, f.tv, dc), "invalid_grant")
	}
	if r := send(t, "GET", f.srv.URL+oauth.DeviceAuthorizationPath, "", "", nil); r.status != http.StatusMethodNotAllowed || r.body["error"] == nil {
		t.Errorf("GET device_authorization: %d %s", r.status, r.raw)
	}
}

// DEV-5.1-a: wrong user codes are throttled per user and per address; a
// right code is refused too while throttled (a guesser learns nothing);
// right codes and malformed input cost nothing; another user at another
// address is not locked out.
func TestUserCodeGuessesThrottled(t *testing.T) {
	f := newDeviceFixture(t)
	_, userCode := f.start(t, f.tv, "")
	b := f.signedIn(t)
	entry := func(b *browser, code string) page {
		return b.post("/device", url.Values{"user_code": {code}})
	}
	// Right codes and input that cannot be a code do not count.
	for range 12 {
		if p := entry(b, strings.ToLower(userCode)); p.status != 200 || !strings.Contains(p.body, `name="decision"`) {
			t.Fatalf("the right code (lower case): %d", p.status)
		}
		if p := entry(b, "not a code!"); p.status != 400 {
			t.Fatalf("malformed code: %d", p.status)
		}
	}
	wrong := "BBBB-BBBB"
	if wrong == userCode {
		wrong = "CCCC-CCCC"
	}
	for i := range 10 {
		if p := entry(b, wrong); p.status != 400 || !strings.Contains(p.body, "That code is not valid") {
			t.Fatalf("wrong code %d: %d", i+1, p.status)
		}
	}
	p := entry(b, userCode)
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || strings.Contains(p.body, `name="decision"`) {
		t.Fatalf("the right code after 10 wrong ones: %d, want 429", p.status)
	}
	if p := b.post("/device", url.Values{"user_code": {userCode}, "decision": {"allow"}}); p.status != http.StatusTooManyRequests {
		t.Fatalf("a decision posted directly while throttled: %d, want 429", p.status)
	}
	if n, _ := f.countKind(t, "user_code_throttled"); n != 1 {
		t.Errorf("%d user_code_throttled events, want 1", n)
	}

	// The address: a second user at the same address guesses 10 more; a
	// third is then refused there, and not at another address.
	pw := map[string]string{}
	for _, name := range []string{"bob", "carol"} {
		pw[name] = f.createUser(t, name)
	}
	bob := f.signedInAs(t, "bob", pw["bob"], "127.0.0.1")
	for range 10 {
		entry(bob, wrong)
	}
	carolHere, carolThere := f.signedInAs(t, "carol", pw["carol"], "127.0.0.1"), f.signedInAs(t, "carol", pw["carol"], "127.0.0.2")
	if p := entry(carolHere, userCode); p.status != http.StatusTooManyRequests {
		t.Fatalf("a third user at an address that guessed 20 wrong codes: %d, want 429", p.status)
	}
	if p := entry(carolThere, userCode); p.status != 200 || !strings.Contains(p.body, `name="decision"`) {
		t.Fatalf("the same user at another address: %d, want the confirmation", p.status)
	}
}

// signedInAs returns a browser from the loopback address ip signed in as
// username.
func (f *deviceFixture) signedInAs(t *testing.T, username, password, ip string) *browser {
	t.Helper()
	b := newBrowserFrom(t, f.srv.URL, ip)
	if p := b.login(b.get("/login"), username, password); p.status != http.StatusSeeOther {
		t.Fatalf("login as %s: %d", username, p.status)
	}
	return b
}

// The verification page's form is protected against cross-site posts
// (DESIGN invariant 9) — with a same-origin post as the positive control —
// and a decision needs a session.
func TestDeviceVerificationRefusesCrossSite(t *testing.T) {
	f := newDeviceFixture(t)
	_, userCode := f.start(t, f.tv, "")
	b := f.signedIn(t)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+"/device", strings.NewReader(url.Values{"user_code": {userCode}, "decision": {"allow"}}.Encode()))
	req.Header.Set("Content-Type", formCT)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Fatalf("cross-site decision: %d, want 403", p.status)
	}
	anon := newBrowser(t, f.srv.URL)
	if p := anon.post("/device", url.Values{"user_code": {userCode}, "decision": {"allow"}}); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login") {
		t.Fatalf("a decision without a session: %d %q, want the login", p.status, p.location)
	}
	if p := decideDevice(t, b, userCode, "allow"); p.status != 200 || !strings.Contains(p.body, "Device connected") {
		t.Fatalf("same-origin decision: %d", p.status)
	}
}

// "Not you?" on the confirmation ends the session and comes back to the
// same code after the other account signs in, which then decides.
func TestDeviceSwitchAccount(t *testing.T) {
	f := newDeviceFixture(t)
	deviceCode, userCode := f.start(t, f.tv, "")
	bobPassword := f.createUser(t, "bob")
	b := f.signedIn(t)
	p := b.get("/device?user_code=" + userCode)
	form := hidden(p.body)
	p = b.post("/switch-account", form)
	if p.status != http.StatusSeeOther || p.location != "/login?return_to=/device%3Fuser_code%3D"+userCode {
		t.Fatalf("switch account: %d %q", p.status, p.location)
	}
	p = b.login(b.get(p.location), "bob", bobPassword)
	if p.location != "/device?user_code="+userCode {
		t.Fatalf("after bob signs in: %q", p.location)
	}
	if p := decideDevice(t, b, userCode, "allow"); p.status != 200 {
		t.Fatalf("bob approves: %d", p.status)
	}
	if r := f.poll(t, f.tv, deviceCode); r.status != 200 {
		t.Fatalf("poll: %d %s", r.status, r.raw)
	}
	if e := f.event(t, "device_approved"); e.User != "bob" || e.ClientID != f.tv.ClientID || e.Detail["message"] == nil {
		t.Errorf("device_approved: %+v", e)
	}
	if out := f.cmd(t, "", "grant", "list", "--user", "bob", "-o", "json"); !strings.Contains(out, `"id"`) {
		t.Errorf("the grant is not bob's: %s", out)
	}
	if out := f.cmd(t, "", "grant", "list", "--user", f.user, "--app", f.tv.ClientID, "-o", "json"); strings.Contains(out, `"id"`) {
		t.Errorf("the first account got a grant: %s", out)
	}
}

// Device authorization requests are limited per address (a public app's
// client_id is public, and each request is a row until it expires): the
// 31st from one address at once is refused with 429 and Retry-After, and
// another address is not (the positive control).
func TestDeviceAuthorizationLimitedPerAddress(t *testing.T) {
	f := newDeviceFixture(t)
	form := url.Values{"client_id": {f.tv.ClientID}}.Encode()
	here, there := fromAddr("127.0.0.1"), fromAddr("127.0.0.3")
	for i := range 30 {
		if r := sendVia(t, here, "POST", f.srv.URL+oauth.DeviceAuthorizationPath, formCT, form, nil); r.status != 200 {
			t.Fatalf("device authorization %d: %d %s", i+1, r.status, r.raw)
		}
	}
	r := sendVia(t, here, "POST", f.srv.URL+oauth.DeviceAuthorizationPath, formCT, form, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.body["error"] != "slow_down" || r.body["device_code"] != nil {
		t.Fatalf("the 31st device authorization from one address: %d %s", r.status, r.raw)
	}
	if r := sendVia(t, there, "POST", f.srv.URL+oauth.DeviceAuthorizationPath, formCT, form, nil); r.status != 200 {
		t.Fatalf("another address: %d %s", r.status, r.raw)
	}
}
