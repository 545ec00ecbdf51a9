package client

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ErrInsecureTarget: a request carrying a token would go over plain http
// to a host that is not a loopback address (OAuth 2.1 §7.1.3.2). Nothing
// was sent.
var ErrInsecureTarget = errors.New("client: a token is sent only over https (or http to a loopback address)")

// Transport is an http.RoundTripper that authorizes each request with a
// token from Source, in the Authorization header only (RFC 6750 §2.1):
// never in the URL or the body (RFC 9700 §4.3.2). It refuses to send a
// token over plain http except to a loopback address, and on a redirect it
// sends the token only to the origin (scheme, host and port) of the
// request the redirect began with: never to another host, nor from https
// to http. An Authorization header the caller set is dropped on such a
// redirect too.
type Transport struct {
	// Source gives the tokens.
	Source TokenSource
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// NewClient returns an http.Client whose requests carry src's tokens
// through a Transport.
func NewClient(src TokenSource) *http.Client {
	return &http.Client{Transport: &Transport{Source: src}}
}

// RoundTrip authorizes req and sends it with Base.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			_ = req.Body.Close()
		}
	}
	r := req.Clone(req.Context())
	// The first request of a redirect chain names the origin the token
	// is for; http.Client sets Response on each request it makes to
	// follow a redirect.
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	if origin(first.URL) != origin(req.URL) {
		r.Header.Del("Authorization")
		return t.base().RoundTrip(r)
	}
	if !secureTarget(req.URL) {
		closeBody()
		return nil, fmt.Errorf("%w: %s://%s", ErrInsecureTarget, req.URL.Scheme, req.URL.Host)
	}
	tok, err := t.Source.Token(req.Context())
	if err != nil {
		closeBody()
		return nil, err
	}
	if typ := tok.Type(); !strings.EqualFold(typ, "Bearer") {
		closeBody()
		return nil, fmt.Errorf("client: the token is of type %q; Transport sends Bearer tokens only", typ)
	}
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return t.base().RoundTrip(r)
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// origin is scheme://host:port, with the scheme's default port made
// explicit (RFC 6454 §4).
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// secureTarget: https, or http to a loopback IP address.
func secureTarget(u *url.URL) bool {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return isLoopback(u.Hostname())
	}
	return false
}
