package main

import (
	"crypto/rand"
	"errors"
	"io/fs"
	"net"
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

// writeKeyFile writes a random key to a new file of exactly mode perm
// (whatever the umask) and returns its path and the key.
func writeKeyFile(t *testing.T, perm os.FileMode) (string, string) {
	t.Helper()
	key := randomHexKey(t)
	path := filepath.Join(t.TempDir(), "gatehouse.key")
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path, key
}

// A key file that other users can read (or change) is refused, by serve
// and by the administration commands, with the path and the fix; one that
// its group can read starts with one warning; a private one starts
// without a word.
func TestKeyFileReadableByOthersIsRefused(t *testing.T) {
	for _, perm := range []os.FileMode{0o644, 0o604, 0o602, 0o666} {
		path, key := writeKeyFile(t, perm)
		vars := map[string]string{"GATEHOUSE_SECRET_KEY_FILE": path}
		code, errOut := runRefused(t, t.TempDir(), vars, "serve", "--addr", "127.0.0.1:0", "--issuer", "https://id.example.com")
		wantKeyRefusal(t, code, errOut, key, path+" can be read or changed by other users", "chmod 600 "+path)
	}

	path, key := writeKeyFile(t, 0o640)
	vars := map[string]string{"GATEHOUSE_SECRET_KEY_FILE": path}
	srv := startServer(t, t.TempDir(), vars, "--issuer", "https://id.example.com")
	srv.stop()
	if warns := linesWith(srv.Stderr.String(), path); len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") ||
		!strings.Contains(warns[0], "can be read or changed by its group") || !strings.Contains(warns[0], "chmod 600") {
		t.Errorf("a group-readable key file: %q, want one warning", warns)
	}
	assertNoSecretsIn(t, "the server log", []byte(srv.Stderr.String()), []string{key})

	path, _ = writeKeyFile(t, 0o600)
	vars = map[string]string{"GATEHOUSE_SECRET_KEY_FILE": path}
	// With a trusted proxy, as behind TLS it should be: no other warning.
	srv = startServer(t, t.TempDir(), vars, "--issuer", "https://id.example.com", "--trusted-proxy", "10.0.0.1")
	srv.stop()
	if strings.Contains(srv.Stderr.String(), "level=WARN") {
		t.Errorf("a private key file: %s", srv.Stderr.String())
	}
}

// The key file serve --dev made is held to the same rule, by the dev
// server and by the commands that use it.
func TestDevKeyFileReadableByOthersIsRefused(t *testing.T) {
	dir := t.TempDir()
	startServer(t, dir, nil, "--dev").stop()
	path := filepath.Join(dir, keyFileName)
	if code, out, errOut := runCmd(t, dir, nil, "", "app", "list"); code != 0 || errOut != "" {
		t.Fatalf("app list beside a private dev key file: exit %d %q %q", code, out, errOut)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	code, errOut := runRefused(t, dir, nil, "serve", "--addr", "127.0.0.1:0", "--dev")
	wantKeyRefusal(t, code, errOut, string(key), path+" can be read or changed by other users", "chmod 600 "+path)
	code, _, errOut = runCmd(t, dir, nil, "", "app", "list")
	wantKeyRefusal(t, code, errOut, string(key), path+" can be read or changed by other users")

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCmd(t, dir, nil, "", "app", "list")
	if code != 0 || len(linesWith(errOut, path)) != 1 || !strings.HasPrefix(errOut, "gatehouse: warning: ") {
		t.Errorf("app list beside a group-readable dev key file: exit %d %q, want one warning", code, errOut)
	}
}

// linesWith returns the lines of s that contain sub.
func linesWith(s, sub string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// serve --dev, plain http with a demo account, refuses to listen anywhere
// but on loopback, and says so before it creates its data directory or key
// file. Loopback addresses start it (the positive control), and a
// production server may listen on every interface.
func TestDevServerRefusesANonLoopbackAddr(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.168.1.20:8080", "10.0.0.5:0", "example.com:8080", "localhost.example.com:0", "gatehouse.local:0"} {
		dir := filepath.Join(t.TempDir(), "data")
		code, errOut := runRefused(t, dir, nil, "serve", "--dev", "--addr", addr)
		if code == 0 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--addr "+addr+" is not a loopback address") {
			t.Errorf("serve --dev --addr %s: exit %d %q, want a one-line refusal", addr, code, errOut)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("serve --dev --addr %s created its data directory before refusing", addr)
		}
	}
	// Found by the second outside attack: a bad port after the key was
	// made, and /metrics on another interface.
	for _, args := range [][]string{{"--addr", "127.0.0.1:8080 "}, {"--addr", "127.0.0.1:http"}, {"--metrics-addr", "0.0.0.0:0"}} {
		dir := filepath.Join(t.TempDir(), "data")
		code, errOut := runRefused(t, dir, nil, append([]string{"serve", "--dev"}, args...)...)
		if code == 0 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, args[0]) {
			t.Errorf("serve --dev %q: exit %d %q, want a one-line refusal", args, code, errOut)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("serve --dev %q created its data directory before refusing", args)
		}
	}
	loopback := []string{"127.0.0.1:0", "localhost:0"}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		loopback = append(loopback, "[::1]:0")
	} else {
		t.Log("no IPv6 loopback here: [::1] not tried")
	}
	for _, addr := range loopback {
		srv := startServer(t, t.TempDir(), nil, "--dev", "--addr", addr)
		if r := send(t, "GET", srv.URL+"/healthz", "", "", nil); r.status != 200 {
			t.Errorf("serve --dev --addr %s: healthz %d", addr, r.status)
		}
		srv.stop()
	}
	vars := map[string]string{"GATEHOUSE_SECRET_KEY": randomHexKey(t)}
	startServer(t, t.TempDir(), vars, "--addr", "0.0.0.0:0", "--issuer", "https://id.example.com").stop()
}

// A file far larger than any key (a log, a database named by mistake) is
// refused without being read into memory; a key file is read (the
// positive control is every other test that starts a server from one).
func TestHugeKeyFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.key")
	if err := os.WriteFile(path, append([]byte(randomHexKey(t)+"\n"), make([]byte, 1<<20)...), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"GATEHOUSE_SECRET_KEY_FILE": path}
	code, errOut := runRefused(t, t.TempDir(), vars, "serve", "--addr", "127.0.0.1:0", "--issuer", "https://id.example.com")
	if code == 0 || !strings.Contains(errOut, "not a key file") {
		t.Fatalf("a 1 MiB key file: exit %d %q", code, errOut)
	}
	small, _ := writeKeyFile(t, 0o600)
	getenv := func(name string) string { return map[string]string{"GATEHOUSE_SECRET_KEY_FILE": small}[name] }
	if k, _, err := loadKey(getenv, ""); err != nil || len(k) != 32 {
		t.Fatalf("a key file: %d bytes, %v", len(k), err)
	}
}
