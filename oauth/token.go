package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// TokenRequest is a parsed token endpoint request (RFC 6749 §4, §6).
type TokenRequest struct {
	Client    ClientAuth
	GrantType string
	Scope     string
	Params    map[string]string // the other form parameters, each given once
}

// TokenResponse is a successful token response (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// grantHandler issues tokens for one grant type to an authenticated client.
type grantHandler func(ctx context.Context, c Client, req TokenRequest) (TokenResponse, error)

// GrantTypes lists the grant types the token endpoint serves. The password
// and implicit grants do not exist (DESIGN invariant 1, RFC 9700 §2.4).
func (s *Server) GrantTypes() []string {
	return []string{gatehouse.GrantAuthorizationCode, gatehouse.GrantRefreshToken, gatehouse.GrantClientCredentials, gatehouse.GrantDeviceCode}
}

func (s *Server) grant(grantType string) grantHandler {
	switch grantType {
	case gatehouse.GrantAuthorizationCode:
		return s.authorizationCode
	case gatehouse.GrantRefreshToken:
		return s.refreshToken
	case gatehouse.GrantClientCredentials:
		return s.clientCredentials
	case gatehouse.GrantDeviceCode:
		return s.deviceCode
	}
	return nil
}

// Token runs the fixed pipeline of the token endpoint: authenticate the
// client, check that it may use the grant type, dispatch to the grant's
// handler. No grant can skip a step.
func (s *Server) Token(ctx context.Context, req TokenRequest) (TokenResponse, error) {
	if req.GrantType == "" {
		return TokenResponse{}, Errorf(CodeInvalidRequest, "grant_type is required")
	}
	handler := s.grant(req.GrantType)
	if handler == nil {
		return TokenResponse{}, Errorf(CodeUnsupportedGrantType, "the grant type "+quote(req.GrantType)+" is not supported")
	}
	if req.GrantType == gatehouse.GrantClientCredentials {
		return s.checkedToken(ctx, req, handler)
	}
	c, err := s.AuthenticateClient(ctx, req.Client)
	if err != nil {
		return TokenResponse{}, err
	}
	if !c.App.AllowsGrant(req.GrantType) {
		return TokenResponse{}, Errorf(CodeUnauthorizedClient, "the app may not use the grant type "+req.GrantType)
	}
	return handler(ctx, c, req)
}

// checkedToken is Token's pipeline for a grant whose only write is
// CreateTokenAt (client credentials), which refuses a stale generation: the
// client may be authenticated from the cache without reading the generation
// first. A stale generation, or any failure decided on cached data, is
// decided again on the generation read afresh; so is a stale one then, a
// few times.
func (s *Server) checkedToken(ctx context.Context, req TokenRequest, handler grantHandler) (TokenResponse, error) {
	if g, ok := s.cachedGen(); ok {
		if resp, err := s.tokenAt(ctx, req, handler, g); err == nil {
			return resp, nil
		}
	}
	for range 3 {
		g, err := s.current(ctx)
		if err != nil {
			return TokenResponse{}, fmt.Errorf("token: %w", err)
		}
		resp, err := s.tokenAt(ctx, req, handler, g)
		if !errors.Is(err, gatehouse.ErrStale) {
			return resp, err
		}
	}
	return TokenResponse{}, fmt.Errorf("token: apps changed during every attempt: %w", gatehouse.ErrStale)
}

// tokenAt authenticates the client at generation g, checks the grant type
// and runs the handler.
func (s *Server) tokenAt(ctx context.Context, req TokenRequest, handler grantHandler, g int64) (TokenResponse, error) {
	c, err := s.authenticateAt(ctx, req.Client, g)
	if err != nil {
		return TokenResponse{}, err
	}
	if !c.App.AllowsGrant(req.GrantType) {
		return TokenResponse{}, Errorf(CodeUnauthorizedClient, "the app may not use the grant type "+req.GrantType)
	}
	return handler(ctx, c, req)
}

// clientCredentials serves RFC 6749 §4.4: a confidential app acting on its own
// behalf.
func (s *Server) clientCredentials(ctx context.Context, c Client, req TokenRequest) (TokenResponse, error) {
	if c.App.Type != gatehouse.Confidential {
		// RFC 6749 §4.4 and OAuth 2.1 §4.2: confidential clients only.
		return TokenResponse{}, Errorf(CodeUnauthorizedClient, "only confidential apps may use client_credentials")
	}
	requested, err := ParseScope(req.Scope)
	if err != nil {
		return TokenResponse{}, err
	}
	scopes, err := grantScopes(requested, c.App.Scopes, c.App.DefaultScopes)
	if err != nil {
		return TokenResponse{}, err
	}
	// Stored only if the app and its credentials are as authenticated.
	at, t := s.newAccess(c.App.ID, 0, 0, scopes, nil)
	if err := s.store.CreateTokenAt(ctx, t, c.gen); err != nil {
		return TokenResponse{}, fmt.Errorf("store access token: %w", err)
	}
	s.usedScopes(ctx, c.App, scopes)
	return TokenResponse{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   int64(t.ExpiresAt.Sub(t.IssuedAt).Seconds()),
		Scope:       strings.Join(scopes, " "),
	}, nil
}

// newAccess builds an access token; the caller stores it.
func (s *Server) newAccess(appID, userID, grantID int64, scopes []string, parent []byte) (string, gatehouse.Token) {
	raw := secret.New(secret.AccessToken)
	now := s.clock()
	return raw, gatehouse.Token{
		Digest: s.digest.Digest(raw), Kind: gatehouse.AccessToken, AppID: appID, UserID: userID, GrantID: grantID,
		Scopes: scopes, IssuedAt: now, ExpiresAt: now.Add(s.cfg.AccessTokenTTL), Parent: parent,
	}
}
