package bff

import (
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/client"
)

// proxy forwards <prefix>/api/{name}/{path...} to the allow-listed
// upstream name, as base/{path...}, with the session's access token in
// the Authorization header (RFC 6750 §2.1) and nothing of the browser's
// but the allowed headers and the body; the answer comes back without
// Set-Cookie. Where it goes is decided by the allow-list alone: the
// request's Host, an absolute-form request URI, X-Forwarded-Host and the
// like never choose the destination (browser-based-apps §6.1.3.6,
// BBA-6.1.3.6-a). Redirects from the upstream are passed to the browser,
// never followed with the token.
func (b *BFF) proxy(w http.ResponseWriter, r *http.Request) {
	target, status := b.target(r)
	if status != 0 {
		writeJSON(w, status, map[string]any{"error": "unknown_api"})
		return
	}
	id, err := b.sessionID(r)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "login_required"})
		return
	}
	tok, err := b.source(id).Token(r.Context())
	switch {
	case errors.Is(err, client.ErrLoginRequired):
		http.SetCookie(w, sessionCookie("", -1))
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "login_required"})
		return
	case err != nil:
		b.log.WarnContext(r.Context(), "bff: get the session's access token", "error", err)
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": "token_unavailable"})
		return
	case tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "Bearer"):
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": "token_unavailable"})
		return
	}
	rp := &httputil.ReverseProxy{
		Transport: b.transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = target.Host
			h := http.Header{}
			for k, v := range pr.In.Header {
				if b.forward[http.CanonicalHeaderKey(k)] {
					h[k] = v
				}
			}
			h.Set("Authorization", "Bearer "+tok.AccessToken)
			h["User-Agent"] = nil // not Go's default
			pr.Out.Header = h
		},
		ModifyResponse: func(resp *http.Response) error {
			// The browser gets no cookie of the upstream's: the BFF's
			// origin is not the upstream's.
			resp.Header.Del("Set-Cookie")
			resp.Header.Del("Set-Cookie2")
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			b.log.WarnContext(r.Context(), "bff: proxy", "upstream", target.Host, "error", err)
			writeJSON(w, http.StatusBadGateway, map[string]any{"error": "upstream_unavailable"})
		},
	}
	rp.ServeHTTP(w, r)
}

// target returns the upstream URL of r, or the status of the refusal:
// 400 for a request URI that is not a plain path on this origin, 404 for
// a name not on the allow-list or a path that could climb out of the
// upstream's base (dot segments, empty segments, encoded slashes,
// backslashes or dots, control characters).
func (b *BFF) target(r *http.Request) (*url.URL, int) {
	if r.URL.IsAbs() || r.URL.Host != "" || r.URL.Opaque != "" {
		return nil, http.StatusBadRequest
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), b.prefix+"/api/")
	if !ok {
		return nil, http.StatusNotFound
	}
	name, rest, _ := strings.Cut(rest, "/")
	base := b.upstreams[name]
	if base == nil || !safePath(rest) {
		return nil, http.StatusNotFound
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return nil, http.StatusNotFound
	}
	t := *base
	t.Path = base.Path + "/" + p
	t.RawPath = base.EscapedPath() + "/" + rest
	t.RawQuery = r.URL.RawQuery
	return &t, 0
}

// safePath reports whether an escaped path below an upstream's base stays
// below it, whoever decodes it.
func safePath(p string) bool {
	l := strings.ToLower(p)
	for _, bad := range []string{"%2f", "%5c", "%2e", "%00", "\\", "%25"} {
		if strings.Contains(l, bad) {
			return false
		}
	}
	for _, c := range p {
		if c < 0x21 || c == 0x7f {
			return false
		}
	}
	p = strings.TrimSuffix(p, "/") // a trailing slash is the upstream's business
	if p == "" {
		return true
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
