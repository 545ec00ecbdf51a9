package oauth

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Metadata is the RFC 8414 authorization server metadata. It lists only
// what the server really supports.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	// RevokedAccessTokensEndpoint is Gatehouse's own: POST with an access
	// token in the Authorization header revokes that token.
	RevokedAccessTokensEndpoint string `json:"gatehouse_revoked_access_tokens_endpoint"`
}

// RevokedAccessTokensPath is the path of the revoked-access-tokens API
// (RevokeOwnToken).
const RevokedAccessTokensPath = "/api/v1/revoked_access_tokens"

// Metadata returns the server's metadata document.
func (s *Server) Metadata(ctx context.Context) (Metadata, error) {
	scopes, err := s.store.ListScopes(ctx)
	if err != nil {
		return Metadata{}, fmt.Errorf("metadata: %w", err)
	}
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = sc.Name
	}
	secretAuth := []string{AuthBasic, AuthPost}
	return Metadata{
		Issuer:                s.cfg.Issuer,
		AuthorizationEndpoint: s.cfg.Issuer + "/authorize",
		TokenEndpoint:         s.cfg.Issuer + "/token",
		IntrospectionEndpoint: s.cfg.Issuer + "/introspect",
		RevocationEndpoint:    s.cfg.Issuer + "/revoke",
		// RFC 8628 §4.
		DeviceAuthorizationEndpoint: s.cfg.Issuer + DeviceAuthorizationPath,
		ScopesSupported:             names,
		ResponseTypesSupported:      []string{"code"}, // RFC 9700 §2.1.2: no implicit
		GrantTypesSupported:         s.GrantTypes(),
		// Public apps send client_id alone at the token endpoint.
		TokenEndpointAuthMethodsSupported:         []string{AuthBasic, AuthPost, AuthNone},
		IntrospectionEndpointAuthMethodsSupported: secretAuth,
		// Public apps revoke their own tokens by client_id (RFC 7009 §2.1).
		RevocationEndpointAuthMethodsSupported: []string{AuthBasic, AuthPost, AuthNone},
		CodeChallengeMethodsSupported:          []string{"S256"},
		// RFC 9207 §3: every authorization response carries iss.
		AuthorizationResponseIssParameterSupported: true,
		RevokedAccessTokensEndpoint:                s.cfg.Issuer + RevokedAccessTokensPath,
	}, nil
}

// SweepGrace is how long after their expiry records are deleted. The
// janitor deletes a grant with its last code or token, so a request that
// checked a code or refresh token just before it expired must never find
// the grant gone under it: no request lives a minute (WriteTimeout 30 s).
const SweepGrace = time.Minute

// Sweep deletes, in batches of at most batch records so that no
// transaction grows without bound, the records past their lifetime:
// expired tokens, codes, sessions, devices and attempt buckets, the grants
// that no token or code refers to any more, and audit events older than
// the retention. It returns how many it deleted. Revoked tokens are kept
// until they expire, so that introspection and replay detection still
// know them.
func (s *Server) Sweep(ctx context.Context, batch int) (int, error) {
	now := s.clock()
	expired, err := drain(ctx, batch, func() (int, error) {
		return s.store.DeleteExpired(ctx, now.Add(-SweepGrace), batch)
	})
	if err != nil {
		return expired, fmt.Errorf("sweep expired: %w", err)
	}
	events, err := drain(ctx, batch, func() (int, error) {
		return s.store.DeleteEvents(ctx, now.Add(-s.cfg.EventRetention), batch)
	})
	if err != nil {
		return expired + events, fmt.Errorf("sweep audit events: %w", err)
	}
	// Expiries are audited here, once across every process; the
	// credentials stay, listed as expired, until an operator deletes them.
	if _, err := s.noteExpiredCredentials(ctx, batch); err != nil {
		return expired + events, fmt.Errorf("audit expired credentials: %w", err)
	}
	return expired + events, nil
}

// drain calls del until it deletes fewer than batch records, pausing in
// between to let writers in, and returns the total.
func drain(ctx context.Context, batch int, del func() (int, error)) (int, error) {
	total := 0
	for {
		n, err := del()
		total += n
		if err != nil || n < batch {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// originCache holds the CORS allow-list, so that a request with an Origin
// header costs a map lookup, not a listing of every app. It is valid while
// the store's generation is unchanged, like the app cache: an app registered
// or deleted by any process, or on any instance, changes it at once.
type originCache struct {
	mu      sync.Mutex
	origins map[string]bool
	gen     int64
	valid   bool
}

// AllowedOrigin reports whether a browser at origin may call the token and
// revocation endpoints: it must be the origin of a public app's registered
// https redirect URI (browser-based apps draft §6.3.3.4). Nothing else gets
// CORS, and credentials are never allowed cross-origin.
func (s *Server) AllowedOrigin(ctx context.Context, origin string) (bool, error) {
	if !strings.HasPrefix(origin, "https://") {
		return false, nil
	}
	g, err := s.store.Generation(ctx)
	if err != nil {
		return false, fmt.Errorf("cors: %w", err)
	}
	s.origins.mu.Lock()
	defer s.origins.mu.Unlock()
	if !s.origins.valid || s.origins.gen != g {
		set, err := s.publicOrigins(ctx)
		if err != nil {
			return false, err
		}
		s.origins.origins, s.origins.gen, s.origins.valid = set, g, true
	}
	return s.origins.origins[origin], nil
}

func (s *Server) publicOrigins(ctx context.Context) (map[string]bool, error) {
	apps, err := s.store.ListApps(ctx)
	if err != nil {
		return nil, fmt.Errorf("cors: %w", err)
	}
	set := make(map[string]bool)
	for _, a := range apps {
		if a.Type != gatehouse.Public {
			continue
		}
		for _, uri := range a.RedirectURIs {
			if u, err := url.Parse(uri); err == nil && u.Scheme == "https" {
				set[u.Scheme+"://"+u.Host] = true
			}
		}
	}
	return set, nil
}
