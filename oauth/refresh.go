package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

var errBadRefresh = Errorf(CodeInvalidGrant, "the refresh token is invalid, expired or revoked")

// refreshToken serves RFC 6749 §6 with rotation on every use and reuse
// detection (RFC 9700 §4.14.2; DESIGN.md, "The retry window").
func (s *Server) refreshToken(ctx context.Context, c Client, req TokenRequest) (TokenResponse, error) {
	raw := req.Params["refresh_token"]
	if raw == "" {
		return TokenResponse{}, Errorf(CodeInvalidRequest, "refresh_token is required")
	}
	if k, err := secret.Parse(raw); err != nil || k != secret.RefreshToken {
		return TokenResponse{}, errBadRefresh
	}
	old, err := s.store.GetToken(ctx, s.digest.Digest(raw))
	if errors.Is(err, gatehouse.ErrNotFound) {
		return TokenResponse{}, errBadRefresh
	}
	if err != nil {
		return TokenResponse{}, fmt.Errorf("refresh: %w", err)
	}
	g, err := s.checkRefresh(ctx, c, old)
	if err != nil {
		return TokenResponse{}, err
	}
	if !old.RevokedAt.IsZero() {
		// Only a retry revokes a refresh token and leaves its grant live: a
		// thief retried the parent inside the window, or the client did and
		// this copy was stolen. Either way one of two holders is not the
		// client (RFC 9700 §4.14.2).
		return TokenResponse{}, s.refreshReused(ctx, old, "a refresh token revoked by a retry was presented")
	}
	// A scope the operator took from the app since the grant is not
	// issued again: the grant narrows to what the app may still request.
	allowed := slices.DeleteFunc(slices.Clone(old.Scopes), func(sc string) bool { return !slices.Contains(c.App.Scopes, sc) })
	if len(allowed) == 0 {
		return TokenResponse{}, Errorf(CodeInvalidScope, "the app may no longer request any scope of this grant: ask the user to authorize it again")
	}
	// RFC 6749 §6: the scope may narrow, never widen.
	scopes, err := narrowScopes(req.Scope, allowed)
	if err != nil {
		return TokenResponse{}, err
	}
	return s.rotate(ctx, c, old, g, scopes)
}

// checkRefresh verifies that the refresh token belongs to the client (OAuth
// 2.1 §4.3.1) and that it and its grant are live.
func (s *Server) checkRefresh(ctx context.Context, c Client, old gatehouse.Token) (gatehouse.Grant, error) {
	now := s.clock()
	if old.Kind != gatehouse.RefreshToken || old.AppID != c.App.ID || !now.Before(old.ExpiresAt) {
		return gatehouse.Grant{}, errBadRefresh
	}
	g, err := s.store.GetGrant(ctx, old.GrantID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.Grant{}, errBadRefresh
	}
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("refresh: %w", err)
	}
	if !g.RevokedAt.IsZero() || !now.Before(g.CreatedAt.Add(s.cfg.RefreshMaxTTL)) {
		return gatehouse.Grant{}, errBadRefresh
	}
	return g, nil
}

func narrowScopes(requested string, granted []string) ([]string, error) {
	want, err := ParseScope(requested)
	if err != nil {
		return nil, err
	}
	if len(want) == 0 {
		return granted, nil
	}
	for _, sc := range want {
		if !slices.Contains(granted, sc) {
			return nil, Errorf(CodeInvalidScope, "a refresh cannot add the scope "+quote(sc))
		}
	}
	return want, nil
}

// rotate exchanges old for a new refresh token and an access token. A token
// used before is accepted again only inside the retry window and only while
// its successor is unused (a lost response); anything else is theft, and the
// whole grant dies.
func (s *Server) rotate(ctx context.Context, c Client, old gatehouse.Token, g gatehouse.Grant, scopes []string) (TokenResponse, error) {
	now := s.clock()
	retry := !old.UsedAt.IsZero()
	if retry && now.Sub(old.UsedAt) > s.cfg.RetryWindow {
		return TokenResponse{}, s.refreshReused(ctx, old, "a superseded refresh token was presented after the retry window")
	}
	at, atok := s.newAccess(c.App.ID, old.UserID, old.GrantID, scopes, old.Digest)
	rt, rtok := s.newRefresh(c.App.ID, old.UserID, g, old.Scopes, old.Digest)
	_, err := s.store.RotateRefreshToken(ctx, old.Digest, now, retry, []gatehouse.Token{rtok, atok})
	switch {
	case errors.Is(err, gatehouse.ErrAlreadyUsed) && retry:
		return TokenResponse{}, s.refreshReused(ctx, old, "a superseded refresh token was presented after its successor was used")
	case errors.Is(err, gatehouse.ErrAlreadyUsed), errors.Is(err, gatehouse.ErrNotFound):
		// A concurrent exchange won the race: at most one succeeds.
		return TokenResponse{}, errBadRefresh
	case err != nil:
		return TokenResponse{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	s.usedScopes(ctx, c.App, scopes)
	if retry {
		s.event(ctx, gatehouse.Event{Kind: gatehouse.EventRefreshRetry, At: now, AppID: old.AppID, UserID: old.UserID, GrantID: old.GrantID,
			Detail: "a refresh was retried within the retry window; the unused successor was revoked"})
	}
	return TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.cfg.AccessTokenTTL.Seconds()),
		RefreshToken: rt, Scope: strings.Join(scopes, " ")}, nil
}

// refreshReused revokes the grant of a reused refresh token and records the
// event (RFC 9700 §4.14.2).
func (s *Server) refreshReused(ctx context.Context, old gatehouse.Token, why string) error {
	now := s.clock()
	if err := s.store.RevokeGrant(ctx, old.GrantID, now); err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return fmt.Errorf("revoke reused refresh token's grant: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventRefreshReuse, At: now, AppID: old.AppID, UserID: old.UserID, GrantID: old.GrantID,
		Detail: why + "; the grant was revoked"})
	return errBadRefresh
}
