package ratelimit

import (
	"net/http/httptest"
	"testing"
)

// BCP-4.13-a: forwarded headers count only from a trusted proxy.
func TestClientIP(t *testing.T) {
	ps, err := ParseProxies([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer, xff, want string
	}{
		{"direct client", "203.0.113.5:1000", "", "203.0.113.5"},
		{"untrusted peer's header is ignored", "203.0.113.5:1000", "10.9.9.9", "203.0.113.5"},
		{"trusted proxy", "10.0.0.1:1000", "198.51.100.4", "198.51.100.4"},
		{"spoofed left entries are ignored", "10.0.0.1:1000", "1.2.3.4, 198.51.100.4", "198.51.100.4"},
		{"chain of trusted proxies", "192.0.2.7:1000", "198.51.100.4, 10.1.1.1", "198.51.100.4"},
		{"malformed chain", "10.0.0.1:1000", "nonsense", "10.0.0.1"},
		{"proxy without header", "10.0.0.1:1000", "", "10.0.0.1"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := ps.ClientIP(r); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	if _, err := ParseProxies([]string{"not-an-ip"}); err == nil {
		t.Fatal("a bad proxy address was accepted")
	}
}
