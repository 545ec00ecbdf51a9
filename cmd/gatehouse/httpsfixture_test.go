package main

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// httpsIssuer is the issuer of a production-mode test server. The test
// talks plain http to it, as a TLS-terminating proxy in front of it would.
const httpsIssuer = "https://as.example"

// httpsFixture is a server started without --dev: an https issuer, a
// generated secret key, a user and a confidential web app.
type httpsFixture struct {
	srv            *testServer
	user, password string
	app            createdApp
}

func newHTTPSFixture(t *testing.T) *httpsFixture {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"GATEHOUSE_SECRET_KEY": randomHexKey(t)}
	h := &httpsFixture{user: "alice", password: rand.Text()}
	h.srv = startServer(t, dir, vars, "--issuer", httpsIssuer)
	must := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(t, dir, vars, stdin, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	must("", "scope", "create", "read", "--description", "Read your data")
	must(h.password+"\n", "user", "create", "--username", h.user, "--password-stdin")
	out := must("", "app", "create", "-o", "json", "--name", "Web", "--type", "confidential", "--scope", "read", "--redirect-uri", webCB)
	if err := json.Unmarshal([]byte(out), &h.app); err != nil {
		t.Fatalf("app create output: %v", err)
	}
	return h
}

// signedIn returns a signed-in browser and the login response that set its
// session cookie. The browser keeps Secure cookies and sends them back over
// the test's plain http, as the proxy's clients would over https.
func (h *httpsFixture) signedIn(t *testing.T) (*browser, page) {
	t.Helper()
	b := newBrowser(t, h.srv.URL)
	b.c.Jar = &proxyJar{cookies: map[string]*http.Cookie{}}
	p := b.login(b.get("/login"), h.user, h.password)
	if p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("login: %d %q", p.status, p.location)
	}
	return b, p
}

// proxyJar is a cookie jar for one host that ignores the Secure attribute.
type proxyJar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func (j *proxyJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.cookies, c.Name)
			continue
		}
		j.cookies[c.Name] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
}

func (j *proxyJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.cookies {
		out = append(out, c)
	}
	return out
}
