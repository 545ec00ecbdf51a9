package client

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFromEnv(t *testing.T) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	want, err := newKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{
		"hex":            hex.EncodeToString(raw),
		"HEX":            strings.ToUpper(hex.EncodeToString(raw)),
		"base64":         base64.StdEncoding.EncodeToString(raw),
		"base64 raw":     base64.RawStdEncoding.EncodeToString(raw),
		"base64url":      base64.URLEncoding.EncodeToString(raw),
		"base64url raw":  base64.RawURLEncoding.EncodeToString(raw),
		"with a newline": hex.EncodeToString(raw) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("GATEHOUSE_TEST_KEY", v)
			k, err := KeyFromEnv("GATEHOUSE_TEST_KEY")
			if err != nil || k.ID() != want.ID() {
				t.Fatalf("KeyFromEnv: %v, %v; want key %s", k, err, want.ID())
			}
		})
	}
	for name, v := range map[string]string{
		"unset":     "",
		"short":     hex.EncodeToString(raw[:16]),
		"not hex":   strings.Repeat("zz", 32),
		"zeros":     strings.Repeat("00", 32),
		"passworld": "correct horse battery staple",
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			t.Setenv("GATEHOUSE_TEST_KEY", v)
			_, err := KeyFromEnv("GATEHOUSE_TEST_KEY")
			if err == nil {
				t.Fatal("KeyFromEnv accepted it")
			}
			if v != "" && strings.Contains(err.Error(), v) {
				t.Fatalf("the error shows the value: %v", err)
			}
		})
	}
}

func TestKeyFromFile(t *testing.T) {
	dir := t.TempDir()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	want, _ := newKey(raw)
	for name, content := range map[string][]byte{
		"raw":    raw,
		"hex":    []byte(hex.EncodeToString(raw) + "\n"),
		"base64": []byte(base64.StdEncoding.EncodeToString(raw) + "\n"),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := KeyFromFile(path)
		if err != nil || k.ID() != want.ID() {
			t.Fatalf("%s: KeyFromFile: %v, %v", name, k, err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := KeyFromFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("%s: KeyFromFile of a 0644 file: %v, want a refusal", name, err)
		}
	}
}

// TestKeyRedacted: neither a Key nor a Keys shows the key in any output.
func TestKeyRedacted(t *testing.T) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	k, _ := newKey(raw)
	ks := testKeys(t, k, testKey(t))
	var out bytes.Buffer
	for _, v := range []any{k, &k, ks, *ks, struct{ K Key }{k}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		fmt.Fprintln(&out, v)
		b, _ := json.Marshal(v)
		out.Write(b)
	}
	slog.New(slog.NewTextHandler(&out, nil)).Info("k", "key", k, "keys", ks)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("k", "key", k, "keys", ks)
	for enc, form := range map[string]string{"raw": string(raw), "hex": hex.EncodeToString(raw), "base64": base64.StdEncoding.EncodeToString(raw)} {
		if strings.Contains(out.String(), form) {
			t.Errorf("the key shows %s", enc)
		}
	}
	if !strings.Contains(out.String(), "[redacted key "+k.ID()+"]") {
		t.Errorf("the output does not name the key by id:\n%s", out.String())
	}
}

func TestNewKeysRefuses(t *testing.T) {
	k := testKey(t)
	if _, err := NewKeys(Key{}); err == nil {
		t.Error("NewKeys accepted a zero key")
	}
	if _, err := NewKeys(k, k); err == nil {
		t.Error("NewKeys accepted a key twice")
	}
}

// TestScanFindsEncodedTokens: the scan of the store tests finds a token in
// every encoding it claims to look for, also inside a longer encoding.
func TestScanFindsEncodedTokens(t *testing.T) {
	tok := testToken(t)
	for _, prefix := range []string{"", "x", "xy", "xyz"} {
		for name, enc := range map[string]*base64.Encoding{"std": base64.StdEncoding, "url": base64.RawURLEncoding} {
			raw := []byte("{" + enc.EncodeToString([]byte(prefix+tok.RefreshToken+"}")) + "}")
			found := false
			for _, form := range encodings(tok.RefreshToken) {
				found = found || bytes.Contains(raw, []byte(form))
			}
			if !found {
				t.Errorf("base64 %s after %d bytes: not found", name, len(prefix))
			}
		}
	}
}

// A Key in an unexported field prints its id and an address, never the
// cipher's key schedule (client-review finding 8).
func TestKeyInUnexportedFieldPrintsNoMaterial(t *testing.T) {
	k := testKey(t)
	type config struct{ key Key }
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		// The cipher's state printed by reflection is hundreds of bytes.
		if out := fmt.Sprintf(verb, config{k}); len(out) > 200 || !strings.Contains(out, "0x") {
			t.Errorf("%s prints more than an id and an address: %s", verb, out)
		}
	}
}
