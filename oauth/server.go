package oauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// Default lifetimes.
const (
	DefaultAccessTokenTTL = 10 * time.Minute
	// touchEvery bounds how often a credential's last use is written, so that
	// verifying a secret stays one read on the hot path.
	touchEvery = time.Minute
)

// Config holds the protocol settings of a Server.
type Config struct {
	// Issuer is the issuer identifier (RFC 8414 §2): an absolute URL with no
	// query or fragment; https outside development.
	Issuer string
	// AccessTokenTTL is the lifetime of access tokens; 0 means the default.
	AccessTokenTTL time.Duration
}

// Server applies the OAuth rules on top of a Store.
type Server struct {
	store  gatehouse.Store
	digest *secret.Digester
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
}

// Options are the optional dependencies of a Server.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // the clock; time.Now when nil
}

// NewServer returns a Server. The server key must be at least 32 bytes.
func NewServer(store gatehouse.Store, serverKey []byte, cfg Config, opts Options) (*Server, error) {
	d, err := secret.NewDigester(serverKey)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	if err := ValidateIssuer(cfg.Issuer, true); err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if cfg.AccessTokenTTL < 0 {
		return nil, errors.New("oauth: access token lifetime must be positive")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{store: store, digest: d, cfg: cfg, log: opts.Logger, now: opts.Now}, nil
}

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.cfg.Issuer }

// Store returns the store the server works on.
func (s *Server) Store() gatehouse.Store { return s.store }

// ValidateIssuer checks an issuer identifier (RFC 8414 §2): an absolute URL
// with a host, no query and no fragment, and https unless allowHTTPLoopback
// permits http on a loopback address.
func ValidateIssuer(issuer string, allowHTTPLoopback bool) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("issuer must be an absolute URL such as https://id.example.com")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return errors.New("issuer must not have a query, a fragment or user info")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && allowHTTPLoopback && isLoopbackHost(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return errors.New("issuer must be https (http is allowed only on a loopback address with --dev)")
	default:
		return fmt.Errorf("issuer scheme %q is not https", u.Scheme)
	}
}

// now returns the current time truncated to milliseconds, the precision the
// stores keep.
func (s *Server) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }
