package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Metadata is what the toolkit reads of an authorization server's RFC 8414
// metadata document.
type Metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint    string `json:"revocation_endpoint,omitempty"`
	// DeviceAuthorizationEndpoint is where a device login starts (RFC 8628
	// §4); empty when the server has no device flow.
	DeviceAuthorizationEndpoint   string   `json:"device_authorization_endpoint,omitempty"`
	ScopesSupported               []string `json:"scopes_supported,omitempty"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported,omitempty"`
	// IssParameterSupported: every authorization response carries iss
	// (RFC 9207), and a response without one is refused.
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// Provider is an authorization server, configured from its metadata.
type Provider struct {
	Metadata
	// HTTPClient makes every request to the server; it is the one given to
	// Discover (WithHTTPClient), or a client with a 30 s timeout.
	HTTPClient *http.Client
}

// DiscoverOption changes how Discover works.
type DiscoverOption func(*discoverConfig)

type discoverConfig struct {
	client        *http.Client
	insecureLocal bool
	otherOrigins  map[string]bool
}

// WithHTTPClient makes Discover, and every request of the Provider, use c.
func WithHTTPClient(c *http.Client) DiscoverOption {
	return func(d *discoverConfig) { d.client = c }
}

// AllowInsecureLoopback permits an http:// issuer on a loopback address
// (127.0.0.1, [::1]), for development servers ('gatehouse serve --dev')
// and tests. Everything else must be https (OAuth 2.1 §7.1.3.2).
func AllowInsecureLoopback() DiscoverOption {
	return func(d *discoverConfig) { d.insecureLocal = true }
}

// AllowEndpointOrigin permits the metadata to name endpoints on origin
// (scheme://host[:port]) besides the issuer's own.
func AllowEndpointOrigin(origin string) DiscoverOption {
	return func(d *discoverConfig) {
		if d.otherOrigins == nil {
			d.otherOrigins = map[string]bool{}
		}
		d.otherOrigins[origin] = true
	}
}

// ErrIssuerMismatch: the metadata document names another issuer than the
// one it was fetched for (RFC 8414 §3.3): it is not used.
var ErrIssuerMismatch = errors.New("client: the metadata's issuer is not the issuer asked for")

// Discover fetches issuer's metadata from
// issuer/.well-known/oauth-authorization-server and returns the Provider.
// It refuses a document whose issuer differs from issuer byte for byte
// (META-3.3-b), endpoints on another origin than the issuer's unless
// allowed, anything but https (except a loopback issuer with
// AllowInsecureLoopback), a redirect of the metadata request (it is not
// followed), and a server that does not support PKCE S256.
func Discover(ctx context.Context, issuer string, opts ...DiscoverOption) (*Provider, error) {
	var cfg discoverConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.client == nil {
		cfg.client = &http.Client{Timeout: 30 * time.Second}
	}
	u, err := cfg.checkURL("issuer", issuer)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: the issuer %q has a query or fragment", issuer)
	}
	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/oauth-authorization-server"
	if u.Path != "" && u.Path != "/" {
		// RFC 8414 §3.1: the well-known segment goes between host and path.
		wellKnown = u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return nil, fmt.Errorf("client: discover: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	// The document that configures the app comes from the issuer itself:
	// a redirect (to any origin) is refused, not followed.
	hc := *cfg.client
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: discover %s: %w", issuer, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, fmt.Errorf("client: discover %s: the metadata answered %s, a redirect, which is not followed: use the issuer the server names itself", issuer, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("client: discover %s: the metadata answered %s", issuer, resp.Status)
	}
	var md Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md); err != nil {
		return nil, fmt.Errorf("client: discover %s: the metadata is not JSON: %w", issuer, err)
	}
	if md.Issuer != issuer {
		return nil, fmt.Errorf("%w: asked for %q, the document says %q", ErrIssuerMismatch, issuer, md.Issuer)
	}
	origin := u.Scheme + "://" + u.Host
	for _, e := range []struct{ name, value string }{
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
		{"introspection_endpoint", md.IntrospectionEndpoint},
		{"revocation_endpoint", md.RevocationEndpoint},
		{"device_authorization_endpoint", md.DeviceAuthorizationEndpoint},
	} {
		if e.value == "" {
			if e.name == "authorization_endpoint" || e.name == "token_endpoint" {
				return nil, fmt.Errorf("client: discover %s: the metadata has no %s", issuer, e.name)
			}
			continue
		}
		eu, err := cfg.checkURL(e.name, e.value)
		if err != nil {
			return nil, err
		}
		if o := eu.Scheme + "://" + eu.Host; o != origin && !cfg.otherOrigins[o] {
			return nil, fmt.Errorf("client: discover %s: the %s %q is on another origin than the issuer (allow it with AllowEndpointOrigin)", issuer, e.name, e.value)
		}
	}
	if !contains(md.CodeChallengeMethodsSupported, "S256") {
		return nil, fmt.Errorf("client: discover %s: the server does not advertise PKCE S256 (code_challenge_methods_supported)", issuer)
	}
	return &Provider{Metadata: md, HTTPClient: cfg.client}, nil
}

// checkURL parses an absolute https URL (or a loopback http one when
// allowed).
func (c *discoverConfig) checkURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("client: the %s %q is not an absolute URL", what, raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.insecureLocal && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("client: the %s %q is not https (tokens and secrets go only over TLS)", what, raw)
	}
	return u, nil
}

// CheckEndpointURL reports whether raw may be an endpoint that receives
// tokens or secrets: an absolute https URL, or http to a loopback IP
// literal (127.0.0.1, [::1]; not "localhost", whose name may resolve
// elsewhere). Anything else is ErrInsecureTarget (OAuth 2.1 §7.1.3.2).
// The apps and client/rs check every endpoint they use with it, so a
// Provider written by hand is held to the rule Discover applies.
func CheckEndpointURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: the endpoint %q is not an absolute URL", ErrInsecureTarget, raw)
	}
	if !secureTarget(u) {
		return fmt.Errorf("%w: the endpoint %q is not https", ErrInsecureTarget, raw)
	}
	return nil
}

// checkEndpoints checks each endpoint of p the apps call (the
// authorization, token, revocation and device authorization endpoints)
// with CheckEndpointURL.
func (p *Provider) checkEndpoints() error {
	var errs []error
	for _, e := range []string{p.AuthorizationEndpoint, p.TokenEndpoint, p.RevocationEndpoint, p.DeviceAuthorizationEndpoint} {
		if e == "" {
			continue
		}
		if err := CheckEndpointURL(e); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrConfig, err))
		}
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
