package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
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
	return s.revokeToken(ctx, t, Detail{"how": "revocation endpoint (RFC 7009)"}, gatehouse.ActorApp)
}

// revokeToken applies the revocation cascade of DESIGN.md: an access token
// alone; a refresh token with its whole grant. A token that was live is
// audited, with detail saying how, and actor as the one who asked.
func (s *Server) revokeToken(ctx context.Context, t gatehouse.Token, detail Detail, actor string) error {
	now := s.clock()
	live := t.Active(now)
	var err error
	if t.Kind == gatehouse.RefreshToken && t.GrantID != 0 {
		// A used refresh token is inactive, yet its grant may live on.
		g, gerr := s.store.GetGrant(ctx, t.GrantID)
		live = gerr == nil && g.RevokedAt.IsZero()
		err = s.store.RevokeGrant(ctx, t.GrantID, now)
		detail["cascade"] = "the whole grant: its refresh token and every access token issued in it"
	} else {
		err = s.store.RevokeToken(ctx, t.Digest, now)
	}
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return fmt.Errorf("revoke token: %w", err)
	}
	if live {
		detail["token_kind"] = string(t.Kind)
		s.event(ctx, gatehouse.Event{Kind: gatehouse.EventTokenRevoked, At: now, Actor: actor, AppID: t.AppID, UserID: t.UserID, GrantID: t.GrantID, Detail: detail.String()})
	}
	return nil
}

// OperatorRevocation is what RevokeByOperator revoked.
type OperatorRevocation struct {
	Kind    string // "access token", "refresh token", "authorization code", "session"
	AppID   int64  // zero for a session
	UserID  int64  // zero for a client credentials token
	GrantID int64  // zero when the token belongs to no grant
	// Already: the token was revoked, used up or expired before; nothing
	// more was needed.
	Already bool
}

// RevokeByOperator revokes any one token an operator holds (DESIGN's
// cascade applies): an access token alone; a refresh token with its grant;
// an authorization code with everything issued from it; a login session
// ends. An unknown token is gatehouse.ErrNotFound, a client secret an
// error that names the command for it.
func (s *Server) RevokeByOperator(ctx context.Context, token string) (OperatorRevocation, error) {
	kind, err := secret.Parse(token)
	if err != nil {
		return OperatorRevocation{}, &operatorError{msg: "that is not a Gatehouse token: " + err.Error(), is: gatehouse.ErrNotFound}
	}
	now := s.clock()
	digest := s.digest.Digest(token)
	unknown := &operatorError{msg: "no such token: it was never issued here, or it expired and was swept; nothing was revoked", is: gatehouse.ErrNotFound}
	switch kind {
	case secret.AccessToken, secret.RefreshToken:
		t, err := s.store.GetToken(ctx, digest)
		if errors.Is(err, gatehouse.ErrNotFound) {
			return OperatorRevocation{}, unknown
		}
		if err != nil {
			return OperatorRevocation{}, fmt.Errorf("look up token: %w", err)
		}
		r := OperatorRevocation{Kind: string(t.Kind) + " token", AppID: t.AppID, UserID: t.UserID, GrantID: t.GrantID, Already: !t.Active(now)}
		if t.Kind == gatehouse.RefreshToken && t.GrantID != 0 {
			g, err := s.store.GetGrant(ctx, t.GrantID)
			r.Already = err != nil || !g.RevokedAt.IsZero()
		}
		if err := s.revokeToken(ctx, t, Detail{"how": "operator (gatehouse token revoke)"}, gatehouse.ActorOperator); err != nil {
			return OperatorRevocation{}, err
		}
		return r, nil
	case secret.Code:
		c, err := s.store.GetCode(ctx, digest)
		if errors.Is(err, gatehouse.ErrNotFound) {
			return OperatorRevocation{}, unknown
		}
		if err != nil {
			return OperatorRevocation{}, fmt.Errorf("look up code: %w", err)
		}
		r := OperatorRevocation{Kind: "authorization code", AppID: c.AppID, UserID: c.UserID, GrantID: c.GrantID}
		if _, err := s.store.ConsumeCode(ctx, digest, now); err != nil && !errors.Is(err, gatehouse.ErrAlreadyUsed) {
			return OperatorRevocation{}, fmt.Errorf("revoke code: %w", err)
		}
		g, err := s.store.GetGrant(ctx, c.GrantID)
		if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
			return OperatorRevocation{}, fmt.Errorf("revoke code: %w", err)
		}
		r.Already = errors.Is(err, gatehouse.ErrNotFound) || !g.RevokedAt.IsZero()
		if err := s.store.RevokeGrant(ctx, c.GrantID, now); err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
			return OperatorRevocation{}, fmt.Errorf("revoke code: %w", err)
		}
		if !r.Already {
			s.event(ctx, gatehouse.Event{Kind: gatehouse.EventTokenRevoked, At: now, Actor: gatehouse.ActorOperator, AppID: c.AppID, UserID: c.UserID, GrantID: c.GrantID,
				Detail: Detail{"how": "operator (gatehouse token revoke)", "token_kind": "code", "cascade": "the code and every token issued from it (its grant)"}.String()})
		}
		return r, nil
	case secret.Session:
		sess, err := s.store.GetSession(ctx, digest)
		if errors.Is(err, gatehouse.ErrNotFound) {
			return OperatorRevocation{}, unknown
		}
		if err != nil {
			return OperatorRevocation{}, fmt.Errorf("look up session: %w", err)
		}
		if err := s.store.DeleteSession(ctx, digest); err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
			return OperatorRevocation{}, fmt.Errorf("end session: %w", err)
		}
		s.event(ctx, gatehouse.Event{Kind: gatehouse.EventTokenRevoked, At: now, Actor: gatehouse.ActorOperator, UserID: sess.UserID,
			Detail: Detail{"how": "operator (gatehouse token revoke)", "token_kind": "session", "cascade": "the login session ends"}.String()})
		return OperatorRevocation{Kind: "session", UserID: sess.UserID}, nil
	case secret.ClientSecret:
		c, err := s.store.GetCredentialByDigest(ctx, digest)
		if errors.Is(err, gatehouse.ErrNotFound) {
			return OperatorRevocation{}, &operatorError{msg: "that is a client secret, and no app has it; nothing was revoked", is: gatehouse.ErrNotFound}
		}
		if err != nil {
			return OperatorRevocation{}, fmt.Errorf("look up credential: %w", err)
		}
		a, err := s.store.GetAppByID(ctx, c.AppID)
		if err != nil {
			return OperatorRevocation{}, fmt.Errorf("look up app: %w", err)
		}
		return OperatorRevocation{}, fmt.Errorf("that is the client secret of credential %d (%s) of app %s: delete it with 'gatehouse credential delete --app %s --credential %d'",
			c.ID, c.Name, a.ClientID, a.ClientID, c.ID)
	default:
		return OperatorRevocation{}, &operatorError{msg: fmt.Sprintf("a %s is not a token that can be revoked", strings.TrimSuffix(string(kind), "_")), is: gatehouse.ErrNotFound}
	}
}

// RevokeOwnToken serves the revoked-access-tokens API: the bearer of a
// live access token revokes that token (and nothing else). Anything but a
// live access token is invalid_token.
func (s *Server) RevokeOwnToken(ctx context.Context, token string) error {
	t, err := s.lookup(ctx, token)
	if err != nil {
		return err
	}
	if t.Kind != gatehouse.AccessToken || !t.Active(s.clock()) {
		return Errorf(CodeInvalidToken, "the access token is invalid, expired or revoked")
	}
	actor := gatehouse.ActorUser
	if t.UserID == 0 {
		actor = gatehouse.ActorApp
	}
	return s.revokeToken(ctx, t, Detail{"how": "by its bearer (POST /api/v1/revoked_access_tokens)"}, actor)
}
