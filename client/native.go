package client

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Errors of a native login.
var (
	// ErrNoBrowser: no browser could be opened (the Opener failed, or
	// NoBrowser was asked for). Login falls back to the device flow on it.
	ErrNoBrowser = errors.New("client: no browser could be opened for the login")
	// ErrLoginTimeout: no authorization response came back in time (see
	// WithTimeout). The loopback port is closed.
	ErrLoginTimeout = errors.New("client: the login timed out: the browser sent no authorization response")
)

// DefaultNativeTimeout is how long LoginNative waits for the browser.
const DefaultNativeTimeout = 5 * time.Minute

// Opener opens url in the system browser and returns once the browser was
// asked to (not when the user is done): an error means no browser will
// show the page, and the login ends with ErrNoBrowser. ctx ends at the
// login's timeout. SystemBrowser is the default; tests inject their own.
type Opener func(ctx context.Context, url string) error

// NativeOption changes how LoginNative and Login work.
type NativeOption func(*nativeConfig)

type nativeConfig struct {
	open      Opener
	timeout   time.Duration
	noBrowser bool
}

// WithOpener makes the login open the authorization URL with open instead
// of SystemBrowser.
func WithOpener(open Opener) NativeOption {
	return func(c *nativeConfig) { c.open = open }
}

// WithTimeout makes the login wait at most d for the browser's response
// instead of DefaultNativeTimeout.
func WithTimeout(d time.Duration) NativeOption {
	return func(c *nativeConfig) { c.timeout = d }
}

// NoBrowser says that no browser should be opened: LoginNative returns
// ErrNoBrowser at once, and Login goes straight to the device flow (a
// command line's --no-browser).
func NoBrowser() NativeOption {
	return func(c *nativeConfig) { c.noBrowser = true }
}

func newNativeConfig(opts []NativeOption) nativeConfig {
	c := nativeConfig{open: SystemBrowser, timeout: DefaultNativeTimeout}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// LoginNative signs the user in through the system browser (RFC 8252): it
// listens on a random port of the loopback address of the app's
// RedirectURL (http://127.0.0.1/callback, registered without a port; the
// port is chosen now, §7.3), opens the authorization URL with the Opener
// (never an embedded web view, §8.12), accepts the one response that
// carries this login's state on the RedirectURL's path, checks and redeems
// it as Exchange does (state, PKCE S256, iss), answers the browser with a
// small page, and closes the port.
//
// A request with another state (another local process, a stale tab) is
// refused and the login goes on waiting: it can neither end nor take over
// the login. The login ends at the first response with the right state,
// whatever it says (a code, access_denied, a wrong iss), at the timeout
// (ErrLoginTimeout), or when ctx ends.
func (a *PublicApp) LoginNative(ctx context.Context, opts ...NativeOption) (*Session, error) {
	cfg := newNativeConfig(opts)
	if _, err := a.core(); err != nil {
		return nil, err
	}
	if cfg.noBrowser {
		return nil, fmt.Errorf("%w: the browser was turned off (NoBrowser)", ErrNoBrowser)
	}
	host, path, err := loopbackRedirect(a.RedirectURL)
	if err != nil {
		return nil, err
	}
	if cfg.timeout <= 0 || cfg.open == nil {
		return nil, fmt.Errorf("%w: LoginNative needs a positive timeout and an Opener", ErrConfig)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.timeout, ErrLoginTimeout)
	defer cancel()

	// RFC 8252 §8.3: the loopback interface only, on an IP literal (never
	// 0.0.0.0, never "localhost"); port 0 lets the OS choose a free one.
	network := "tcp4"
	if host == "::1" {
		network = "tcp6"
	}
	ln, err := net.Listen(network, net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("client: listen on the loopback address for the login: %w", err)
	}
	lb, authURL, err := newLoopback(ctx, a, ln.Addr().(*net.TCPAddr).Port)
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := &http.Server{Handler: lb, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer lb.close(srv, ln) // RFC 8252 §7.3: the port is open only for this login

	if err := cfg.open(ctx, authURL); err != nil {
		select {
		case r := <-lb.result: // the opener did its work, then failed
			return r.s, r.err
		default:
		}
		return nil, fmt.Errorf("%w: %w", ErrNoBrowser, err)
	}
	select {
	case r := <-lb.result:
		return r.s, r.err
	case <-ctx.Done():
		if errors.Is(context.Cause(ctx), ErrLoginTimeout) {
			return nil, fmt.Errorf("%w (after %s, on %s)", ErrLoginTimeout, cfg.timeout, path)
		}
		return nil, fmt.Errorf("client: the login was cancelled: %w", context.Cause(ctx))
	}
}

// loopbackRedirect checks that raw is a loopback redirect URL that
// LoginNative can serve, and returns its IP literal and path.
func loopbackRedirect(raw string) (host, path string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1") || u.User != nil {
		return "", "", fmt.Errorf("%w: LoginNative needs a loopback RedirectURL on an IP literal, like http://127.0.0.1/callback (RFC 8252 §7.3), not %q", ErrConfig, raw)
	}
	if u.Port() != "" {
		// RFC 8252 §7.3: the port is chosen at run time; a fixed one could be
		// taken first by another local process.
		return "", "", fmt.Errorf("%w: register and configure the loopback RedirectURL without a port (%s://%s%s); LoginNative picks a free port for each login", ErrConfig, u.Scheme, u.Hostname(), u.EscapedPath())
	}
	return u.Hostname(), u.EscapedPath(), nil
}

// loopback is the listener's handler: it takes the one response of tx.
type loopback struct {
	ctx    context.Context // the login's: bounds the code's redemption
	app    *PublicApp      // the app with this login's redirect URL
	tx     *Transaction
	host   string // the Host header a browser sends: 127.0.0.1:PORT
	path   string // the redirect URL's path
	result chan nativeResult

	mu    sync.Mutex
	taken bool
}

type nativeResult struct {
	s   *Session
	err error
}

// newLoopback starts the transaction of a login whose redirect URL is the
// app's on port, and returns its handler and authorization URL.
func newLoopback(ctx context.Context, a *PublicApp, port int) (*loopback, string, error) {
	u, _ := url.Parse(a.RedirectURL)
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	app := *a
	app.RedirectURL = u.String()
	authURL, tx, err := authCodeURL(&app, "")
	if err != nil {
		return nil, "", err
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	return &loopback{ctx: ctx, app: &app, tx: tx, host: u.Host, path: path, result: make(chan nativeResult, 1)}, authURL, nil
}

func (l *loopback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != l.path {
		writePage(w, http.StatusNotFound, pageNotFound)
		return
	}
	// A page elsewhere that reached this port by DNS rebinding names
	// another host.
	if r.Method != http.MethodGet || r.Host != l.host {
		writePage(w, http.StatusBadRequest, pageForeign)
		return
	}
	q := r.URL.Query()
	if !l.claim(q.Get("state")) {
		// RFC 6749 §10.12: not this login's response. Refused, and the
		// login goes on: another local process cannot end it.
		writePage(w, http.StatusBadRequest, pageForeign)
		return
	}
	s, err := exchange(l.ctx, l.app, l.tx, q)
	switch {
	case err == nil:
		writePage(w, http.StatusOK, pageSuccess)
	case errors.Is(err, ErrAccessDenied):
		writePage(w, http.StatusForbidden, pageDenied)
	default:
		writePage(w, http.StatusBadRequest, pageFailure)
	}
	l.result <- nativeResult{s: s, err: err}
}

// claim reports whether state is this login's and its response was not
// taken yet; it takes it.
func (l *loopback) claim(state string) bool {
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(l.tx.State)) != 1 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.taken {
		return false
	}
	l.taken = true
	return true
}

// close closes the port at once and lets the page being written finish.
// It closes ln itself too: Serve may not have begun to track it yet.
func (l *loopback) close(srv *http.Server, ln net.Listener) {
	_ = ln.Close()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(l.ctx), 2*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		_ = srv.Close()
	}
}

// The pages the browser gets at the end of a login. They show no code,
// token or server message: only what the user should do next.
type page struct{ Title, Message string }

var (
	pageSuccess  = page{"Signed in", "You are signed in. You can close this window and return to the application."}
	pageDenied   = page{"Access denied", "Access was denied. You can close this window; the application did not sign in."}
	pageFailure  = page{"Sign-in failed", "The sign-in did not succeed. Close this window and start again from the application."}
	pageForeign  = page{"Not this sign-in", "This response does not belong to the sign-in in progress. Start again from the application."}
	pageNotFound = page{"Not found", "There is nothing here."}
)

var pageTemplate = template.Must(template.New("native").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))

// writePage writes p with the headers of every Gatehouse page: no
// caching, no script, no framing, no referrer (the page's URL holds the
// code; DESIGN invariant 9).
func writePage(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Connection", "close")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, p)
}
