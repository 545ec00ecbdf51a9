package ratelimit

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies whose X-Forwarded-For header is trusted.
type Proxies []netip.Prefix

// ParseProxies parses CIDR prefixes or single addresses.
func ParseProxies(list []string) (Proxies, error) {
	var out Proxies
	for _, s := range list {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (ps Proxies) trusted(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// Unknown is the address of a client that a trusted proxy could not name
// ("unknown", an obfuscated identifier or garbage in X-Forwarded-For).
const Unknown = "unknown"

// Caller is where a request came from, decided once per request.
type Caller struct {
	// Addr is the client's address for logs: the TCP peer, or behind a
	// trusted proxy the forwarded client, or Unknown.
	Addr string
	// Key is the address as limits count it: an IPv6 client by its /64
	// (one subscriber's whole prefix), an IPv4 client by its address.
	Key string
	// IgnoredForward is set when a peer that is not a trusted proxy sent
	// X-Forwarded-For: the header was ignored.
	IgnoredForward bool
}

type callerKey struct{}

// Remember returns r with its Caller attached, so that every later
// reader of ps.Caller(r) gets the same answer without working it out again.
func (ps Proxies) Remember(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, ps.caller(r)))
}

// CallerFrom returns the Caller that Remember attached to a request, from
// its context: for code that has the context and not the request (the
// audit log's source address).
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Caller returns where r came from: the Caller that Remember attached, or
// else the one worked out now.
func (ps Proxies) Caller(r *http.Request) Caller {
	if c, ok := r.Context().Value(callerKey{}).(Caller); ok {
		return c
	}
	return ps.caller(r)
}

// ClientIP is Caller(r).Addr.
func (ps Proxies) ClientIP(r *http.Request) string { return ps.Caller(r).Addr }

// caller works out the client of r: the TCP peer, or, when the peer is a
// trusted proxy, the rightmost X-Forwarded-For entry that is not a trusted
// proxy. Forwarded headers from anyone else are ignored (RFC 9700 §4.13).
// Entries may carry a port (1.2.3.4:5678, [2001:db8::1]:443). An entry that
// is no address ("unknown", "_hidden", garbage) where the client should be
// means that the proxy could not name the client: the caller is Unknown,
// with a bucket of its own. It is neither the proxy's address (which would
// put every user behind it in one bucket) nor the entry to its left (which
// the client wrote itself, and could choose at will).
func (ps Proxies) caller(r *http.Request) Caller {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return Caller{Addr: host, Key: host}
	}
	forwarded := r.Header.Values("X-Forwarded-For")
	if !ps.trusted(peer) {
		return callerAt(peer, len(forwarded) > 0)
	}
	hops := strings.Split(strings.Join(forwarded, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" && len(forwarded) == 0 {
			break // no header: the proxy itself is the client
		}
		a, ok := parseHop(hop)
		if !ok {
			return Caller{Addr: Unknown, Key: Unknown}
		}
		if !ps.trusted(a) {
			return callerAt(a, false)
		}
	}
	return callerAt(peer, false)
}

func callerAt(a netip.Addr, ignored bool) Caller {
	a = a.Unmap().WithZone("")
	return Caller{Addr: a.String(), Key: LimitKey(a), IgnoredForward: ignored}
}

// LimitKey is the key of an address in limits: an IPv6 address by its /64,
// since one subscriber or host commonly holds a whole /64 and could
// otherwise take a fresh bucket for every address in it.
func LimitKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// parseHop reads one X-Forwarded-For entry: an address, optionally with a
// port (1.2.3.4:80, [2001:db8::1]:443) or in brackets.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a, true
		}
	}
	return netip.Addr{}, false
}
