package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func BenchmarkVerifyPKCE(b *testing.B) {
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	for b.Loop() {
		if !VerifyPKCE(verifier, challenge) {
			b.Fatal("mismatch")
		}
	}
}

func BenchmarkMatchRedirectURI(b *testing.B) {
	app := gatehouse.App{Type: gatehouse.Public, RedirectURIs: []string{"https://spa.example/cb", "http://127.0.0.1/cb", "http://[::1]/cb"}}
	for _, c := range []struct{ name, uri string }{
		{"exact", "https://spa.example/cb"},
		{"loopback any port", "http://[::1]:51004/cb"},
		{"refused", "https://evil.example/cb"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				MatchRedirectURI(app, c.uri)
			}
		})
	}
}

func BenchmarkParseScope(b *testing.B) {
	for b.Loop() {
		if _, err := ParseScope("read write reports:read"); err != nil {
			b.Fatal(err)
		}
	}
}
