package main

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without --dev, serve refuses to start unless the issuer is https and a
// server key is given, and it names everything that is missing at once.
func TestServeRefusesProductionWithoutIssuerAndKey(t *testing.T) {
	dir := t.TempDir()
	key := randomHexKey(t)
	cases := []struct {
		name string
		vars map[string]string
		args []string
		want []string
	}{
		{"nothing", nil, nil, []string{"--issuer is required", "no server key"}},
		{"http issuer", nil, []string{"--issuer", "http://id.example.com"}, []string{"issuer must be https", "no server key"}},
		{"http loopback issuer without --dev", map[string]string{"GATEHOUSE_SECRET_KEY": key}, []string{"--issuer", "http://127.0.0.1:8080"}, []string{"issuer must be https"}},
		{"short key", map[string]string{"GATEHOUSE_SECRET_KEY": "abcd"}, []string{"--issuer", "https://id.example.com"}, []string{"at least 32 bytes"}},
		{"missing key file", map[string]string{"GATEHOUSE_SECRET_KEY_FILE": filepath.Join(dir, "nope")}, []string{"--issuer", "https://id.example.com"}, []string{"GATEHOUSE_SECRET_KEY_FILE"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, dir, c.vars, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, c.args...)...)
			if code == 0 || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q: want a one-line refusal", code, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not say %q", errOut, w)
				}
			}
			if strings.Contains(errOut, key) || strings.Contains(errOut, "abcd") {
				t.Error("the error repeats the key")
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused start wrote %d files", len(entries))
	}
}

// A production start with a key and an https issuer works; the key file
// and database of --dev are private to their owner.
func TestServeProductionAndPrivateFiles(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"GATEHOUSE_SECRET_KEY": randomHexKey(t)}
	metricsAddr := freeAddr(t)
	srv := startServer(t, dir, vars, "--issuer", "https://id.example.com", "--metrics-addr", metricsAddr)
	r := send(t, "GET", srv.URL+"/.well-known/oauth-authorization-server", "", "", nil)
	if r.body["issuer"] != "https://id.example.com" || r.body["token_endpoint"] != "https://id.example.com/token" {
		t.Fatalf("metadata %v", r.body)
	}
	if r := send(t, "GET", srv.URL+"/healthz", "", "", nil); r.status != 200 || r.raw != "ok\n" {
		t.Fatalf("healthz: %d %q", r.status, r.raw)
	}
	send(t, "POST", srv.URL+"/token", formCT, "grant_type=client_credentials", nil)
	if r := send(t, "GET", srv.URL+"/metrics", "", "", nil); r.status != 404 {
		t.Fatalf("/metrics is public in production: %d", r.status)
	}
	m := send(t, "GET", "http://"+metricsAddr+"/metrics", "", "", nil)
	for _, want := range []string{"gatehouse_http_requests_total", "gatehouse_http_request_duration_seconds", "gatehouse_client_auth_failures_total"} {
		if !strings.Contains(m.raw, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(srv.Stdout.String(), "Demo") {
		t.Fatal("demo data seeded without --dev")
	}
	srv.stop()

	dev := t.TempDir()
	startServer(t, dev, nil, "--dev").stop()
	for _, name := range []string{keyFileName, dbFileName} {
		fi, err := os.Stat(filepath.Join(dev, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %o, want 600", name, fi.Mode().Perm())
		}
	}
}

// Administration commands find the dev server's key and database from the
// same directory, and say what to do when there is none.
func TestCommandsExplainAMissingSetup(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCmd(t, dir, nil, "", "app", "list")
	if code == 0 || !strings.Contains(errOut, "serve --dev") {
		t.Fatalf("app list on an empty directory: exit %d %q", code, errOut)
	}
	code, _, errOut = runCmd(t, dir, nil, "", "user", "create", "--username", "ann")
	if code == 0 || !strings.Contains(errOut, "--password-stdin") {
		t.Fatalf("user create without --password-stdin: exit %d %q", code, errOut)
	}
	startServer(t, dir, nil, "--dev").stop()
	code, out, errOut := runCmd(t, dir, nil, "a long enough password\n", "user", "create", "--username", "ann", "--password-stdin", "-o", "json")
	if code != 0 || !strings.Contains(out, `"username": "ann"`) {
		t.Fatalf("user create: exit %d %q %q", code, out, errOut)
	}
	code, _, errOut = runCmd(t, dir, nil, "another password\n", "user", "create", "--username", "ann", "--password-stdin")
	if code == 0 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate user: exit %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, dir, nil, "", "app", "list", "-o", "yaml"); code == 0 || !strings.Contains(errOut, "--output") {
		t.Fatalf("bad --output: exit %d %q", code, errOut)
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// A production start never falls back to the key file that serve --dev left
// in the data directory: it must be given the key.
func TestProductionIgnoresTheDevKeyFile(t *testing.T) {
	dir := t.TempDir()
	startServer(t, dir, nil, "--dev").stop()
	code, _, errOut := runCmd(t, dir, nil, "", "serve", "--addr", "127.0.0.1:0", "--issuer", "https://id.example.com")
	if code == 0 || !strings.Contains(errOut, "no server key") {
		t.Fatalf("production start with only a dev key file: exit %d %q", code, errOut)
	}
	// Administration commands beside the dev server do use it (DESIGN.md).
	if code, _, errOut := runCmd(t, dir, nil, "", "app", "list"); code != 0 {
		t.Fatalf("app list beside the dev server: %s", errOut)
	}
}

// A client that swaps client_id and client_secret does not get its secret
// logged (DESIGN invariant 8).
func TestSwappedCredentialsAreNotLogged(t *testing.T) {
	f := newFixture(t)
	swapped := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.ClientSecret}, "client_secret": {f.app.ClientID}}
	if r := send(t, "POST", f.srv.URL+"/token", formCT, swapped.Encode(), nil); r.status != 401 {
		t.Fatalf("swapped credentials: %d", r.status)
	}
	f.srv.stop()
	assertNoSecretsIn(t, "the server log", []byte(f.srv.Stderr.String()), []string{f.app.ClientSecret})
}
