package client_test

import (
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/client"
)

func TestNAT_7_1_a_RedirectURLs(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"com.example.app:/oauth2redirect", true},
		{"https://app.example.test/callback", true},
		{"http://127.0.0.1:8080/callback", true},
		{"http://[::1]:8080/callback", true},
		{"myapp://cb", false},
		{"myapp:/cb", false},            // not a reverse domain
		{"com.example.app://cb", false}, // two slashes
		{"com.example.app:cb", false},
		{"http://app.example.test/callback", false},
		{"http://localhost:8080/callback", false}, // RFC 8252 §8.3: an IP literal
		{"https://app.example.test/cb#x", false},
		{"https:///cb", false},
		{"", false},
	} {
		err := client.CheckRedirectURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && !errors.Is(err, client.ErrConfig) {
			t.Errorf("%q: %v is not ErrConfig", tc.url, err)
		}
	}
}

// No "all scopes" default: an app without Scopes cannot start a flow.
func TestScopesRequired(t *testing.T) {
	app := newMockAS(t).publicApp(t)
	app.Scopes = nil
	if _, _, err := app.AuthCodeURL(""); !errors.Is(err, client.ErrConfig) {
		t.Errorf("no scopes: %v", err)
	}
	conf := &client.ConfidentialApp{Provider: app.Provider, ClientID: "c", RedirectURL: "https://app.test/cb", Scopes: []string{"read"}}
	if _, _, err := conf.AuthCodeURL(""); !errors.Is(err, client.ErrConfig) {
		t.Errorf("no secret: %v", err)
	}
}
