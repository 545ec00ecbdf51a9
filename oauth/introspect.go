package oauth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// Introspection is an RFC 7662 §2.2 response. An inactive token is exactly
// {"active":false}: no other member is set.
type Introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Iss       string `json:"iss,omitempty"`
	// Probe is set, on an inactive answer, when the token was well formed
	// and yet no token has it: a caller that sends many is scanning for
	// tokens (INT-2.1-a). It is for the transport's limit, not the answer.
	Probe bool `json:"-"`
}

var inactive = Introspection{}

// Introspect answers RFC 7662 for an authenticated confidential client. The
// caller sees a token only if it was issued to the caller or the caller is a
// registered resource server; any other token, and every expired, revoked,
// unknown or malformed one, is {"active":false} (RFC 7662 §2.2, §4).
func (s *Server) Introspect(ctx context.Context, caller ClientAuth, token string) (Introspection, error) {
	if caller.ClientID == "" {
		return inactive, authFailed("", "no client_id")
	}
	// One read gives the token and the generation that the caller is then
	// authenticated at, from the cache if it is still valid.
	t, g, wellFormed, err := s.lookupAt(ctx, token)
	if err != nil {
		return inactive, err
	}
	s.observe(g)
	c, err := s.authenticateAt(ctx, caller, g)
	if err != nil {
		return inactive, err
	}
	if c.App.Type != gatehouse.Confidential {
		// RFC 7662 §2.1: the endpoint requires authorization.
		return inactive, authFailed(c.App.ClientID, "public client at introspection")
	}
	if token == "" {
		return inactive, Errorf(CodeInvalidRequest, "token is required")
	}
	if !visible(t, c.App, s.clock()) {
		return Introspection{Probe: wellFormed && t.Digest == nil}, nil
	}
	return s.describe(ctx, t, &c.gen)
}

// visible reports whether caller may see t as active. An access token is
// shown to the app it was issued to and to resource servers. A refresh
// token is a credential of its client, never a bearer token: only its own
// app sees it, so that an API that checks only "active" cannot accept one;
// and a superseded (rotated-out) refresh token is inactive to everyone
// (RFC 7662 §2.2, §4; INT-2.2-a; DESIGN invariant 12).
func visible(t gatehouse.Token, caller gatehouse.App, now time.Time) bool {
	if !t.Active(now) {
		return false
	}
	if t.Kind == gatehouse.RefreshToken {
		return t.AppID == caller.ID && t.UsedAt.IsZero()
	}
	return t.AppID == caller.ID || caller.ResourceServer
}

// lookupAt finds a token by its string and reads the generation with it,
// and reports whether the string is shaped like a token. A malformed or
// unknown token is the zero Token (inactive) and no error.
func (s *Server) lookupAt(ctx context.Context, token string) (gatehouse.Token, int64, bool, error) {
	digest, ok := s.tokenDigest(token)
	if !ok {
		g, err := s.store.Generation(ctx)
		if err != nil {
			return gatehouse.Token{}, 0, false, fmt.Errorf("introspect: %w", err)
		}
		return gatehouse.Token{}, g, false, nil
	}
	t, g, err := s.store.GetTokenAt(ctx, digest)
	return found(t, err), g, true, lookupErr(err)
}

// lookup finds a token by its string. A malformed or unknown token is the
// zero Token (inactive) and no error.
func (s *Server) lookup(ctx context.Context, token string) (gatehouse.Token, error) {
	digest, ok := s.tokenDigest(token)
	if !ok {
		return gatehouse.Token{}, nil
	}
	t, err := s.store.GetToken(ctx, digest)
	return found(t, err), lookupErr(err)
}

// tokenDigest returns the digest of an access or refresh token, or false
// for a string that is neither.
func (s *Server) tokenDigest(token string) ([]byte, bool) {
	kind, err := secret.Parse(token)
	if err != nil || (kind != secret.AccessToken && kind != secret.RefreshToken) {
		return nil, false
	}
	return s.digest.Digest(token), true
}

// found is the token a lookup returned, or the zero Token if it failed.
func found(t gatehouse.Token, err error) gatehouse.Token {
	if err != nil {
		return gatehouse.Token{}
	}
	return t
}

// lookupErr is a lookup's error: none for an unknown token.
func lookupErr(err error) error {
	if err == nil || errors.Is(err, gatehouse.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("look up token: %w", err)
}

// describe builds the introspection of an active token. gen, when set, is
// the cache generation the request has already read.
func (s *Server) describe(ctx context.Context, t gatehouse.Token, gen *int64) (Introspection, error) {
	var app gatehouse.App
	var err error
	if gen != nil {
		app, err = s.appByIDAt(ctx, *gen, t.AppID)
	} else {
		app, err = s.appByID(ctx, t.AppID)
	}
	if errors.Is(err, gatehouse.ErrNotFound) {
		return inactive, nil // the app was deleted between the two reads
	}
	if err != nil {
		return inactive, fmt.Errorf("introspect: %w", err)
	}
	out := Introspection{
		Active:   true,
		Scope:    strings.Join(t.Scopes, " "),
		ClientID: app.ClientID,
		Exp:      t.ExpiresAt.Unix(),
		Iat:      t.IssuedAt.Unix(),
		Iss:      s.cfg.Issuer,
	}
	// RFC 7662 §2.2 token_type: what the token is, on every active answer.
	out.TokenType = "Bearer"
	if t.Kind == gatehouse.RefreshToken {
		out.TokenType = "refresh_token"
	}
	if t.UserID != 0 {
		u, err := s.store.GetUser(ctx, t.UserID)
		if err != nil {
			return inactive, fmt.Errorf("introspect: %w", err)
		}
		out.Sub = UserSubject(u.ID)
		out.Username = u.Username
	}
	return out, nil
}

// UserSubject is the sub of a user's tokens. Client credentials tokens have
// no sub, so that a resource server never mistakes an app for a user
// (RFC 9700 §4.15).
func UserSubject(id int64) string { return "user:" + strconv.FormatInt(id, 10) }
