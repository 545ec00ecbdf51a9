package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

var errBadCode = Errorf(CodeInvalidGrant, "the authorization code is invalid, expired or used")

// authorizationCode serves RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): the code
// is bound to the app, the redirect URI and the challenge, lives at most 60 s
// and is single-use; a second use revokes every token issued from it.
func (s *Server) authorizationCode(ctx context.Context, c Client, req TokenRequest) (TokenResponse, error) {
	code, verifier := req.Params["code"], req.Params["code_verifier"]
	if code == "" {
		return TokenResponse{}, Errorf(CodeInvalidRequest, "code is required")
	}
	// RFC 9700 §2.1.1, RFC 7636 §4.1: every code has a challenge, so every
	// redemption needs a well-formed verifier.
	if verifier == "" {
		return TokenResponse{}, Errorf(CodeInvalidRequest, "code_verifier is required")
	}
	if !validVerifier(verifier) {
		return TokenResponse{}, Errorf(CodeInvalidRequest, "code_verifier must be 43 to 128 unreserved characters")
	}
	if k, err := secret.Parse(code); err != nil || k != secret.Code {
		return TokenResponse{}, errBadCode
	}
	now := s.clock()
	stored, err := s.store.ConsumeCode(ctx, s.digest.Digest(code), now)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return TokenResponse{}, errBadCode
	case errors.Is(err, gatehouse.ErrAlreadyUsed):
		return TokenResponse{}, s.codeReplayed(ctx, c, stored, verifier)
	case err != nil:
		return TokenResponse{}, fmt.Errorf("redeem code: %w", err)
	}
	g, err := s.checkCode(ctx, c, stored, verifier, req.Params["redirect_uri"])
	if err != nil {
		return TokenResponse{}, err
	}
	return s.issueUserTokens(ctx, c.App, g, stored.Scopes)
}

// checkCode verifies the bindings of a freshly consumed code and returns
// its grant.
func (s *Server) checkCode(ctx context.Context, c Client, code gatehouse.Code, verifier, redirectURI string) (gatehouse.Grant, error) {
	// OAuth 2.1 §4.1.3: the code belongs to the app that redeems it.
	if code.AppID != c.App.ID || !s.clock().Before(code.ExpiresAt) {
		return gatehouse.Grant{}, errBadCode
	}
	// RFC 6749 §4.1.3: a redirect_uri sent here must be the one of the request.
	if redirectURI != "" && redirectURI != code.RedirectURI {
		return gatehouse.Grant{}, Errorf(CodeInvalidGrant, "redirect_uri does not match the authorization request")
	}
	if !VerifyPKCE(verifier, code.Challenge) {
		return gatehouse.Grant{}, Errorf(CodeInvalidGrant, "code_verifier does not match the code_challenge")
	}
	g, err := s.store.GetGrant(ctx, code.GrantID)
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("redeem code: %w", err)
	}
	if !g.RevokedAt.IsZero() {
		return gatehouse.Grant{}, errBadCode
	}
	return g, nil
}

// codeReplayed handles a code presented a second time. Only a replay by the
// code's own app with the right verifier revokes the grant: anyone else could
// otherwise revoke a user's tokens at will (OAuth 2.1 §7.5.2).
func (s *Server) codeReplayed(ctx context.Context, c Client, code gatehouse.Code, verifier string) error {
	if code.AppID != c.App.ID || !VerifyPKCE(verifier, code.Challenge) {
		return errBadCode
	}
	// RFC 6749 §4.1.2, RFC 9700 §4.2.4: revoke what was issued from the code.
	now := s.clock()
	if err := s.store.RevokeGrant(ctx, code.GrantID, now); err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return fmt.Errorf("revoke replayed code's grant: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventCodeReplay, At: now, AppID: code.AppID, UserID: code.UserID, GrantID: code.GrantID,
		Detail: "an authorization code was redeemed twice; its grant was revoked"})
	return errBadCode
}

// issueUserTokens mints an access token and, when the app may refresh, a
// refresh token, both with the grant's scopes. The store refuses to write
// into a grant revoked meanwhile (a replay of the code): that is a bad code.
func (s *Server) issueUserTokens(ctx context.Context, app gatehouse.App, g gatehouse.Grant, scopes []string) (TokenResponse, error) {
	at, _, err := s.mintAccess(ctx, app.ID, g.UserID, g.ID, scopes)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return TokenResponse{}, errBadCode
	}
	if err != nil {
		return TokenResponse{}, err
	}
	resp := TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.cfg.AccessTokenTTL.Seconds()), Scope: strings.Join(scopes, " ")}
	if !app.AllowsGrant(gatehouse.GrantRefreshToken) {
		return resp, nil
	}
	rt, rtok := s.newRefresh(app.ID, g.UserID, g, scopes, nil)
	if err := s.store.CreateToken(ctx, rtok); errors.Is(err, gatehouse.ErrNotFound) {
		return TokenResponse{}, errBadCode
	} else if err != nil {
		return TokenResponse{}, fmt.Errorf("store refresh token: %w", err)
	}
	resp.RefreshToken = rt
	return resp, nil
}

// newRefresh builds a refresh token that expires when idle, and never after
// the grant's absolute limit (RFC 9700 §4.14.2).
func (s *Server) newRefresh(appID, userID int64, g gatehouse.Grant, scopes []string, parent []byte) (string, gatehouse.Token) {
	issued := s.clock()
	exp := issued.Add(s.cfg.RefreshIdleTTL)
	if limit := g.CreatedAt.Add(s.cfg.RefreshMaxTTL); limit.Before(exp) {
		exp = limit
	}
	raw := secret.New(secret.RefreshToken)
	return raw, gatehouse.Token{
		Digest: s.digest.Digest(raw), Kind: gatehouse.RefreshToken, AppID: appID, UserID: userID, GrantID: g.ID,
		Scopes: scopes, IssuedAt: issued, ExpiresAt: exp, Parent: parent,
	}
}

// RecordEvent records an audit event at now, for a transport that saw it
// (a throttled address); a failure to record is logged, not fatal.
func (s *Server) RecordEvent(ctx context.Context, e gatehouse.Event) {
	e.At = s.clock()
	s.event(ctx, e)
}

// event records an audit event; a failure to record is logged, not fatal.
func (s *Server) event(ctx context.Context, e gatehouse.Event) {
	s.log.WarnContext(ctx, "security event", "kind", e.Kind, "app_id", e.AppID, "user_id", e.UserID, "grant_id", e.GrantID)
	if _, err := s.store.RecordEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "record security event", "kind", e.Kind, "err", err)
	}
}
