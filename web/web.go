package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Default limits of failed logins.
var (
	// One account from one address: 5, then 2 a minute.
	DefaultPairLimit = ratelimit.Limit{Burst: 5, Every: 30 * time.Second}
	// One account from anywhere: 30, then 10 a minute.
	DefaultUserLimit = ratelimit.Limit{Burst: 30, Every: 6 * time.Second}
	// One address, whatever the account: 20, then 20 a minute.
	DefaultAddrLimit = ratelimit.Limit{Burst: 20, Every: 3 * time.Second}
	// One known device (a browser its account signed in from), in place
	// of the three above: 10, then 2 a minute.
	DefaultDeviceLimit = ratelimit.Limit{Burst: 10, Every: 30 * time.Second}
)

// Limiter throttles failed logins. Reserve takes one attempt of key before
// the password is checked (false, and how long to wait, when none is left);
// Refund gives it back when the login succeeded. oauth.AttemptLimit is one.
type Limiter interface {
	Reserve(ctx context.Context, key string) (bool, time.Duration, error)
	Refund(ctx context.Context, key string) error
}

// Pages serves the user-facing pages.
type Pages struct {
	OAuth *oauth.Server
	Log   *slog.Logger
	// Dev serves the development redirect page at /dev/callback.
	Dev bool
	// PairLimit, UserLimit and AddrLimit throttle failed logins per
	// account and address, per account, and per address. By default they
	// are kept in the store, so that they hold across instances.
	PairLimit Limiter
	UserLimit Limiter
	AddrLimit Limiter
	// DeviceLimit throttles failed logins from a known device, which the
	// three limits above do not apply to.
	DeviceLimit Limiter
	// Proxies are the trusted reverse proxies (X-Forwarded-For).
	Proxies ratelimit.Proxies
	// UserCodeAddrLimit, UserCodeUserLimit and UserCodeGlobalLimit
	// throttle wrong user codes on the verification page (RFC 8628 §5.1)
	// per address, per signed-in user and for the whole server; kept in
	// the store, so that they hold across instances.
	UserCodeAddrLimit   Limiter
	UserCodeUserLimit   Limiter
	UserCodeGlobalLimit Limiter
	// Brand is the platform's name, logo and colour on every page; the
	// zero Brand is Gatehouse's own.
	Brand Brand

	templates    map[string]*template.Template
	secure       bool
	cookie       string
	deviceCookie string
}

// New returns the pages of srv; the templates are parsed now, so that a
// broken template stops the server at start-up.
func New(srv *oauth.Server, log *slog.Logger, dev bool) (*Pages, error) {
	iss, err := url.Parse(srv.Issuer())
	if err != nil {
		return nil, fmt.Errorf("web: issuer: %w", err)
	}
	p := &Pages{
		OAuth: srv, Log: log, Dev: dev, Brand: Brand{Name: defaultBrand},
		PairLimit: srv.AttemptLimit("login-pair", DefaultPairLimit), UserLimit: srv.AttemptLimit("login-user", DefaultUserLimit),
		AddrLimit:           srv.AttemptLimit("login-addr", DefaultAddrLimit),
		DeviceLimit:         srv.AttemptLimit("login-device", DefaultDeviceLimit),
		UserCodeAddrLimit:   srv.AttemptLimit("user-code-addr", DefaultUserCodeAddrLimit),
		UserCodeUserLimit:   srv.AttemptLimit("user-code-user", DefaultUserCodeUserLimit),
		UserCodeGlobalLimit: srv.AttemptLimit("user-code-global", DefaultUserCodeGlobalLimit),
		secure:              iss.Scheme == "https",
	}
	if p.templates, err = parseTemplates(func() Brand { return p.Brand }); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	// DESIGN invariant 9: on https the cookies are Secure with the __Host-
	// prefix.
	p.cookie, p.deviceCookie = "gatehouse_session", "gatehouse_device"
	if p.secure {
		p.cookie, p.deviceCookie = "__Host-"+p.cookie, "__Host-"+p.deviceCookie
	}
	return p, nil
}

// Mount registers the pages on mux. Every state-changing form is protected
// against cross-site requests by http.CrossOriginProtection.
func (p *Pages) Mount(mux *http.ServeMux) {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Log.WarnContext(r.Context(), "cross-origin form post refused", "path", r.URL.Path)
		p.errorPage(w, r, http.StatusForbidden, "Request refused", "This form was sent from another site, so it was not processed.")
	}))
	// Every response of the front channel carries the page headers, the
	// redirects that carry a code and the error answers included: the
	// headers are set before the handler runs (RFC 9700 §4.2.4).
	h := func(f http.HandlerFunc) http.Handler { return frontChannel(cop.Handler(f)) }
	routes := []route{
		{"/authorize", p.authorize, p.consent},
		{"/login", p.loginPage, p.login},
		{"/logout", nil, p.logout},
		{"/switch-account", nil, p.switchAccount},
		{"/logged-out", p.loggedOut, nil},
		{"/{$}", p.home, nil},
		{"/account/apps", p.connectedApps, nil},
		{oauth.DevicePath, p.device, p.deviceForm},
		{"/account/apps/disconnect", nil, p.disconnect},
		{"/account/apps/disconnect-all", nil, p.disconnectAll},
		{"/assets/style.css", p.style, nil},
		{"/assets/brand.css", p.brandCSS, nil},
		{logoPath, p.logo, nil},
	}
	routes = append(routes, p.developerRoutes()...)
	if p.Dev {
		routes = append(routes, route{"/dev/callback", p.devCallback, nil})
	}
	for _, rt := range routes {
		var allow []string
		if rt.get != nil {
			mux.Handle("GET "+rt.path, h(rt.get))
			allow = append(allow, "GET", "HEAD")
		}
		if rt.post != nil {
			mux.Handle("POST "+rt.path, h(rt.post))
			allow = append(allow, "POST")
		}
		// Any other method gets the 405 page, in the same layout.
		mux.Handle(rt.path, frontChannel(p.methodNotAllowed(strings.Join(allow, ", "))))
	}
	// Every path that no route serves gets the 404 page.
	mux.Handle("/", frontChannel(http.HandlerFunc(p.notFound)))
}

// route is a page path and its handlers by method; nil: not served.
type route struct {
	path      string
	get, post http.HandlerFunc
}

// currentUser returns the user of the request's session, if any.
func (p *Pages) currentUser(r *http.Request) (gatehouse.User, bool, error) {
	c, err := r.Cookie(p.cookie)
	if err != nil {
		return gatehouse.User{}, false, nil
	}
	u, err := p.OAuth.SessionUser(r.Context(), c.Value)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.User{}, false, nil
	}
	if err != nil {
		return gatehouse.User{}, false, err
	}
	return u, true, nil
}

func (p *Pages) setSession(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: p.cookie, Value: id, Path: "/", HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(p.OAuth.Config().SessionTTL.Seconds()),
	})
}

// setDevice sets the device cookie: long-lived, kept across logout, sent
// only to this site (SameSite=Strict: a sign-in posts from our own page).
func (p *Pages) setDevice(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: p.deviceCookie, Value: id, Path: "/", HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(p.OAuth.Config().DeviceTTL.Seconds()),
	})
}

func (p *Pages) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: p.cookie, Value: "", Path: "/", HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

type homePage struct {
	Username  string
	Developer bool // links to the developer portal
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	u, _, err := p.currentUser(r)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "home", homePage{Username: u.Username, Developer: u.Developer})
}

func (p *Pages) loggedOut(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "logged_out", nil)
}

// logout ends the session and answers 303 (RFC 9700 §4.12: never 307).
func (p *Pages) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(p.cookie); err == nil {
		if err := p.OAuth.EndSession(r.Context(), c.Value); err != nil {
			p.serverError(w, r, err)
			return
		}
	}
	p.clearSession(w)
	http.Redirect(w, r, "/logged-out", http.StatusSeeOther)
}
