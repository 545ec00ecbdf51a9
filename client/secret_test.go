package client_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/client"
)

const secretValue = "gh_secret_canary_7f3a9d2c"

func canarySecret(t *testing.T) client.Secret {
	t.Setenv("TEST_CLIENT_SECRET", secretValue)
	s, err := client.SecretFromEnv("TEST_CLIENT_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The secret never appears in formatted output, JSON, slog, or an error.
func TestSecretNeverPrinted(t *testing.T) {
	s := canarySecret(t)
	as := newMockAS(t)
	as.token = func(url.Values) any { return map[string]any{"error": "invalid_client"} }
	app := &client.ConfidentialApp{Provider: as.provider(t), ClientID: "c", RedirectURL: "http://127.0.0.1:9/cb", Scopes: []string{"read"}, Secret: s}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		fmt.Fprintf(&out, verb+"\n", s)
		fmt.Fprintf(&out, verb+"\n", app)
		fmt.Fprintf(&out, verb+"\n", *app)
		fmt.Fprintf(&out, verb+"\n", []any{s, &s})
	}
	fmt.Fprint(&out, s, app, s.String(), s.GoString())
	type config struct { // an app's configuration, as an app might log it
		ClientID string
		Secret   client.Secret
		Ptr      *client.Secret
	}
	b, err := json.Marshal(struct {
		Config config
		Secret client.Secret
		Map    map[string]client.Secret
	}{config{app.ClientID, s, &s}, s, map[string]client.Secret{"k": s}})
	if err != nil {
		t.Fatal(err)
	}
	out.Write(b)
	for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		l := slog.New(h)
		l.Info("app", "secret", s, "app", app, "ptr", &s)
		l.Info("group", slog.Group("g", slog.Any("secret", s)))
	}
	// Errors of the flows that use the secret.
	h := &webHarness{as: as}
	f, err := client.NewWebFlow(app, func(http.ResponseWriter, *http.Request, *client.Session) error { return nil },
		func(w http.ResponseWriter, _ *http.Request, err error) { h.errs = append(h.errs, err) })
	if err != nil {
		t.Fatal(err)
	}
	h.flow = f
	ck, req := h.login(t, "")
	h.callback(ck, response(req, as.URL))
	if h.lastErr() == nil {
		t.Fatal("invalid_client was not an error")
	}
	fmt.Fprintf(&out, "%v %+v\n", h.lastErr(), h.lastErr())
	src := app.TokenSource(&client.MemoryStore{}, key)
	fmt.Fprintf(&out, "%v\n", src.Logout(t.Context()))
	if strings.Contains(out.String(), secretValue) {
		t.Fatalf("the secret appears in the output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "[redacted]") {
		t.Error("no redaction marker")
	}
	// The secret did reach the token endpoint, as Basic authentication.
	if got := as.basic[0]; !strings.HasPrefix(got, "Basic ") || as.forms[0].Get("client_secret") != "" {
		t.Errorf("token request authentication %q, form %v", got, as.forms[0])
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", as.basic[0])
	if id, pw, ok := r.BasicAuth(); !ok || id != "c" || pw != secretValue {
		t.Errorf("client_secret_basic %q %v", id, ok)
	}
}

func TestSecretFromFileRefusesReadableFiles(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		p := filepath.Join(dir, fmt.Sprintf("s%o", mode))
		if err := os.WriteFile(p, []byte(secretValue+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, err := client.SecretFromFile(p)
		if err == nil {
			t.Errorf("mode %o accepted", mode)
		} else if strings.Contains(err.Error(), secretValue) {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
	p := filepath.Join(dir, "ok")
	if err := os.WriteFile(p, []byte(secretValue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := client.SecretFromFile(p); err != nil || s.IsZero() {
		t.Errorf("mode 600: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := client.SecretFromFile(empty); err == nil {
		t.Error("an empty file was accepted")
	}
}

func TestSecretFromEnv(t *testing.T) {
	t.Setenv("TEST_EMPTY_SECRET", "")
	if _, err := client.SecretFromEnv("TEST_EMPTY_SECRET"); err == nil {
		t.Error("an empty variable was accepted")
	}
	if s := canarySecret(t); s.IsZero() {
		t.Error("zero secret")
	}
}

// A secret or key file reached through a symbolic link is refused
// (O_NOFOLLOW; client-review finding 11).
func TestSecretAndKeyFileSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real")
	if err := os.WriteFile(target, []byte(strings.Repeat("ab", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if _, err := client.SecretFromFile(link); err == nil {
		t.Error("SecretFromFile followed a symbolic link")
	}
	if _, err := client.KeyFromFile(link); err == nil {
		t.Error("KeyFromFile followed a symbolic link")
	}
}
