package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/client"
)

// META-3.3-b: a document naming another issuer is refused, and no
// endpoint it names is contacted.
func TestMETA_3_3_b_IssuerMismatchRefused(t *testing.T) {
	for name, issuer := range map[string]func(string) string{
		"another issuer": func(string) string { return "https://evil.test" },
		"trailing slash": func(u string) string { return u + "/" },
		"upper case":     func(u string) string { return strings.ToUpper(u) },
	} {
		t.Run(name, func(t *testing.T) {
			as := newMockAS(t)
			as.md["issuer"] = issuer(as.URL)
			_, err := client.Discover(context.Background(), as.URL, client.AllowInsecureLoopback())
			if !errors.Is(err, client.ErrIssuerMismatch) {
				t.Errorf("error %v", err)
			}
			if n := as.requests.Load(); n != 0 {
				t.Errorf("%d requests besides the metadata", n)
			}
		})
	}
	// Asked for with a trailing slash, served without: refused too.
	as := newMockAS(t)
	if _, err := client.Discover(context.Background(), as.URL+"/", client.AllowInsecureLoopback()); !errors.Is(err, client.ErrIssuerMismatch) {
		t.Errorf("trailing slash asked for: %v", err)
	}
}

func TestDiscoverEndpointOnAnotherOrigin(t *testing.T) {
	as := newMockAS(t)
	as.md["token_endpoint"] = "https://tokens.example.test/token"
	if _, err := client.Discover(context.Background(), as.URL, client.AllowInsecureLoopback()); err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Errorf("another origin: %v", err)
	}
	p, err := client.Discover(context.Background(), as.URL, client.AllowInsecureLoopback(), client.AllowEndpointOrigin("https://tokens.example.test"))
	if err != nil || p.TokenEndpoint != "https://tokens.example.test/token" {
		t.Errorf("allowed origin: %v", err)
	}
	if as.requests.Load() != 0 {
		t.Error("an endpoint was contacted")
	}
}

// O21-7.1.3.2-a: an http issuer needs AllowInsecureLoopback, and is never
// allowed off loopback; nothing is fetched.
func TestO21_7_1_3_2_a_HTTPIssuerRefused(t *testing.T) {
	as := newMockAS(t)
	for _, tc := range []struct {
		issuer string
		opts   []client.DiscoverOption
	}{
		{as.URL, nil},
		{"http://as.example.test", []client.DiscoverOption{client.AllowInsecureLoopback()}},
	} {
		if _, err := client.Discover(context.Background(), tc.issuer, tc.opts...); err == nil || !strings.Contains(err.Error(), "not https") {
			t.Errorf("%s: %v", tc.issuer, err)
		}
	}
	if n := as.all.Load(); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestDiscoverRequiresS256(t *testing.T) {
	as := newMockAS(t)
	as.md["code_challenge_methods_supported"] = []string{"plain"}
	if _, err := client.Discover(context.Background(), as.URL, client.AllowInsecureLoopback()); err == nil {
		t.Error("a server without S256 was accepted")
	}
}

// O21-7.1.3.2-a: the certificate chain and the host name are validated
// before anything is sent. A server with a certificate no root signs (a
// self-signed test certificate) is refused by the default client, and so
// is a trusted certificate presented under another host name; with the
// certificate trusted and the right name (the positive control) discovery
// works.
func TestO21_7_1_3_2_a_CertificateValidated(t *testing.T) {
	var hits atomic.Int64
	var issuer string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/authorize",
			"token_endpoint": issuer + "/token", "code_challenge_methods_supported": []string{"S256"}})
	}))
	defer srv.Close()
	issuer = srv.URL // https://127.0.0.1:PORT, the name the test certificate holds
	if _, err := client.Discover(t.Context(), issuer); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a self-signed certificate: %v, want a certificate error", err)
	}
	trusted := srv.Client() // trusts the test certificate
	// The test certificate names 127.0.0.1 and example.com: "localhost"
	// is another host name.
	other := strings.Replace(issuer, "127.0.0.1", "localhost", 1)
	if _, err := client.Discover(t.Context(), other, client.WithHTTPClient(trusted)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a certificate for another host name: %v, want a certificate error", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the handler past a bad certificate", n)
	}
	if _, err := client.Discover(t.Context(), issuer, client.WithHTTPClient(trusted)); err != nil {
		t.Fatalf("a trusted certificate with the right name: %v", err)
	}
}
