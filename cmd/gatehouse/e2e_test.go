package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

type createdApp struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// createApp runs 'gatehouse app create' beside the running server.
func createApp(t testing.TB, dataDir string, args ...string) createdApp {
	t.Helper()
	return createAppWith(t, dataDir, nil, args...)
}

// createAppWith is createApp with environment variables (another database).
func createAppWith(t testing.TB, dataDir string, vars map[string]string, args ...string) createdApp {
	t.Helper()
	code, out, errOut := runCmd(t, dataDir, vars, "", append([]string{"app", "create", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("app create: exit %d: %s", code, errOut)
	}
	var a createdApp
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("app create output: %v", err)
	}
	return a
}

// postForm sends a form with Basic authentication and returns status and body.
func postForm(t *testing.T, endpoint, clientID, clientSecret string, form url.Values) (int, map[string]any) {
	t.Helper()
	status, m, err := sendForm(t.Context(), endpoint, clientID, clientSecret, form)
	if err != nil {
		t.Fatal(err)
	}
	return status, m
}

// sendForm is postForm for a goroutine, which must not stop the test: it
// returns the failure to send, or to read a JSON body, as an error.
func sendForm(ctx context.Context, endpoint, clientID, clientSecret string, form url.Values) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			return 0, nil, fmt.Errorf("%s answered %d with a non-JSON body", endpoint, resp.StatusCode)
		}
	}
	return resp.StatusCode, m, nil
}

// TestEndToEndClientCredentials drives the real server over HTTP with
// golang.org/x/oauth2/clientcredentials as an independent client, then
// introspects and revokes the token, and finally checks that neither the
// database files nor the logs hold any token or secret (DESIGN invariants 6
// and 8).
func TestEndToEndClientCredentials(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, nil, "--dev", "--log-level", "debug")
	if code, _, errOut := runCmd(t, dir, nil, "", "scope", "create", "reports:read", "--description", "Read reports"); code != 0 {
		t.Fatalf("scope create: %s", errOut)
	}
	app := createApp(t, dir, "--name", "Billing", "--type", "confidential", "--scope", "reports:read,read", "--grant", "client_credentials")
	rs := createApp(t, dir, "--name", "Reports API", "--type", "confidential", "--resource-server", "--grant", "client_credentials")
	var secrets []string
	secrets = append(secrets, app.ClientSecret, rs.ClientSecret)

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{
			ClientID: app.ClientID, ClientSecret: app.ClientSecret,
			TokenURL: srv.URL + "/token", Scopes: []string{"reports:read"}, AuthStyle: style,
		}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatalf("client credentials (auth style %d): %v", style, err)
		}
		secrets = append(secrets, tok.AccessToken)
		if tok.TokenType != "Bearer" || tok.Extra("scope") != "reports:read" || tok.Expiry.IsZero() {
			t.Fatalf("token response: type %q scope %v expiry %v", tok.TokenType, tok.Extra("scope"), tok.Expiry)
		}

		// The app introspects its own token, and so does the resource server.
		for _, caller := range []createdApp{app, rs} {
			status, body := postForm(t, srv.URL+"/introspect", caller.ClientID, caller.ClientSecret, url.Values{"token": {tok.AccessToken}})
			if status != 200 || body["active"] != true || body["client_id"] != app.ClientID || body["scope"] != "reports:read" {
				t.Fatalf("introspect by %s: %d %v", caller.ClientID, status, body)
			}
			if _, ok := body["sub"]; ok {
				t.Fatal("a client credentials token has a sub: it could pass for a user (RFC 9700 §4.15)")
			}
		}

		status, _ := postForm(t, srv.URL+"/revoke", app.ClientID, app.ClientSecret, url.Values{"token": {tok.AccessToken}})
		if status != 200 {
			t.Fatalf("revoke: %d", status)
		}
		status, body := postForm(t, srv.URL+"/introspect", rs.ClientID, rs.ClientSecret, url.Values{"token": {tok.AccessToken}})
		if status != 200 || len(body) != 1 || body["active"] != false {
			t.Fatalf("introspect after revoke: %d %v", status, body)
		}
	}

	// The demo backend seeded by --dev works too, and its secret was printed
	// once on stdout.
	if !strings.Contains(srv.Stdout.String(), "client_secret") {
		t.Fatal("serve --dev did not print how to try it")
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("serve exited with %d after graceful shutdown: %s", code, srv.Stderr.String())
	}
	assertNoSecretsIn(t, "the database files", readDir(t, dir), secrets)
	assertNoSecretsIn(t, "the server log", []byte(srv.Stderr.String()), secrets)
}

func readDir(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		found = found || strings.HasPrefix(e.Name(), "gatehouse.db")
		all = append(all, b...)
	}
	if !found {
		t.Fatal("no database file in the data directory")
	}
	return all
}

// assertNoSecretsIn fails if haystack holds any of the secrets, or a part of
// one long enough to matter, in any common encoding.
func assertNoSecretsIn(t *testing.T, what string, haystack []byte, secrets []string) {
	t.Helper()
	for i, s := range secrets {
		if s == "" {
			t.Fatalf("secret %d is empty", i)
		}
		body := s[7 : len(s)-6] // the random part, without prefix and checksum
		forms := map[string][]byte{
			"raw":            []byte(s),
			"random part":    []byte(body[:24]),
			"hex":            []byte(hex.EncodeToString([]byte(s))),
			"HEX":            []byte(strings.ToUpper(hex.EncodeToString([]byte(s)))),
			"base64":         []byte(base64.StdEncoding.EncodeToString([]byte(s))[:40]),
			"base64url":      []byte(base64.RawURLEncoding.EncodeToString([]byte(s))[:40]),
			"utf-16":         utf16le(s),
			"decoded base62": decodeBase62(body)[:16],
		}
		for name, f := range forms {
			if strings.Contains(string(haystack), string(f)) {
				t.Errorf("%s contain secret %d (%s)", what, i, name)
			}
		}
	}
}

func utf16le(s string) []byte {
	out := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i], 0)
	}
	return out
}

func decodeBase62(s string) []byte {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	n := make([]byte, 32)
	for i := 0; i < len(s); i++ {
		carry := strings.IndexByte(alphabet, s[i])
		for j := len(n) - 1; j >= 0; j-- {
			v := int(n[j])*62 + carry
			n[j] = byte(v)
			carry = v >> 8
		}
	}
	return n
}
