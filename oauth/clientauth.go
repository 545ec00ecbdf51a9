package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// Client authentication methods (RFC 8414 token_endpoint_auth_methods_supported).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
	AuthNone  = "none"
)

// ClientAuth is what a request presented to identify its client.
type ClientAuth struct {
	Method   string // AuthBasic, AuthPost or AuthNone
	ClientID string
	Secret   string // empty for AuthNone
}

// Client is an authenticated client.
type Client struct {
	App        gatehouse.App
	Credential gatehouse.Credential // zero for a public app
	// gen is the cache generation read while authenticating, reused by the
	// rest of the request.
	gen int64
}

// AuthFailure tells why a client authentication failed. It is for logs and
// metrics only; the client always gets the same invalid_client answer.
type AuthFailure struct {
	ClientID string
	Reason   string
	// NotAGuess marks a failure that cannot be a guess at a secret (a
	// public app, which has none, presented one): it counts against no
	// limit, so that nobody can throttle a public app's address by it.
	NotAGuess bool
}

func (f *AuthFailure) Error() string { return "client authentication failed: " + f.Reason }

// Unwrap makes errors.As(err, **Error) see the protocol error.
func (f *AuthFailure) Unwrap() error { return ErrInvalidClient }

func authFailed(clientID, reason string) error {
	return &AuthFailure{ClientID: clientID, Reason: reason}
}

// AuthenticateClient verifies a client. Verifying a secret is one keyed-hash
// lookup: secrets are 256-bit random strings, so a slow password hash would
// add cost and no security.
func (s *Server) AuthenticateClient(ctx context.Context, ca ClientAuth) (Client, error) {
	if ca.ClientID == "" {
		return Client{}, authFailed("", "no client_id")
	}
	g, err := s.current(ctx)
	if err != nil {
		return Client{}, fmt.Errorf("authenticate client: %w", err)
	}
	return s.authenticateAt(ctx, ca, g)
}

// authenticateAt is AuthenticateClient at generation g, which the caller
// has read (or, if its write checks g, taken from the cache).
func (s *Server) authenticateAt(ctx context.Context, ca ClientAuth, g int64) (Client, error) {
	if ca.ClientID == "" {
		return Client{}, authFailed("", "no client_id")
	}
	if !plausibleClientID(ca.ClientID) {
		return Client{}, authFailed(ca.ClientID, "unknown client")
	}
	app, err := s.appAt(ctx, g, ca.ClientID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return Client{}, authFailed(ca.ClientID, "unknown client")
	}
	if err != nil {
		return Client{}, fmt.Errorf("authenticate client: %w", err)
	}
	if app.Type == gatehouse.Public {
		// DESIGN invariant 5: a public app can never authenticate with a secret.
		if ca.Method != AuthNone {
			return Client{}, &AuthFailure{ClientID: ca.ClientID, Reason: "public client presented a secret", NotAGuess: true}
		}
		return Client{App: app, gen: g}, nil
	}
	if ca.Method == AuthNone || ca.Secret == "" {
		return Client{}, authFailed(ca.ClientID, "confidential client without a secret")
	}
	cred, err := s.verifySecret(ctx, g, app, ca.Secret)
	if err != nil {
		return Client{}, err
	}
	return Client{App: app, Credential: cred, gen: g}, nil
}

// plausibleClientID reports whether id could name an app: client IDs are
// short printable ASCII (secret.NewID). Anything else is an unknown client
// without a lookup; PostgreSQL would refuse a NUL byte or invalid UTF-8
// with an error, not a miss.
func plausibleClientID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for i := range len(id) {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) verifySecret(ctx context.Context, g int64, app gatehouse.App, sec string) (gatehouse.Credential, error) {
	if k, err := secret.Parse(sec); err != nil || k != secret.ClientSecret {
		return gatehouse.Credential{}, authFailed(app.ClientID, "malformed secret")
	}
	cred, err := s.credentialAt(ctx, g, s.digest.Digest(sec))
	if errors.Is(err, gatehouse.ErrNotFound) || (err == nil && cred.AppID != app.ID) {
		return gatehouse.Credential{}, authFailed(app.ClientID, "wrong secret")
	}
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("verify secret: %w", err)
	}
	now := s.clock()
	if cred.Expired(now) {
		s.expiredUsed(ctx, app, cred, now)
		return gatehouse.Credential{}, authFailed(app.ClientID, "expired secret")
	}
	if now.Sub(cred.LastUsedAt) >= touchEvery {
		if err := s.store.TouchCredential(ctx, cred.ID, now); err != nil {
			s.log.WarnContext(ctx, "record credential use", "client_id", app.ClientID, "credential_id", cred.ID, "err", err)
		} else {
			cred.LastUsedAt = now
			s.touched(cred)
		}
	}
	return cred, nil
}
