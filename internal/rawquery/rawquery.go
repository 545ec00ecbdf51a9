// Package rawquery reads a query string or a form body as raw bytes, the
// way the refusal of tokens outside the Authorization header needs it
// (DESIGN invariant 7): Go's parsers drop a malformed pair
// ("access_token=AT;") or a whole body with one bad escape, and a token
// could hide behind them. The server (httpapi) and the resource-server
// middleware (client/rs) both read requests through it. It imports only
// the standard library.
package rawquery

import "strings"

// Unescape decodes the valid %XX escapes of s and '+', and keeps
// everything else, unlike url.QueryUnescape, which gives up on the first
// bad escape.
func Unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
