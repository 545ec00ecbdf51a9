package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
)

// weakKeys are what people use instead of a random server key, each with
// the reason decodeKey gives. Every one of them decodes to 32 bytes or more.
func weakKeys() []struct{ name, key, why string } {
	pattern := make([]byte, 16) // 16 different values, repeated
	counting := make([]byte, 32)
	for i := range pattern {
		pattern[i] = byte(i*37 + 11)
	}
	for i := range counting {
		counting[i] = byte(i)
	}
	passphrase := "correct horse battery staple correct horse battery"
	password := (rand.Text() + rand.Text())[:32] // random, but text
	return []struct{ name, key, why string }{
		{"all zero, hex", strings.Repeat("00", 32), "every byte is the same"},
		{"all zero, base64", base64.StdEncoding.EncodeToString(make([]byte, 32)), "every byte is the same"},
		{"one byte repeated", strings.Repeat("ab", 32), "every byte is the same"},
		{"abab… as text", hex.EncodeToString([]byte(strings.Repeat("ab", 16))), "printable characters"},
		{"deadbeef repeated", strings.Repeat("deadbeef", 8), "fewer than 16 different byte values"},
		{"16 bytes twice", hex.EncodeToString(append(pattern, pattern...)), "repeat a pattern"},
		{"counting bytes", hex.EncodeToString(counting), "step in a regular pattern"},
		{"a passphrase, base64", base64.StdEncoding.EncodeToString([]byte(passphrase)), "printable characters"},
		{"a passphrase, hex", hex.EncodeToString([]byte(passphrase)), "printable characters"},
		{"32 ASCII characters, hex", hex.EncodeToString([]byte(password)), "printable characters"},
		{"a hex key encoded again in base64", base64.StdEncoding.EncodeToString([]byte(strings.Repeat("3f9a", 16))), "printable characters"},
		{"44 times the letter a", strings.Repeat("a", 44), "fewer than 16 different byte values"},
		{"44 letters, a phrase repeated", "correcthorsebatterystaplecorrecthorsebattery", "fewer than 16 different characters"},
		{"44 letters, capitalised words", "CorrectHorseBatteryStapleCorrectHorseBattery", "fewer than 16 different characters"},
		{"44 letters, the alphabet", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR", "step through the alphabet"},
		{"43 lowercase letters", "thequickbrownfoxjumpsoverthelazydogagainnow", "all lowercase letters"},
		{"44 capitals", "CORRECTHORSEBATTERYSTAPLECORRECTHORSEBATTERY", "fewer than 16 different characters"},
		{"44 capitals, a pangram", "THEQUICKBROWNFOXJUMPSOVERTHELAZYDOGAGAINNOW", "all capitals"},
		{"44 characters of words", "ThisIsTheGatehouseServerKeyPleaseKeepItSafe1", "reads like words"},
		{"44 characters of words, lowercase", "gatehouseproductionserverkeydonotsharethis42", "reads like words"},
		{"words in camel case and a year", "MyCompanyGatehouseProductionSecretKey2024abc", "reads like words"},
		{"words in capitals and a date", "MYGATEHOUSESERVERKEYFORPRODUCTIONUSE20250101", "reads like words"},
		{"words with dashes", "my-company-gatehouse-production-key-2024-abc", "reads like words"},
		{"a password pattern", "Summer2024Summer2024Password1234Gatehouse//a", "reads like words"},
		// Found by the second outside attack.
		{"a placeholder in capitals", "YOUR_SECRET_KEY_HERE_REPLACE_WITH_RANDOM_VAL", "reads like words"},
		{"capitals with underscores", "MY_COMPANY_PRODUCTION_KEY_2024_SECRET_VALUE_", "reads like words"},
		{"capitals with dashes", "MY-COMPANY-PRODUCTION-KEY-2024-SECRET-VALUE-", "reads like words"},
		{"the digits of pi", "3141592653589793238462643383279502884197169399375105820974944592", "digits only"},
		{"a digest padded with zeros", "da39a3ee5e6b4b0d3255bfef95601890afd80709" + strings.Repeat("0", 24), "run of 8 or more equal bytes"},
		{"a two-byte counter", twoByteCounter(), "every other byte"},
	}
}

// twoByteCounter is 00 01 00 02 … 00 10 in hex.
func twoByteCounter() string {
	var b strings.Builder
	for i := 1; i <= 16; i++ {
		fmt.Fprintf(&b, "%04x", i)
	}
	return b.String()
}

// TestKeyWeakness: each weak key is refused with its reason and how to make
// a good one, and the error does not repeat the key.
func TestKeyWeakness(t *testing.T) {
	for _, c := range weakKeys() {
		t.Run(c.name, func(t *testing.T) {
			k, err := decodeKey(c.key)
			if err == nil {
				t.Fatalf("accepted a weak key (%d bytes)", len(k))
			}
			msg := err.Error()
			for _, want := range []string{"too weak", c.why, "openssl rand -hex 32"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, c.key[:16]) {
				t.Errorf("%q repeats the key", msg)
			}
		})
	}
	if _, err := decodeKey(hex.EncodeToString([]byte("short"))); err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Errorf("a short key: %v", err)
	}
}

// keyForms are the encodings a server key is accepted in, as the tools
// people use write them.
var keyForms = []struct {
	name   string
	encode func([]byte) string
}{
	{"hex (openssl rand -hex)", hex.EncodeToString},
	{"hex, capitals", func(k []byte) string { return strings.ToUpper(hex.EncodeToString(k)) }},
	{"base64 (openssl rand -base64)", base64.StdEncoding.EncodeToString},
	{"base64, no padding", base64.RawStdEncoding.EncodeToString},
	{"base64url", base64.URLEncoding.EncodeToString},
	{"base64url, no padding", base64.RawURLEncoding.EncodeToString},
	{"base64 in 64-column lines and a newline", func(k []byte) string {
		s := base64.StdEncoding.EncodeToString(k)
		if len(s) > 64 {
			s = s[:64] + "\n" + s[64:]
		}
		return s + "\n"
	}},
}

// TestRandomKeysAreNeverWeak: a million keys from crypto/rand, 32 and 64
// bytes, in every accepted encoding, are all accepted and decode to
// themselves. The rules' bounds say a false refusal happens less than once
// in 3·10^10 keys; this would see one in 10^6.
func TestRandomKeysAreNeverWeak(t *testing.T) {
	const n = 1_000_000
	start := time.Now()
	buf := make([]byte, 64)
	refused := 0
	for i := range n {
		k := buf[:32+32*(i/len(keyForms)%2)]
		_, _ = rand.Read(k)
		form := keyForms[i%len(keyForms)]
		got, err := decodeKey(form.encode(k))
		if err != nil || !bytes.Equal(got, k) {
			refused++
			if refused <= 5 {
				t.Errorf("%s, %d bytes, %x: %v", form.name, len(k), k, err)
			}
		}
	}
	if refused > 0 {
		t.Fatalf("%d of %d random keys refused", refused, n)
	}
	t.Logf("%d random keys accepted in %v", n, time.Since(start))
}
