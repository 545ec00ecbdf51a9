package main

import (
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
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetParallelism(16) // 16 × GOMAXPROCS concurrent clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", srv.URL+"/token", strings.NewReader(body))
			req.Header.Set("Content-Type", formCT)
			req.Header.Set("Authorization", auth)
			resp, err := client.Do(req)
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
