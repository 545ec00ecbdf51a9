package oauth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ValidateRedirectURI checks a redirect URI at registration (DESIGN invariant
// 3; RFC 9700 §2.1, §2.6; OAuth 2.1 §2.3; RFC 8252 §7.1, §7.3, §8.4): an
// absolute URI with no fragment and no wildcard; https, http only on a
// loopback IP literal, or a private-use scheme that contains a dot (a
// reverse domain name).
func ValidateRedirectURI(raw string) error {
	if raw == "" || len(raw) > 2000 {
		return errors.New("a redirect URI must be 1 to 2000 characters")
	}
	if strings.ContainsAny(raw, "*#\\ \t\r\n") {
		return fmt.Errorf("redirect URI %s: wildcards, fragments, backslashes and spaces are not allowed", quote(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("redirect URI %s is not an absolute URI", quote(raw))
	}
	if u.User != nil {
		return fmt.Errorf("redirect URI %s must not carry user info", quote(raw))
	}
	if err := checkRegisteredQuery(raw, u); err != nil {
		return err
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("redirect URI %s has no host", quote(raw))
		}
	case "http":
		if !isLoopbackIP(u.Hostname()) {
			return fmt.Errorf("redirect URI %s: http is allowed only for loopback IP literals (127.0.0.1, [::1])", quote(raw))
		}
	default:
		if !strings.Contains(u.Scheme, ".") {
			return fmt.Errorf("redirect URI %s: a private-use scheme must be a reverse domain name such as com.example.app", quote(raw))
		}
	}
	return nil
}

// responseParams are the parameters an authorization response sets. A
// registered query that pre-sets one would be read by the client before
// ours: a planted code, state or iss defeats the state and RFC 9207 checks.
var responseParams = []string{"code", "state", "iss", "error", "error_description", "error_uri"}

// checkRegisteredQuery refuses a redirect URI whose query is not a valid
// form or names a response parameter; other query parameters are kept
// (OAuth 2.1 §2.3).
func checkRegisteredQuery(raw string, u *url.URL) error {
	if u.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fmt.Errorf("redirect URI %s: the query is not a valid form (name=value pairs joined by &)", quote(raw))
	}
	for name := range q {
		if oddName(name) {
			return fmt.Errorf("redirect URI %s: a query parameter name has a bracket or a control character, which frameworks read as another name", quote(raw))
		}
		if k, ok := responseParam(name); ok {
			return fmt.Errorf("redirect URI %s: the query must not set %s, a parameter of the authorization response", quote(raw), k)
		}
	}
	return nil
}

// oddName reports whether a query name has a control character or a
// bracket, which no honest redirect URI needs and which frameworks read as
// another name: PHP cuts a name at NUL and reads "code[]" as code; Express's
// qs and Rack read "[code]", "code]" and "]code" as code.
func oddName(name string) bool {
	return strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f || r == '[' || r == ']' })
}

// responseParam reports which response parameter a query name may be read
// as by some client's framework: in any case (some frameworks read names
// without regard to case; 'ſ', 'ı', 'İ' and the Kelvin sign fold or lower
// to ASCII letters), with spaces around it dropped, with PHP's renamings
// ('.' and ' ' read as '_'), or cut at a '.' (qs with allowDots reads
// "code.x" as code).
func responseParam(name string) (string, bool) {
	n := strings.Map(func(r rune) rune {
		switch r {
		case 'ı', 'İ':
			return 'i'
		case '.', ' ':
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	cut, _, _ := strings.Cut(strings.TrimSpace(name), ".")
	for _, k := range responseParams {
		for _, candidate := range []string{n, strings.ToLower(n), cut} {
			if strings.EqualFold(candidate, k) {
				return k, true
			}
		}
	}
	return "", false
}

// plantsResponseParams reports whether a registered redirect URI's query
// sets a response parameter (an app registered before registration refused
// it).
func plantsResponseParams(uri string) bool {
	u, err := url.Parse(uri)
	return err != nil || checkRegisteredQuery(uri, u) != nil
}

// isLoopbackIP reports whether host is a loopback IP literal. The name
// localhost is refused for redirect URIs (RFC 8252 §8.3: NOT RECOMMENDED).
func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLoopbackHost also accepts localhost, for the development issuer.
func isLoopbackHost(host string) bool {
	return host == "localhost" || isLoopbackIP(host)
}
