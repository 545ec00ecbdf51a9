package ratelimit

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// BCP-4.13-a: forwarded headers count only from a trusted proxy; entries
// with ports are read; an entry that is no address makes the caller
// Unknown, never the proxy (every user behind it would share one bucket)
// and never the entry the client wrote to its left.
func TestCaller(t *testing.T) {
	ps, err := ParseProxies([]string{"10.0.0.0/8", "192.0.2.7", "2001:db8:ffff::/48"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer, xff, addr, key string
		ignored                    bool
	}{
		{"direct client", "203.0.113.5:1000", "", "203.0.113.5", "203.0.113.5", false},
		{"untrusted peer's header is ignored", "203.0.113.5:1000", "10.9.9.9", "203.0.113.5", "203.0.113.5", true},
		{"trusted proxy", "10.0.0.1:1000", "198.51.100.4", "198.51.100.4", "198.51.100.4", false},
		{"spoofed left entries are ignored", "10.0.0.1:1000", "1.2.3.4, 198.51.100.4", "198.51.100.4", "198.51.100.4", false},
		{"chain of trusted proxies", "192.0.2.7:1000", "198.51.100.4, 10.1.1.1", "198.51.100.4", "198.51.100.4", false},
		{"ip:port", "10.0.0.1:1000", "198.51.100.4:51234", "198.51.100.4", "198.51.100.4", false},
		{"[v6]:port", "10.0.0.1:1000", "[2001:db8:1:2::7]:443", "2001:db8:1:2::7", "2001:db8:1:2::/64", false},
		{"[v6]", "10.0.0.1:1000", "[2001:db8:1:2::7]", "2001:db8:1:2::7", "2001:db8:1:2::/64", false},
		{"v6 by its /64", "10.0.0.1:1000", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64", false},
		{"v4-mapped v6", "10.0.0.1:1000", "::ffff:198.51.100.4", "198.51.100.4", "198.51.100.4", false},
		{"unknown", "10.0.0.1:1000", "unknown", Unknown, Unknown, false},
		{"garbage", "10.0.0.1:1000", "nonsense", Unknown, Unknown, false},
		{"obfuscated after a spoofable entry", "10.0.0.1:1000", "198.51.100.4, _hidden", Unknown, Unknown, false},
		{"garbage left of the client is not read", "10.0.0.1:1000", "nonsense, 198.51.100.4", "198.51.100.4", "198.51.100.4", false},
		{"proxy without header", "10.0.0.1:1000", "", "10.0.0.1", "10.0.0.1", false},
		{"v6 peer", "[2001:db8:5:6::1]:1000", "", "2001:db8:5:6::1", "2001:db8:5:6::/64", false},
		{"trusted v6 proxy", "[2001:db8:ffff::1]:1000", "203.0.113.9", "203.0.113.9", "203.0.113.9", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		got := ps.Caller(r)
		if got.Addr != c.addr || got.Key != c.key || got.IgnoredForward != c.ignored {
			t.Errorf("%s: got %+v, want addr %s key %s ignored %v", c.name, got, c.addr, c.key, c.ignored)
		}
	}
	if _, err := ParseProxies([]string{"not-an-ip"}); err == nil {
		t.Fatal("a bad proxy address was accepted")
	}
}

// Two addresses of one /64 share a key; the next /64 does not (positive
// control).
func TestLimitKeyIPv6By64(t *testing.T) {
	a := LimitKey(netip.MustParseAddr("2001:db8:0:1::1"))
	b := LimitKey(netip.MustParseAddr("2001:db8:0:1:ffff:ffff:ffff:ffff"))
	c := LimitKey(netip.MustParseAddr("2001:db8:0:2::1"))
	if a != b || a == c {
		t.Fatalf("keys %s %s %s", a, b, c)
	}
	if LimitKey(netip.MustParseAddr("192.0.2.1")) == LimitKey(netip.MustParseAddr("192.0.2.2")) {
		t.Fatal("two IPv4 addresses share a key")
	}
}

// Remember attaches the Caller once; Caller reads it back.
func TestRemember(t *testing.T) {
	var ps Proxies
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "203.0.113.5:1000"
	r = ps.Remember(r)
	r.RemoteAddr = "198.51.100.1:1"
	if got := ps.Caller(r).Addr; got != "203.0.113.5" {
		t.Fatalf("Caller after Remember: %s", got)
	}
}
