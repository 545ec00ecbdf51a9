package bff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

// Config is a BFF's configuration; New validates all of it at once.
type Config struct {
	// App is the BFF's registration at the authorization server: a
	// confidential client (browser-based-apps §6.1.3.1, BBA-6.1.3.1-a),
	// whose RedirectURL is the BFF's callback, <origin><Prefix>/callback.
	App *client.ConfidentialApp
	// Store keeps the sessions' tokens, encrypted: a client.MemoryStore
	// (one replica only: it has no lock across processes), a
	// client.SQLStore or a redisstore.Store (several replicas).
	Store client.TokenStore
	// Keys seal the login transaction cookie. Every replica needs the same
	// Keys, so that a callback landing on another replica than the login
	// opens it.
	Keys *client.Keys
	// Upstreams maps an API name to the base URL of an allow-listed
	// resource server: /bff/api/{name}/{path...} goes to base/{path...}
	// with the session's access token. Each is https, or http to a
	// loopback IP literal; names are letters, digits, '-' and '_'.
	Upstreams map[string]string
	// Prefix is where Mount puts the handlers; default "/bff".
	Prefix string
	// SessionLifetime bounds a session from its login, however often it
	// is refreshed (default 12 h). Keep it no longer than the server's
	// refresh-token lifetime and, with a redisstore, the store's TTL.
	SessionLifetime time.Duration
	// ForwardHeaders are request headers the proxy forwards besides the
	// default ones (Accept, Accept-Language, Content-Type, Content-Language,
	// If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since,
	// Range). Cookie, Authorization, X-CSRF, the Sec-Fetch-* and the
	// hop-by-hop headers are never forwarded, listed or not.
	ForwardHeaders []string
	// Transport sends the proxied requests; nil means
	// http.DefaultTransport. It never follows redirects (a RoundTripper
	// does not).
	Transport http.RoundTripper
	// Logger receives the failures; nil means slog.Default(). No token
	// ever reaches it.
	Logger *slog.Logger
}

// BFF is the backend for frontend of one single-page app. Made by New;
// safe for concurrent use.
type BFF struct {
	app       *client.ConfidentialApp
	store     client.TokenStore
	keys      *client.Keys
	upstreams map[string]*url.URL
	prefix    string
	lifetime  time.Duration
	forward   map[string]bool
	transport http.RoundTripper
	log       *slog.Logger
	now       func() time.Time
}

// Cookie names. The __Host- prefix makes the browser refuse them unless
// they are Secure, host-only and Path=/ (RFC 6265bis §4.1.3.2), so a
// sibling subdomain cannot plant or overwrite them.
const (
	// SessionCookie holds the session id: SameSite=Strict.
	SessionCookie = "__Host-gatehouse_bff"
	// LoginCookie holds the sealed login transaction: SameSite=Lax, so
	// that it comes back with the top-level redirect from the server.
	LoginCookie = "__Host-gatehouse_bff_login"
)

// DefaultSessionLifetime is the SessionLifetime unless Config says.
const DefaultSessionLifetime = 12 * time.Hour

var upstreamName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var defaultForward = []string{"Accept", "Accept-Language", "Content-Type", "Content-Language",
	"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "Range"}

// never are request headers no configuration forwards.
var never = map[string]bool{"Cookie": true, "Authorization": true, "X-Csrf": true, "Host": true,
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authorization": true,
	"Proxy-Authenticate": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Host": true, "X-Forwarded-Proto": true}

// New returns the BFF of cfg, or every problem of cfg joined.
func New(cfg Config) (*BFF, error) {
	b := &BFF{app: cfg.App, store: cfg.Store, keys: cfg.Keys, prefix: cfg.Prefix, lifetime: cfg.SessionLifetime,
		transport: cfg.Transport, log: cfg.Logger, now: time.Now, upstreams: map[string]*url.URL{}, forward: map[string]bool{}}
	if b.prefix == "" {
		b.prefix = "/bff"
	}
	if b.lifetime == 0 {
		b.lifetime = DefaultSessionLifetime
	}
	if b.transport == nil {
		b.transport = http.DefaultTransport
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	var errs []error
	if cfg.App == nil {
		errs = append(errs, errors.New("bff: no App (a *client.ConfidentialApp)"))
	} else if cfg.App.Provider == nil {
		errs = append(errs, errors.New("bff: the App has no Provider (use client.Discover)"))
	}
	if cfg.Store == nil {
		errs = append(errs, errors.New("bff: no Store"))
	}
	if cfg.Keys == nil {
		errs = append(errs, errors.New("bff: no Keys (client.NewKeys), which seal the login cookie"))
	}
	if !strings.HasPrefix(b.prefix, "/") || strings.HasSuffix(b.prefix, "/") || strings.ContainsAny(b.prefix, "{}") {
		errs = append(errs, fmt.Errorf("bff: the Prefix %q must begin with / and not end with one", b.prefix))
	}
	if b.lifetime < time.Minute {
		errs = append(errs, fmt.Errorf("bff: the SessionLifetime %v is under a minute", b.lifetime))
	}
	if len(cfg.Upstreams) == 0 {
		errs = append(errs, errors.New("bff: no Upstreams: name the resource servers the proxy may call"))
	}
	for name, raw := range cfg.Upstreams {
		u, err := upstream(name, raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b.upstreams[name] = u
	}
	for _, h := range append(defaultForward, cfg.ForwardHeaders...) {
		h = http.CanonicalHeaderKey(h)
		if never[h] || strings.HasPrefix(h, "Sec-") {
			errs = append(errs, fmt.Errorf("bff: the header %s is never forwarded", h))
			continue
		}
		b.forward[h] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// upstream checks one allow-list entry.
func upstream(name, raw string) (*url.URL, error) {
	if !upstreamName.MatchString(name) {
		return nil, fmt.Errorf("bff: the upstream name %q is not letters, digits, - and _", name)
	}
	// OAuth 2.1 §7.1.3.2: a token goes only over TLS (or to loopback).
	if err := client.CheckEndpointURL(raw); err != nil {
		return nil, fmt.Errorf("bff: the upstream %s: %w", name, err)
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("bff: the upstream %s %q must be scheme://host[:port][/path], without user, query or fragment", name, raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Mount registers the handlers on mux under the Prefix:
//
//	GET  <prefix>/login?returnTo=/path   starts a login
//	GET  <prefix>/callback               the redirect URI
//	GET  <prefix>/session                the session, for the SPA (X-CSRF)
//	POST <prefix>/logout                 revokes and ends the session (X-CSRF)
//	     <prefix>/api/{name}/{path...}   the proxy (X-CSRF), any method
func (b *BFF) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+b.prefix+"/login", b.login)
	mux.HandleFunc("GET "+b.prefix+"/callback", b.callback)
	mux.Handle("GET "+b.prefix+"/session", b.csrf(http.HandlerFunc(b.session)))
	mux.Handle("POST "+b.prefix+"/logout", b.csrf(http.HandlerFunc(b.logout)))
	mux.Handle(b.prefix+"/api/", b.csrf(http.HandlerFunc(b.proxy)))
}

// key is the TokenKey of the session whose cookie value is id.
func (b *BFF) key(id string) client.TokenKey {
	return client.TokenKey{Issuer: b.app.Provider.Issuer, ClientID: b.app.ClientID, Subject: sessionSubject(id)}
}

// source is the session's token source: one per app, store and key in
// this process (client.PersistentSource), which refreshes once for all
// its callers, and once among replicas when the Store is a Locker.
func (b *BFF) source(id string) *client.PersistentSource {
	return b.app.TokenSource(b.store, b.key(id))
}

// bounded is ctx's values under a timeout of their own: work that must
// finish whatever the browser does.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}
