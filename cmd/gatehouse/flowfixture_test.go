package main

import (
	"crypto/rand"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// flowFixture is a dev server with a user and the apps of the checklist's
// fixtures: web (confidential), spa (public), native (public, loopback and
// private-use URIs), multi (two URIs), tenant (a URI with a query).
type flowFixture struct {
	srv                                 *testServer
	dir                                 string
	vars                                map[string]string // the commands' environment: nil, or another database
	user, password                      string
	web, spa, native, multi, tenant, cc createdApp
	rs                                  createdApp // made on first use by introspectAs
}

func newFlowFixture(t testing.TB, serveArgs ...string) *flowFixture {
	t.Helper()
	return newFlowFixtureOn(t, nil, serveArgs...)
}

// newFlowFixtureOn is newFlowFixture with the environment vars for the
// server and the commands (GATEHOUSE_DB: another database).
func newFlowFixtureOn(t testing.TB, vars map[string]string, serveArgs ...string) *flowFixture {
	t.Helper()
	dir := t.TempDir()
	f := &flowFixture{dir: dir, vars: vars, user: "alice", password: rand.Text()}
	f.srv = startServer(t, dir, vars, append([]string{"--dev"}, serveArgs...)...)
	if code, _, errOut := runCmd(t, dir, vars, f.password+"\n", "user", "create", "--username", f.user, "--password-stdin"); code != 0 {
		t.Fatalf("user create: %s", errOut)
	}
	createApp := func(t testing.TB, dir string, args ...string) createdApp { return createAppWith(t, dir, vars, args...) }
	f.web = createApp(t, dir, "--name", "Web", "--type", "confidential", "--scope", "read,write", "--default-scope", "read", "--redirect-uri", "https://client.example/cb")
	f.spa = createApp(t, dir, "--name", "SPA", "--type", "public", "--scope", "read,write", "--default-scope", "read", "--redirect-uri", "https://spa.example/cb")
	f.native = createApp(t, dir, "--name", "Native", "--type", "public", "--scope", "read", "--redirect-uri", "http://127.0.0.1/cb,http://[::1]/cb,com.example.app:/cb")
	f.multi = createApp(t, dir, "--name", "Multi", "--type", "public", "--scope", "read", "--redirect-uri", "https://multi.example/a,https://multi.example/b")
	f.tenant = createApp(t, dir, "--name", "Tenant", "--type", "confidential", "--scope", "read", "--redirect-uri", "https://client.example/cb?tenant=a")
	f.cc = createApp(t, dir, "--name", "Service", "--type", "confidential", "--scope", "read", "--grant", "client_credentials")
	return f
}

// config is the x/oauth2 configuration of app.
func (f *flowFixture) config(app createdApp, redirectURI string, scopes ...string) *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	if app.ClientSecret == "" {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: redirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: f.srv.URL + "/authorize", TokenURL: f.srv.URL + "/token", AuthStyle: style},
	}
}

// authURL builds an authorization URL with a fresh S256 PKCE pair.
func (f *flowFixture) authURL(cfg *oauth2.Config, state string) (string, string) {
	verifier := oauth2.GenerateVerifier()
	return cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), verifier
}

// rawAuthURL builds an authorization URL from raw parameters.
func (f *flowFixture) rawAuthURL(params url.Values) string {
	return f.srv.URL + "/authorize?" + params.Encode()
}

// code walks the whole flow for app and returns the code and its verifier.
func (f *flowFixture) code(t testing.TB, b *browser, cfg *oauth2.Config) (string, string) {
	t.Helper()
	u, verifier := f.authURL(cfg, "st")
	q := callback(t, b.authorize(u, f.user, f.password))
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return q.Get("code"), verifier
}
