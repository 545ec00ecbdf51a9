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
	// CodeTTL is the lifetime of an authorization code (DESIGN invariant 2:
	// at most 60 s).
	CodeTTL               = 60 * time.Second
	DefaultRefreshIdleTTL = 7 * 24 * time.Hour
	DefaultRefreshMaxTTL  = 30 * 24 * time.Hour
	DefaultRetryWindow    = 30 * time.Second
	DefaultSessionTTL     = 12 * time.Hour
	// DefaultDeviceTTL is how long a device cookie vouches for a browser
	// its user signed in from.
	DefaultDeviceTTL = 180 * 24 * time.Hour
	// DefaultEventRetention is how long audit events are kept.
	DefaultEventRetention = 90 * 24 * time.Hour
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
	// RefreshIdleTTL: a refresh token not exchanged for this long expires.
	RefreshIdleTTL time.Duration
	// RefreshMaxTTL: no refresh token of a grant lives beyond the grant's
	// creation plus this (RFC 9700 §4.14.2).
	RefreshMaxTTL time.Duration
	// RetryWindow: how long a client that lost a refresh response may present
	// the old refresh token again (DESIGN.md, "The retry window").
	RetryWindow time.Duration
	// SessionTTL is the lifetime of a login session.
	SessionTTL time.Duration
	// DeviceTTL is the lifetime of a device cookie.
	DeviceTTL time.Duration
	// EventRetention: the janitor deletes audit events older than this.
	EventRetention time.Duration
	// DeviceCodeTTL is the lifetime of a device authorization request
	// (RFC 8628): the time its user has to enter the user code.
	DeviceCodeTTL time.Duration
	// DeviceInterval is the polling interval a device is first told.
	DeviceInterval time.Duration
}

func (c *Config) setDefaults() error {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.AccessTokenTTL, DefaultAccessTokenTTL},
		{&c.RefreshIdleTTL, DefaultRefreshIdleTTL},
		{&c.RefreshMaxTTL, DefaultRefreshMaxTTL},
		{&c.RetryWindow, DefaultRetryWindow},
		{&c.SessionTTL, DefaultSessionTTL},
		{&c.DeviceTTL, DefaultDeviceTTL},
		{&c.EventRetention, DefaultEventRetention},
		{&c.DeviceCodeTTL, DefaultDeviceCodeTTL},
		{&c.DeviceInterval, DefaultDeviceInterval},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
		if *d.v < 0 {
			return errors.New("lifetimes must be positive")
		}
	}
	if c.DeviceCodeTTL > 30*time.Minute {
		// The user code's entropy is counted for this (UserCodeLength).
		return errors.New("the device code lifetime must be at most 30 minutes")
	}
	if c.DeviceInterval < time.Second || c.DeviceInterval%time.Second != 0 {
		return errors.New("the device polling interval must be whole seconds")
	}
	if c.RefreshIdleTTL > c.RefreshMaxTTL {
		return errors.New("the refresh token idle lifetime exceeds its absolute lifetime")
	}
	return nil
}

// Server applies the OAuth rules on top of a Store.
type Server struct {
	store   gatehouse.Store
	digest  *secret.Digester
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	actor   string // of events whose context names none
	origins originCache
	cache   appCache
	// expiredSeen remembers when this process last audited the use of
	// each expired credential, so that a client retrying with an old
	// secret makes one event an hour, not one per request.
	expiredSeen perKey[int64]
	// lockouts bounds the audit of a sign-in limit's lockout to one event
	// per limit, key and lockout.
	lockouts perKey[string]
	// scopeUse bounds the writes that record which scopes apps use.
	scopeUse perKey[scopeKey]
	// dummyHash is verified for unknown usernames, so that a login costs
	// the same whether the user exists or not.
	dummyHash string
}

// Options are the optional dependencies of a Server.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // the clock; time.Now when nil
	// Actor is the actor of audit events whose context names none:
	// gatehouse.ActorServer when empty; the command line sets
	// gatehouse.ActorOperator.
	Actor string
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
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Actor == "" {
		opts.Actor = gatehouse.ActorServer
	}
	dummy, err := HashPassword(secret.New(secret.Session))
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	return &Server{store: store, digest: d, cfg: cfg, log: opts.Logger, now: opts.Now, actor: opts.Actor, dummyHash: dummy}, nil
}

// Config returns the server's settings, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

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
	if u.Path != "" {
		// Endpoints are served at the root; a path issuer would advertise
		// endpoints that do not exist (RFC 8414 §3).
		return errors.New("issuer must have no path, not even a trailing slash (https://id.example.com)")
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

// Now is the server's clock, as its records are stamped: the pages use it
// to say how old a credential is.
func (s *Server) Now() time.Time { return s.clock() }

// now returns the current time truncated to milliseconds, the precision the
// stores keep.
func (s *Server) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }
