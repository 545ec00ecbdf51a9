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
	digest := s.digest.Digest(code)
	stored, err := s.store.GetCode(ctx, digest)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return TokenResponse{}, errBadCode
	}
	if err != nil {
		return TokenResponse{}, fmt.Errorf("redeem code: %w", err)
	}
	// Issue 9 finding 6: whoever lacks the code's client, redirect URI or
	// verifier is refused before the code is consumed, so that they cannot
	// burn it for the app it belongs to.
	if err := s.checkCode(ctx, c, stored, verifier, req.Params["redirect_uri"]); err != nil {
		return TokenResponse{}, err
	}
	if !stored.UsedAt.IsZero() {
		return TokenResponse{}, s.codeReplayed(ctx, stored)
	}
	if !s.clock().Before(stored.ExpiresAt) {
		return TokenResponse{}, errBadCode
	}
	// The grant is read first: the refresh token's lifetime is bounded by
	// its age. A revocation committed after this read still wins: the
	// store writes no token into a revoked grant.
	g, err := s.store.GetGrant(ctx, stored.GrantID)
	if err != nil {
		return TokenResponse{}, fmt.Errorf("redeem code: %w", err)
	}
	if !g.RevokedAt.IsZero() {
		return TokenResponse{}, errBadCode
	}
	resp, tokens := s.userTokens(c.App, g, stored.Scopes)
	// One commit consumes the code and stores the tokens (issue 10 item 5).
	stored, err = s.store.RedeemCode(ctx, digest, s.clock(), tokens)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return TokenResponse{}, errBadCode // gone, or its grant revoked meanwhile
	case errors.Is(err, gatehouse.ErrAlreadyUsed):
		// A concurrent redemption by the same app with the same verifier
		// won: this one is a replay.
		return TokenResponse{}, s.codeReplayed(ctx, stored)
	case err != nil:
		return TokenResponse{}, fmt.Errorf("redeem code: %w", err)
	}
	s.usedScopes(ctx, c.App, stored.Scopes)
	return resp, nil
}

// checkCode verifies the bindings of a code (OAuth 2.1 §4.1.3; RFC 6749
// §4.1.3; RFC 7636 §4.6): its app, its redirect URI when one is sent, and
// its PKCE challenge. A refusal of a code's own app is audited as what it
// is; another app's attempt is too, against the code's app.
func (s *Server) checkCode(ctx context.Context, c Client, code gatehouse.Code, verifier, redirectURI string) error {
	var why string
	var refused *Error
	switch {
	case code.AppID != c.App.ID:
		why, refused = "was presented by another app ("+quote(c.App.ClientID)+")", errBadCode
	case redirectURI != "" && redirectURI != code.RedirectURI:
		why, refused = "was presented with another redirect_uri", Errorf(CodeInvalidGrant, "redirect_uri does not match the authorization request")
	case !VerifyPKCE(verifier, code.Challenge):
		why, refused = "was presented with a code_verifier that does not match its code_challenge", Errorf(CodeInvalidGrant, "code_verifier does not match the code_challenge")
	default:
		return nil
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventCodeRefused, At: s.clock(), AppID: code.AppID, UserID: code.UserID, GrantID: code.GrantID,
		Detail: "an authorization code " + why + "; it was refused and not consumed"})
	return refused
}

// codeReplayed handles a code redeemed a second time by its own app with
// the right verifier (anyone else was refused by checkCode and revokes
// nothing: OAuth 2.1 §7.5.2): RFC 6749 §4.1.2, RFC 9700 §4.2.4 revoke what
// was issued from it.
func (s *Server) codeReplayed(ctx context.Context, code gatehouse.Code) error {
	now := s.clock()
	if err := s.store.RevokeGrant(ctx, code.GrantID, now); err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return fmt.Errorf("revoke replayed code's grant: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventCodeReplay, At: now, AppID: code.AppID, UserID: code.UserID, GrantID: code.GrantID,
		Detail: "an authorization code was redeemed twice; its grant was revoked"})
	return errBadCode
}

// userTokens builds, for the caller to store, an access token and, when
// the app may refresh, a refresh token, both with the grant's scopes.
func (s *Server) userTokens(app gatehouse.App, g gatehouse.Grant, scopes []string) (TokenResponse, []gatehouse.Token) {
	at, atok := s.newAccess(app.ID, g.UserID, g.ID, scopes, nil)
	resp := TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.cfg.AccessTokenTTL.Seconds()), Scope: strings.Join(scopes, " ")}
	if !app.AllowsGrant(gatehouse.GrantRefreshToken) {
		return resp, []gatehouse.Token{atok}
	}
	rt, rtok := s.newRefresh(app.ID, g.UserID, g, scopes, nil)
	resp.RefreshToken = rt
	return resp, []gatehouse.Token{atok, rtok}
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
