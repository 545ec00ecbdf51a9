package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

// MaxOverlap bounds how long a rotated credential keeps working beside its
// successor.
const MaxOverlap = 90 * 24 * time.Hour

// validCredentialName reports whether name can label a credential: 1 to 64
// printable characters on one line.
func validCredentialName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 64 || !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return refuse(errors.New("a credential name is 1 to 64 characters on one line"))
	}
	return nil
}

// confidential returns an error unless app may hold credentials.
func confidential(app gatehouse.App) error {
	if app.Type != gatehouse.Confidential {
		// DESIGN invariant 5.
		return refuse(fmt.Errorf("app %s is public: a public app never has a secret", app.ClientID))
	}
	return nil
}

// limitErr says a limit of credentials in the operator's words.
func limitErr(app gatehouse.App, err error) error {
	if errors.Is(err, gatehouse.ErrLimitReached) {
		return &operatorError{msg: fmt.Sprintf("app %s already holds %d unexpired credentials: delete one, or let a rotated one expire, first", app.ClientID, gatehouse.MaxCredentials), is: gatehouse.ErrLimitReached}
	}
	return err
}

// CreateCredential generates a new client secret for a confidential app,
// named name, expiring at expires (zero: never), and stores its digest.
// The secret is returned once. It is audited.
func (s *Server) CreateCredential(ctx context.Context, app gatehouse.App, name string, expires time.Time) (string, gatehouse.Credential, error) {
	if err := confidential(app); err != nil {
		return "", gatehouse.Credential{}, err
	}
	if err := validCredentialName(name); err != nil {
		return "", gatehouse.Credential{}, err
	}
	sec, c := s.newCredential(app.ID, name)
	if !expires.IsZero() && !expires.After(c.CreatedAt) {
		return "", gatehouse.Credential{}, refuse(errors.New("a credential's expiry must be in the future"))
	}
	c.ExpiresAt = expires
	c, err := s.store.CreateCredential(ctx, c)
	if err != nil {
		return "", gatehouse.Credential{}, fmt.Errorf("create credential: %w", limitErr(app, err))
	}
	detail := Detail{"credential_id": c.ID, "name": c.Name, "hint": c.Hint}
	if !expires.IsZero() {
		detail["expires_at"] = expires
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventCredentialCreated, At: c.CreatedAt, AppID: app.ID, Detail: detail.String()})
	return sec, c, nil
}

// CredentialOf returns the credential id of app, or an operator's error
// that is gatehouse.ErrNotFound.
func (s *Server) CredentialOf(ctx context.Context, app gatehouse.App, id int64) (gatehouse.Credential, error) {
	creds, err := s.store.ListCredentials(ctx, app.ID)
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("look up credential: %w", err)
	}
	for _, c := range creds {
		if c.ID == id {
			return c, nil
		}
	}
	return gatehouse.Credential{}, &operatorError{msg: fmt.Sprintf("app %s has no credential %d (gatehouse credential list --app %s)", app.ClientID, id, app.ClientID), is: gatehouse.ErrNotFound}
}

// RotateCredential replaces the credential id of app with a new one (named
// name, or the old one's name when name is empty): the old credential
// keeps working for overlap and then expires, unless it expires earlier
// already. Rotation revokes nothing (DESIGN's cascade: "Credential rotated
// (routine)"). The new secret is returned once. It is audited.
func (s *Server) RotateCredential(ctx context.Context, app gatehouse.App, id int64, overlap time.Duration, name string) (string, gatehouse.Credential, gatehouse.Credential, error) {
	if err := confidential(app); err != nil {
		return "", gatehouse.Credential{}, gatehouse.Credential{}, err
	}
	if overlap < 0 || overlap > MaxOverlap {
		return "", gatehouse.Credential{}, gatehouse.Credential{}, refuse(fmt.Errorf("the overlap must be between 0 and %s", formatDays(MaxOverlap)))
	}
	old, err := s.CredentialOf(ctx, app, id)
	if err != nil {
		return "", gatehouse.Credential{}, gatehouse.Credential{}, err
	}
	if name == "" {
		name = old.Name
	}
	if err := validCredentialName(name); err != nil {
		return "", gatehouse.Credential{}, gatehouse.Credential{}, err
	}
	sec, next := s.newCredential(app.ID, name)
	if old.Expired(next.CreatedAt) {
		return "", gatehouse.Credential{}, gatehouse.Credential{}, refuse(fmt.Errorf("credential %d expired already: create a new one with 'gatehouse credential create'", id))
	}
	expires := next.CreatedAt.Add(overlap)
	next, err = s.store.RotateCredential(ctx, old.ID, expires, next)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return "", gatehouse.Credential{}, gatehouse.Credential{}, fmt.Errorf("app %s has no credential %d", app.ClientID, id)
	}
	if err != nil {
		return "", gatehouse.Credential{}, gatehouse.Credential{}, fmt.Errorf("rotate credential: %w", limitErr(app, err))
	}
	if old.ExpiresAt.IsZero() || expires.Before(old.ExpiresAt) {
		old.ExpiresAt = expires
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventCredentialRotated, At: next.CreatedAt, AppID: app.ID, Detail: Detail{
		"credential_id": old.ID, "name": old.Name, "expires_at": old.ExpiresAt,
		"new_credential_id": next.ID, "new_name": next.Name, "new_hint": next.Hint, "overlap_seconds": int64(overlap / time.Second),
	}.String()})
	return sec, next, old, nil
}

// RevokeCredential deletes the credential id of app as compromised: it
// stops authenticating at once and, in the same transaction, every access
// and refresh token of the app and every grant of the app is revoked
// (DESIGN's cascade: "Credential deleted as compromised"), so that a
// revoked refresh token presented later is an ended grant, not a reuse.
// It is audited.
func (s *Server) RevokeCredential(ctx context.Context, app gatehouse.App, id int64) (gatehouse.Credential, gatehouse.Revoked, error) {
	c, err := s.CredentialOf(ctx, app, id)
	if err != nil {
		return gatehouse.Credential{}, gatehouse.Revoked{}, err
	}
	now := s.clock()
	r, err := s.store.RevokeCredential(ctx, c.ID, now)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.Credential{}, gatehouse.Revoked{}, fmt.Errorf("app %s has no credential %d", app.ClientID, id)
	}
	if err != nil {
		return gatehouse.Credential{}, gatehouse.Revoked{}, fmt.Errorf("delete credential: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventCredentialDeleted, At: now, AppID: app.ID, Detail: Detail{
		"credential_id": c.ID, "name": c.Name, "hint": c.Hint, "tokens_revoked": r.Tokens, "grants_revoked": r.Grants,
	}.String()})
	return c, r, nil
}

// noteExpiredCredentials audits every credential that expired since the
// janitor last looked, once across every process.
func (s *Server) noteExpiredCredentials(ctx context.Context, batch int) (int, error) {
	return drain(ctx, batch, func() (int, error) {
		cs, err := s.store.NoteExpiredCredentials(ctx, s.clock(), batch)
		for _, c := range cs {
			s.event(ctx, gatehouse.Event{Kind: gatehouse.EventCredentialExpired, At: c.ExpiresAt, Actor: gatehouse.ActorServer, AppID: c.AppID,
				Detail: Detail{"credential_id": c.ID, "name": c.Name, "hint": c.Hint}.String()})
		}
		return len(cs), err
	})
}

// expiredUseEvery is how often one process audits the use of one expired
// credential.
const expiredUseEvery = time.Hour

// expiredUsed audits that a client presented the expired credential c: the
// client got invalid_client, as for a wrong secret, and the log says which.
func (s *Server) expiredUsed(ctx context.Context, app gatehouse.App, c gatehouse.Credential, now time.Time) {
	if !s.expiredSeen.due(c.ID, now, expiredUseEvery) {
		return
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventExpiredCredentialUsed, At: now, Actor: gatehouse.ActorApp, AppID: app.ID, Detail: Detail{
		"credential_id": c.ID, "name": c.Name, "hint": c.Hint, "expired_at": c.ExpiresAt,
		"message": "a client authenticated with an expired secret and was refused as for a wrong one",
	}.String()})
}

// formatDays writes d in days when it is whole days.
func formatDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
