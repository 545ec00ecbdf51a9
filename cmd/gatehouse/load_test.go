package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkClientCredentialsHTTP measures client credentials issuance over
// loopback HTTP against the real server (SQLite file, client_secret_basic),
// with b.RunParallel's goroutines as concurrent clients. Requests per second
// = 1e9 / (ns/op). Run with:
//
//	go test ./cmd/gatehouse -run '^$' -bench ClientCredentialsHTTP -cpu 2 -benchtime 5s
func BenchmarkClientCredentialsHTTP(b *testing.B) {
	dir := b.TempDir()
	srv := startServer(b, dir, nil, "--dev", "--log-level", "warn")
	app := createApp(b, dir, "--name", "Load", "--type", "confidential", "--scope", "read", "--grant", "client_credentials")
	auth := basicAuth(app.ClientID, app.ClientSecret)
	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	hammer(b, func() *http.Request {
		req, _ := http.NewRequest("POST", srv.URL+"/token", strings.NewReader(body))
		req.Header.Set("Content-Type", formCT)
		req.Header.Set("Authorization", auth)
		return req
	})
}

// BenchmarkIntrospectHTTP measures introspection of a valid token over
// loopback HTTP by a resource server (client_secret_basic).
func BenchmarkIntrospectHTTP(b *testing.B) {
	dir := b.TempDir()
	srv := startServer(b, dir, nil, "--dev", "--log-level", "warn")
	app := createApp(b, dir, "--name", "Load", "--type", "confidential", "--scope", "read", "--grant", "client_credentials")
	rs := createApp(b, dir, "--name", "RS", "--type", "confidential", "--resource-server", "--grant", "client_credentials")
	token := issueForBench(b, srv.URL, app)
	auth := basicAuth(rs.ClientID, rs.ClientSecret)
	body := url.Values{"token": {token}}.Encode()
	hammer(b, func() *http.Request {
		req, _ := http.NewRequest("POST", srv.URL+"/introspect", strings.NewReader(body))
		req.Header.Set("Content-Type", formCT)
		req.Header.Set("Authorization", auth)
		return req
	})
}

func issueForBench(b *testing.B, base string, app createdApp) string {
	req, _ := http.NewRequest("POST", base+"/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", formCT)
	req.Header.Set("Authorization", basicAuth(app.ClientID, app.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.AccessToken == "" {
		b.Fatalf("token: %v", err)
	}
	return v.AccessToken
}

// hammer sends newReq's requests from 16 × GOMAXPROCS concurrent clients
// and fails on any answer but 200.
func hammer(b *testing.B, newReq func() *http.Request) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Do(newReq())
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
