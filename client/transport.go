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
// redirect too. A redirected request whose chain cannot be traced back to
// its first request (a Base that returns responses without Request) is
// taken to be on another origin.
//
// Without Origins, the token goes to every host the client is pointed at:
// an app that fetches URLs it did not choose (a webhook, an avatar, a
// link preview) should list the origins of the APIs the token is for.
type Transport struct {
	// Source gives the tokens.
	Source TokenSource
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Origins, when not empty, are the only origins (scheme://host[:port],
	// as https://api.example.com) a token is sent to; a request to any
	// other is sent without one (and without the caller's Authorization).
	Origins []string
}

// NewClient returns an http.Client whose requests carry src's tokens
// through a Transport, to origins only when any are given (see
// Transport.Origins).
func NewClient(src TokenSource, origins ...string) *http.Client {
	return &http.Client{Transport: &Transport{Source: src, Origins: origins}}
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
	first, traced := req, true
	for first.Response != nil {
		if first.Response.Request == nil {
			traced = false // fail closed: where the chain began is unknown
			break
		}
		first = first.Response.Request
	}
	if !traced || origin(first.URL) != origin(req.URL) || !t.allowed(req.URL) {
		r.Header.Del("Authorization")
		return t.send(req, r)
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
	return t.send(req, r)
}

// send sends r, the copy of req, with Base, and makes the response name
// req when Base did not set its Request, so that a redirect that follows
// can be traced to where it began.
func (t *Transport) send(req, r *http.Request) (*http.Response, error) {
	resp, err := t.base().RoundTrip(r)
	if resp != nil && resp.Request == nil {
		resp.Request = req
	}
	return resp, err
}

// allowed reports whether a token may go to u's origin (Origins).
func (t *Transport) allowed(u *url.URL) bool {
	if len(t.Origins) == 0 {
		return true
	}
	o := origin(u)
	for _, a := range t.Origins {
		if au, err := url.Parse(a); err == nil && au.Host != "" && origin(au) == o {
			return true
		}
	}
	return false
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
