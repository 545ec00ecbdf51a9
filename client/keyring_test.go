package client

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"
)

// The keyring tests use go-keyring's mock, a process-wide provider: they
// do not run in parallel.

func newTestKeyringStore(t *testing.T, opts ...KeyringOption) *KeyringStore {
	t.Helper()
	s, err := NewKeyringStore("gatehouse-test-"+randomName(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randomName(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestKeyringStore(t *testing.T) {
	runStoreTests(t, func(t *testing.T) TokenStore {
		keyring.MockInit()
		return newTestKeyringStore(t)
	})
}

// TestKeyringStoreItem: the item is the token JSON under the TokenKey.
func TestKeyringStoreItem(t *testing.T) {
	keyring.MockInit()
	s := newTestKeyringStore(t)
	tok := testToken(t)
	if err := s.Save(t.Context(), alice, tok); err != nil {
		t.Fatal(err)
	}
	secret, err := keyring.Get(s.service, `["https://id.example","app","alice"]`)
	if err != nil || !strings.Contains(secret, tok.RefreshToken) {
		t.Fatalf("the keyring item: %v", err)
	}
}

// TestKeyringStoreNeverPlaintext: an unavailable keyring, without an
// opted-in fallback, is an error; nothing is written anywhere.
func TestKeyringStoreNeverPlaintext(t *testing.T) {
	keyring.MockInitWithError(errors.New("org.freedesktop.DBus.Error.ServiceUnknown"))
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Chdir(home)
	s := newTestKeyringStore(t)
	tok := testToken(t)
	if err := s.Save(t.Context(), alice, tok); !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("Save: %v, want ErrKeyringUnavailable", err)
	}
	if _, err := s.Load(t.Context(), alice); !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("Load: %v, want ErrKeyringUnavailable", err)
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Fatalf("the store wrote %d files", len(entries))
	}
}

// TestKeyringStoreFallback: with WithFallback, an unavailable keyring
// sends the tokens to the encrypted FileStore, logged once; once the
// keyring is back, the fallback's newer tokens are read first and the next
// Save moves them to the keyring.
func TestKeyringStoreFallback(t *testing.T) {
	keyring.MockInitWithError(errors.New("org.freedesktop.DBus.Error.ServiceUnknown"))
	var logs bytes.Buffer
	dir := privateDir(t)
	fs := newTestFileStore(t, dir, testKeys(t, testKey(t)))
	s := newTestKeyringStore(t, WithFallback(fs, slog.New(slog.NewTextHandler(&logs, nil))))
	ctx := t.Context()
	tok := testToken(t)
	if err := s.Save(ctx, alice, tok); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := s.Load(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		sameToken(t, got, tok)
	}
	if _, err := s.Load(ctx, bob); !errors.Is(err, ErrNoToken) {
		t.Fatalf("Load of nothing: %v, want ErrNoToken", err)
	}
	if got, err := fs.Load(ctx, alice); err != nil || got.RefreshToken != tok.RefreshToken {
		t.Fatalf("the fallback holds no token: %v", err)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "keyring is unavailable") {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs.String())
	}
	scanFor(t, append(logs.Bytes(), dumpDir(t, dir)...), []*oauth2.Token{tok})

	keyring.MockInit() // the keyring is back, holding nothing
	got, err := s.Load(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	sameToken(t, got, tok)
	newer := testToken(t)
	if err := s.Save(ctx, alice, newer); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Load(ctx, alice); !errors.Is(err, ErrNoToken) {
		t.Fatalf("the fallback still holds the token after a Save to the keyring: %v", err)
	}
	got, err = s.Load(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	sameToken(t, got, newer)
	if err := s.Delete(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, alice); !errors.Is(err, ErrNoToken) {
		t.Fatalf("Load after Delete: %v", err)
	}
}

// hangingKeyring never answers, as a Secret Service waiting on an unlock
// prompt.
type hangingKeyring struct{ release chan struct{} }

func (h hangingKeyring) Set(string, string, string) error { <-h.release; return nil }
func (h hangingKeyring) Get(string, string) (string, error) {
	<-h.release
	return "", keyring.ErrNotFound
}
func (h hangingKeyring) Delete(string, string) error { <-h.release; return nil }

func TestKeyringStoreTimeout(t *testing.T) {
	h := hangingKeyring{release: make(chan struct{})}
	defer close(h.release)
	var logs bytes.Buffer
	fs := newTestFileStore(t, privateDir(t), testKeys(t, testKey(t)))
	for _, fallback := range []bool{false, true} {
		var opts []KeyringOption
		opts = append(opts, WithKeyringTimeout(100*time.Millisecond))
		if fallback {
			opts = append(opts, WithFallback(fs, slog.New(slog.NewTextHandler(&logs, nil))))
		}
		s := newTestKeyringStore(t, opts...)
		s.backend = h
		start := time.Now()
		err := s.Save(t.Context(), alice, testToken(t))
		if fallback != (err == nil) || (!fallback && !errors.Is(err, ErrKeyringUnavailable)) {
			t.Fatalf("fallback %v: Save: %v", fallback, err)
		}
		// The hung call holds the keyring: the next one times out waiting.
		if _, err := s.Load(t.Context(), bob); !fallback && !errors.Is(err, ErrKeyringUnavailable) {
			t.Fatalf("Load: %v, want ErrKeyringUnavailable", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("two calls took %v under a 100ms timeout", d)
		}
	}
	if !strings.Contains(logs.String(), "no answer in 100ms") {
		t.Fatalf("the fallback was not logged:\n%s", logs.String())
	}
}

func TestNewKeyringStoreRefuses(t *testing.T) {
	fs := newTestFileStore(t, privateDir(t), testKeys(t, testKey(t)))
	for name, opts := range map[string][]KeyringOption{
		"fallback without a logger": {WithFallback(fs, nil)},
		"zero timeout":              {WithKeyringTimeout(0)},
	} {
		if _, err := NewKeyringStore("svc", opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewKeyringStore(""); err == nil {
		t.Error("an empty service name: accepted")
	}
}

// envSecretService says the test runs inside dbus-run-session with an
// unlocked gnome-keyring-daemon, started by TestKeyringRealSecretService.
const envSecretService = "GATEHOUSE_TEST_SECRET_SERVICE"

// TestKeyringRealSecretService runs the conformance suite against a real
// Secret Service: it re-executes the test binary under dbus-run-session
// with gnome-keyring-daemon unlocked, in a temporary home. Under CI=true
// missing tools fail the test (.ci/run installs them).
func TestKeyringRealSecretService(t *testing.T) {
	if os.Getenv(envSecretService) == "1" {
		runStoreTests(t, func(t *testing.T) TokenStore {
			s := newTestKeyringStore(t, WithKeyringTimeout(20*time.Second))
			t.Cleanup(func() { _ = keyring.DeleteAll(s.service) })
			return s
		})
		// The store really used the Secret Service.
		s := newTestKeyringStore(t)
		if err := s.Save(t.Context(), alice, testToken(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := keyring.Get(s.service, keyringUser(alice)); err != nil {
			t.Fatalf("the Secret Service holds no item: %v", err)
		}
		_ = keyring.DeleteAll(s.service)
		return
	}
	var missing []string
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		msg := "no " + strings.Join(missing, ", ") + ": apt-get install -y --no-install-recommends dbus gnome-keyring"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (.ci/run does)")
		}
		t.Skip(msg)
	}
	home := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "dbus-run-session", "--", "sh", "-c",
		`printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$0" -test.run='^TestKeyringRealSecretService$' -test.count=1 -test.v`,
		os.Args[0])
	cmd.Env = append(os.Environ(), envSecretService+"=1", "HOME="+home, "XDG_DATA_HOME="+home+"/data",
		"XDG_RUNTIME_DIR="+home, "XDG_CACHE_HOME="+home+"/cache")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestKeyringRealSecretService")) {
		t.Fatalf("the test against a real Secret Service: %v\n%s", err, out)
	}
	t.Logf("passed against gnome-keyring-daemon:\n%s", bytes.TrimSpace(out))
}
