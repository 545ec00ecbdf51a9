package oauth

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// MatchRedirectURI decides the redirect URI of an authorization request
// (DESIGN invariant 3; RFC 9700 §2.1, §4.1.3; OAuth 2.1 §2.3.2). A requested
// URI must equal a registered one as a string, with one exception: a public
// app's registered loopback IP URI matches the same URI on any port (RFC 8252
// §7.3). An omitted URI is allowed only when exactly one is registered. It
// returns the URI to redirect to and whether one was found.
func MatchRedirectURI(app gatehouse.App, requested string) (string, bool) {
	if requested == "" {
		if len(app.RedirectURIs) == 1 {
			return app.RedirectURIs[0], true
		}
		return "", false
	}
	for _, reg := range app.RedirectURIs {
		if requested == reg {
			return requested, true
		}
		if app.Type == gatehouse.Public && loopbackMatch(reg, requested) {
			return requested, true
		}
	}
	return "", false
}

// loopbackMatch reports whether requested is the registered loopback URI
// with any port: same scheme (http), same IP literal, same path and query,
// byte for byte.
func loopbackMatch(registered, requested string) bool {
	r, err := url.Parse(registered)
	if err != nil || r.Scheme != "http" || !isLoopbackIP(r.Hostname()) {
		return false
	}
	q, err := url.Parse(requested)
	if err != nil || q.Scheme != "http" || q.User != nil || q.Fragment != "" || strings.Contains(requested, "#") {
		return false
	}
	if q.Hostname() != r.Hostname() || !validPort(q.Port()) {
		return false
	}
	if q.EscapedPath() != r.EscapedPath() || q.RawQuery != r.RawQuery || q.ForceQuery != r.ForceQuery {
		return false
	}
	// Nothing may hide in what the parser normalised away.
	rebuilt := "http://" + q.Host + q.EscapedPath()
	if q.RawQuery != "" || q.ForceQuery {
		rebuilt += "?" + q.RawQuery
	}
	return requested == rebuilt
}

// validPort accepts no port or a TCP port, 1 to 65535, in canonical form.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if len(p) > 5 || p[0] == '0' {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	n, err := strconv.Atoi(p)
	return err == nil && n <= 65535
}

// AppendParams adds response parameters to a redirect URI, keeping its own
// query (OAuth 2.1 §2.3: the registered query component is kept).
func AppendParams(redirectURI string, params url.Values) string {
	sep := "?"
	if strings.Contains(redirectURI, "?") {
		sep = "&"
		if strings.HasSuffix(redirectURI, "?") || strings.HasSuffix(redirectURI, "&") {
			sep = ""
		}
	}
	return redirectURI + sep + params.Encode()
}
