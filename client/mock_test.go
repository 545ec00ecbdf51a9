package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/client"
)

// mockAS is a hand-written authorization server: metadata, a token
// endpoint that counts its requests and rotates refresh tokens, and a
// revocation endpoint. Fields change its answers.
type mockAS struct {
	*httptest.Server
	tokenRequests  atomic.Int64
	revokeRequests atomic.Int64
	requests       atomic.Int64 // every request but the metadata
	all            atomic.Int64 // every request

	mu       sync.Mutex
	md       map[string]any       // the metadata served
	token    func(url.Values) any // the token response; nil: issue tokens
	revoke   func(url.Values) int // the revocation status; nil: 200
	forms    []url.Values         // token request forms
	revoked  []url.Values         // revocation forms
	basic    []string             // Authorization headers of token and revocation requests
	serial   int
	scopeOut string // the scope granted; "" echoes the request
}

func newMockAS(t *testing.T) *mockAS {
	m := &mockAS{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		_ = json.NewEncoder(w).Encode(m.md)
	})
	mux.HandleFunc("POST /token", m.serveToken)
	mux.HandleFunc("POST /revoke", m.serveRevoke)
	m.Server = httptest.NewServer(countAll(&m.requests, &m.all, mux))
	t.Cleanup(m.Close)
	m.md = map[string]any{
		"issuer":                           m.URL,
		"authorization_endpoint":           m.URL + "/authorize",
		"token_endpoint":                   m.URL + "/token",
		"revocation_endpoint":              m.URL + "/revoke",
		"code_challenge_methods_supported": []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
	}
	return m
}

func countAll(n, all *atomic.Int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all.Add(1)
		if !strings.HasPrefix(r.URL.Path, "/.well-known/") {
			n.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

func (m *mockAS) serveToken(w http.ResponseWriter, r *http.Request) {
	m.tokenRequests.Add(1)
	_ = r.ParseForm()
	m.mu.Lock()
	m.forms = append(m.forms, r.PostForm)
	m.basic = append(m.basic, r.Header.Get("Authorization"))
	m.serial++
	n, answer, scope := m.serial, m.token, m.scopeOut
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if answer != nil {
		resp := answer(r.PostForm)
		if e, ok := resp.(map[string]any); ok && e["error"] != nil {
			w.WriteHeader(http.StatusBadRequest)
		}
		_ = json.NewEncoder(w).Encode(resp)
		return
	}
	if scope == "" {
		scope = "read write"
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token":  fmt.Sprintf("at-%d", n),
		"refresh_token": fmt.Sprintf("rt-%d", n),
		"token_type":    "Bearer",
		"expires_in":    3600,
		"scope":         scope,
	})
}

func (m *mockAS) serveRevoke(w http.ResponseWriter, r *http.Request) {
	m.revokeRequests.Add(1)
	_ = r.ParseForm()
	m.mu.Lock()
	m.revoked = append(m.revoked, r.PostForm)
	m.basic = append(m.basic, r.Header.Get("Authorization"))
	answer := m.revoke
	m.mu.Unlock()
	if answer != nil {
		if st := answer(r.PostForm); st != http.StatusOK {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(st)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
	}
}

// provider discovers the mock.
func (m *mockAS) provider(t *testing.T) *client.Provider {
	t.Helper()
	p, err := client.Discover(context.Background(), m.URL, client.AllowInsecureLoopback())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// publicApp is a public app of the mock with a loopback redirect URL.
func (m *mockAS) publicApp(t *testing.T) *client.PublicApp {
	return &client.PublicApp{Provider: m.provider(t), ClientID: "app-1", RedirectURL: "http://127.0.0.1:9/callback", Scopes: []string{"read", "write"}}
}
