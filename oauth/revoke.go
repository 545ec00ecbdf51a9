package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
)

// Revoke serves RFC 7009. The client authenticates (a public app by its
// client_id); it may revoke only tokens issued to it. A malformed, unknown,
// expired or already revoked token is a success, as RFC 7009 §2.2 says. The
// token_type_hint is ignored: the token's prefix says what it is.
func (s *Server) Revoke(ctx context.Context, caller ClientAuth, token string) error {
	c, err := s.AuthenticateClient(ctx, caller)
	if err != nil {
		return err
	}
	if token == "" {
		return Errorf(CodeInvalidRequest, "token is required")
	}
	t, err := s.lookup(ctx, token)
	if err != nil || t.Digest == nil {
		return err
	}
	if t.AppID != c.App.ID {
		// RFC 7009 §2.1: refuse, and leave the token valid.
		return Errorf(CodeUnauthorizedClient, "the token was not issued to this client")
	}
	return s.revokeToken(ctx, t)
}

// revokeToken applies the revocation cascade of DESIGN.md: an access token
// alone; a refresh token with its whole grant.
func (s *Server) revokeToken(ctx context.Context, t gatehouse.Token) error {
	now := s.clock()
	var err error
	if t.Kind == gatehouse.RefreshToken && t.GrantID != 0 {
		err = s.store.RevokeGrant(ctx, t.GrantID, now)
	} else {
		err = s.store.RevokeToken(ctx, t.Digest, now)
	}
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}
