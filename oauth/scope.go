package oauth

import (
	"slices"
	"strings"
)

// ParseScope splits a scope parameter (RFC 6749 §3.3: scope-tokens separated
// by single spaces, each of NQCHAR). Duplicates are dropped; order is kept.
func ParseScope(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, " ")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if !ValidScopeName(p) {
			return nil, Errorf(CodeInvalidScope, "the scope parameter is malformed")
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ValidScopeName reports whether name is a scope-token (RFC 6749 §3.3:
// 1*( %x21 / %x23-5B / %x5D-7E )) of at most 128 characters.
func ValidScopeName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// grantScopes decides the scopes of a token: exactly the requested ones when
// every one is allowed (no wildcards, no prefix matching), the defaults when
// none is requested, and invalid_scope otherwise.
func grantScopes(requested, allowed, defaults []string) ([]string, error) {
	if len(requested) == 0 {
		return slices.Clone(defaults), nil
	}
	for _, s := range requested {
		if !slices.Contains(allowed, s) {
			return nil, Errorf(CodeInvalidScope, "the app may not request the scope "+quote(s))
		}
	}
	return requested, nil
}

// quote writes a client-supplied value into an error description: only the
// characters RFC 6749 §5.2 allows there (%x20-21 / %x23-5B / %x5D-7E), any
// other byte as '?', and at most 64 of them.
func quote(s string) string {
	b := []byte(s)
	if len(b) > 64 {
		b = append(b[:64], "..."...)
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	return "'" + string(b) + "'"
}
