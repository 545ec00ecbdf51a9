package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// PublicApp is an app that cannot keep a secret: a native, desktop or
// command-line app, or a single-page app. It has no secret field, so it
// cannot be given one; it identifies itself by ClientID alone, and PKCE
// protects its authorization codes.
type PublicApp struct {
	// Provider is the authorization server, from Discover.
	Provider *Provider
	// ClientID is the app's client_id.
	ClientID string
	// RedirectURL is the registered redirect URI: https, http on a
	// loopback IP address (127.0.0.1, [::1]), or a private-use scheme named
	// after a domain the app owns, with one slash (com.example.app:/cb;
	// RFC 8252 §7.1).
	RedirectURL string
	// Scopes are the scopes to ask for. They are required: there is no
	// "all scopes" default (ask for the least the app needs).
	Scopes []string
}

// ConfidentialApp is an app that keeps a secret on a server: a web
// backend. It authenticates at the token and revocation endpoints with
// HTTP Basic (client_secret_basic, RFC 6749 §2.3.1).
type ConfidentialApp struct {
	// Provider is the authorization server, from Discover.
	Provider *Provider
	// ClientID is the app's client_id.
	ClientID string
	// RedirectURL is the registered redirect URI (see PublicApp).
	RedirectURL string
	// Scopes are the scopes to ask for; required (see PublicApp).
	Scopes []string
	// Secret is the client secret, from SecretFromEnv or SecretFromFile.
	Secret Secret
}

// App is a *PublicApp or a *ConfidentialApp; no other type implements it.
type App interface {
	core() (*core, error)
}

var (
	_ App = (*PublicApp)(nil)
	_ App = (*ConfidentialApp)(nil)
)

// ErrConfig: the app is not usable as configured; the error says why.
var ErrConfig = errors.New("client: app configuration")

// core is what both kinds of app share, validated.
type core struct {
	p            *Provider
	clientID     string
	redirectURL  string
	scopes       []string
	secret       Secret
	confidential bool
}

func (a *PublicApp) core() (*core, error) {
	return newCore(a.Provider, a.ClientID, a.RedirectURL, a.Scopes, Secret{}, false)
}

func (a *ConfidentialApp) core() (*core, error) {
	if a.Secret.IsZero() {
		return nil, fmt.Errorf("%w: a ConfidentialApp needs its Secret (SecretFromEnv or SecretFromFile)", ErrConfig)
	}
	return newCore(a.Provider, a.ClientID, a.RedirectURL, a.Scopes, a.Secret, true)
}

func newCore(p *Provider, clientID, redirect string, scopes []string, s Secret, confidential bool) (*core, error) {
	var errs []error
	if p == nil {
		errs = append(errs, fmt.Errorf("%w: no Provider (use Discover)", ErrConfig))
	} else if err := p.checkEndpoints(); err != nil {
		errs = append(errs, err) // a Provider written by hand: the rule of Discover
	}
	if clientID == "" {
		errs = append(errs, fmt.Errorf("%w: no ClientID", ErrConfig))
	}
	if len(scopes) == 0 {
		errs = append(errs, fmt.Errorf("%w: no Scopes: ask for the scopes the app needs, explicitly", ErrConfig))
	}
	for _, sc := range scopes {
		if sc == "" || strings.ContainsAny(sc, " \"\\") {
			errs = append(errs, fmt.Errorf("%w: the scope %q is not a scope token (RFC 6749 §3.3)", ErrConfig, sc))
		}
	}
	if err := CheckRedirectURL(redirect); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &core{p: p, clientID: clientID, redirectURL: redirect, scopes: scopes, secret: s, confidential: confidential}, nil
}

// CheckRedirectURL reports whether raw may be an app's redirect URL: an
// https URL, an http URL on a loopback IP address, or a private-use scheme
// that is a reverse domain name, written with a single slash
// (com.example.app:/oauth2redirect; RFC 8252 §7.1, NAT-7.1-a). A fragment
// is never allowed (RFC 6749 §3.1.2).
func CheckRedirectURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return fmt.Errorf("%w: the redirect URL %q is not a URL", ErrConfig, raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%w: the redirect URL %q has a fragment", ErrConfig, raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("%w: the redirect URL %q has no host", ErrConfig, raw)
		}
	case "http":
		// RFC 8252 §8.3: loopback IP literals, not "localhost".
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("%w: the redirect URL %q is http on a host that is not a loopback IP address (use https, or 127.0.0.1)", ErrConfig, raw)
		}
	default:
		// RFC 8252 §7.1: com.example.app:/path — a reverse domain, one slash.
		rest := strings.TrimPrefix(raw, u.Scheme+":")
		if !strings.Contains(u.Scheme, ".") || !strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "//") {
			return fmt.Errorf("%w: the redirect URL %q: a private-use scheme must be a reverse domain name the app owns, written with one slash (com.example.app:/cb)", ErrConfig, raw)
		}
	}
	return nil
}

// httpClient is the client of every request to the token and revocation
// endpoints: the Provider's, made not to follow redirects, so that a code,
// verifier, refresh token or secret is never re-sent to wherever a 307
// points.
func (c *core) httpClient() *http.Client {
	hc := http.Client{Timeout: 30 * time.Second}
	if c.p.HTTPClient != nil {
		hc = *c.p.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// config is the x/oauth2 configuration for one request. It holds the
// secret itself: it is made per request and never kept or printed.
func (c *core) config(redirectURL string) *oauth2.Config {
	style := oauth2.AuthStyleInParams // a public client sends client_id only
	if c.confidential {
		style = oauth2.AuthStyleInHeader // client_secret_basic
	}
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.secret.reveal(),
		RedirectURL:  redirectURL,
		Scopes:       c.scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.p.AuthorizationEndpoint,
			TokenURL:  c.p.TokenEndpoint,
			AuthStyle: style,
		},
	}
}

// oauth2Context hands the Provider's HTTP client to x/oauth2, which takes
// it only from a context. It stays inside this package.
func (c *core) oauth2Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.httpClient())
}

// AuthCodeURL starts an authorization code flow: it returns the URL to
// send the user's browser to and the Transaction to keep until the
// response comes back. returnTo, if not empty, is where the app goes
// after a successful login: a path on the app's own origin.
func (a *PublicApp) AuthCodeURL(returnTo string) (string, *Transaction, error) {
	return authCodeURL(a, returnTo)
}

// AuthCodeURL starts an authorization code flow: it returns the URL to
// send the user's browser to and the Transaction to keep until the
// response comes back. returnTo, if not empty, is where the app goes
// after a successful login: a path on the app's own origin.
func (a *ConfidentialApp) AuthCodeURL(returnTo string) (string, *Transaction, error) {
	return authCodeURL(a, returnTo)
}

// Exchange checks the authorization response and redeems its code (see
// Transaction).
func (a *PublicApp) Exchange(ctx context.Context, tx *Transaction, response url.Values) (*Session, error) {
	return exchange(ctx, a, tx, response)
}

// Exchange checks the authorization response and redeems its code (see
// Transaction).
func (a *ConfidentialApp) Exchange(ctx context.Context, tx *Transaction, response url.Values) (*Session, error) {
	return exchange(ctx, a, tx, response)
}

// TokenSource returns the source of key's tokens kept in store (see
// PersistentSource): the same one for the same app, store and key while
// it is in use, so that a Logout and the refreshes of one process
// serialise on it.
func (a *PublicApp) TokenSource(store TokenStore, key TokenKey) *PersistentSource {
	return sharedSource(a, store, key)
}

// TokenSource returns the source of key's tokens kept in store (see
// PersistentSource): the same one for the same app, store and key while
// it is in use, so that a Logout and the refreshes of one process
// serialise on it.
func (a *ConfidentialApp) TokenSource(store TokenStore, key TokenKey) *PersistentSource {
	return sharedSource(a, store, key)
}
