package main

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Attack tests for security finding 10 (weak server keys), each beside the
// positive control that a server refusing everything would fail.

// wantKeyRefusal checks a refused start: a non-zero exit, one line that
// says why and how to make a good key, and not the key itself.
func wantKeyRefusal(t *testing.T, code int, errOut, key string, says ...string) {
	t.Helper()
	if code == 0 || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q: want a one-line refusal", code, errOut)
	}
	for _, w := range says {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr %q does not say %q", errOut, w)
		}
	}
	if strings.Contains(errOut, strings.TrimSpace(key)[:16]) {
		t.Errorf("stderr %q repeats the key", errOut)
	}
}

// A production server does not start on a weak key, given in
// GATEHOUSE_SECRET_KEY or in GATEHOUSE_SECRET_KEY_FILE, and an
// administration command does not use one either. Random keys, in every
// accepted encoding, start it.
func TestWeakServerKeysAreRefused(t *testing.T) {
	dir := t.TempDir()
	keyDir := t.TempDir()
	for _, c := range weakKeys() {
		t.Run(c.name, func(t *testing.T) {
			vars := map[string]string{"GATEHOUSE_SECRET_KEY": c.key}
			code, errOut := runRefused(t, dir, vars, "serve", "--addr", "127.0.0.1:0", "--issuer", "https://id.example.com")
			wantKeyRefusal(t, code, errOut, c.key, "GATEHOUSE_SECRET_KEY", "too weak", c.why, "openssl rand -hex 32")

			file := filepath.Join(keyDir, "key")
			if err := os.WriteFile(file, []byte(c.key+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			vars = map[string]string{"GATEHOUSE_SECRET_KEY_FILE": file}
			code, errOut = runRefused(t, dir, vars, "serve", "--addr", "127.0.0.1:0", "--issuer", "https://id.example.com")
			wantKeyRefusal(t, code, errOut, c.key, "GATEHOUSE_SECRET_KEY_FILE "+file, "too weak", c.why)

			code, _, errOut = runCmd(t, dir, vars, "", "app", "list")
			wantKeyRefusal(t, code, errOut, c.key, "too weak", c.why)
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused start wrote %d files", len(entries))
	}
	k := make([]byte, 32)
	for _, form := range keyForms {
		_, _ = rand.Read(k)
		vars := map[string]string{"GATEHOUSE_SECRET_KEY": form.encode(k)}
		srv := startServer(t, t.TempDir(), vars, "--issuer", "https://id.example.com")
		if r := send(t, "GET", srv.URL+"/healthz", "", "", nil); r.status != 200 {
			t.Fatalf("a random key in %s: healthz %d", form.name, r.status)
		}
		srv.stop()
	}
}
