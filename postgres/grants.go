package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const grantColumns = `id, user_id, app_id, scopes, created_at, revoked_at`

func scanGrant(r pgx.Row) (gatehouse.Grant, error) {
	var g gatehouse.Grant
	var scopes string
	var created, revoked *int64
	err := r.Scan(&g.ID, &g.UserID, &g.AppID, &scopes, &created, &revoked)
	g.Scopes, g.CreatedAt, g.RevokedAt = splitScopes(scopes), timeOf(created), timeOf(revoked)
	return g, err
}

// CreateGrant stores a grant and returns it with its ID set. A missing user or
// app fails a foreign key and is gatehouse.ErrNotFound.
func (s *Store) CreateGrant(ctx context.Context, g gatehouse.Grant) (gatehouse.Grant, error) {
	id, err := s.insertID(ctx, createGrantSQL, grantArgs(g)...)
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("postgres: create grant: %w", err)
	}
	g.ID = id
	return g, nil
}

// createGrantSQL stores a grant; its arguments are grantArgs.
const createGrantSQL = `INSERT INTO grants (user_id, app_id, scopes, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`

func grantArgs(g gatehouse.Grant) []any {
	return []any{g.UserID, g.AppID, joinScopes(g.Scopes), millis(g.CreatedAt), millis(g.RevokedAt)}
}

// OpenGrant stores the consent (when not nil), the grant and its code in
// one transaction.
func (s *Store) OpenGrant(ctx context.Context, g gatehouse.Grant, c gatehouse.Code, consent *gatehouse.Consent) (gatehouse.Grant, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if consent != nil {
			if _, err := tx.Exec(ctx, putConsentSQL, consentArgs(*consent)...); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, createGrantSQL, grantArgs(g)...).Scan(&g.ID); err != nil {
			return err
		}
		c.GrantID = g.ID
		_, err := tx.Exec(ctx, createCodeSQL, codeArgs(c)...)
		return err
	})
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("postgres: open grant: %w", mapErr(err))
	}
	return g, nil
}

// GetGrant returns the grant with that ID, or gatehouse.ErrNotFound.
func (s *Store) GetGrant(ctx context.Context, id int64) (gatehouse.Grant, error) {
	g, err := readOne(ctx, s, scanGrant, `SELECT `+grantColumns+` FROM grants WHERE id = $1`, id)
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("postgres: get grant: %w", err)
	}
	return g, nil
}

// ListGrants returns the grants of a user and of an app; a zero ID
// matches any.
func (s *Store) ListGrants(ctx context.Context, userID, appID int64) ([]gatehouse.Grant, error) {
	grants, err := readAll(ctx, s, scanGrant, `SELECT `+grantColumns+` FROM grants
		WHERE ($1::bigint = 0 OR user_id = $1) AND ($2::bigint = 0 OR app_id = $2) ORDER BY id`, userID, appID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list grants: %w", err)
	}
	return grants, nil
}

// RevokeGrant marks the grant and its unrevoked tokens revoked at at, in one
// transaction; earlier revocation times are kept.
//
// The two UPDATEs must be two statements. The first takes the grant's row
// lock, and so waits for every CreateToken (or rotation) that holds the
// grant FOR SHARE to commit; in READ COMMITTED the second statement then
// takes a new snapshot, which has the tokens they wrote. One statement (a
// CTE) would look for tokens in the snapshot taken before the wait and miss
// them. Writers that come after the lock see the grant revoked and write
// nothing (see insertGrantTokenSQL).
func (s *Store) RevokeGrant(ctx context.Context, id int64, at time.Time) error {
	if err := requireTime(at); err != nil {
		return fmt.Errorf("postgres: revoke grant: %w", err)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE grants SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, millis(at), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return gatehouse.ErrNotFound
		}
		_, err = tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL`, millis(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke grant: %w", err)
	}
	return nil
}

const consentColumns = `user_id, app_id, scopes, updated_at`

func scanConsent(r pgx.Row) (gatehouse.Consent, error) {
	var c gatehouse.Consent
	var scopes string
	var updated *int64
	err := r.Scan(&c.UserID, &c.AppID, &scopes, &updated)
	c.Scopes, c.UpdatedAt = splitScopes(scopes), timeOf(updated)
	return c, err
}

// PutConsent creates or replaces the consent of a user for an app in one
// statement. A missing user or app is gatehouse.ErrNotFound.
func (s *Store) PutConsent(ctx context.Context, c gatehouse.Consent) error {
	_, err := s.exec(ctx, putConsentSQL, consentArgs(c)...)
	if err != nil {
		return fmt.Errorf("postgres: put consent: %w", err)
	}
	return nil
}

// putConsentSQL creates or replaces a consent; its arguments are consentArgs.
const putConsentSQL = `INSERT INTO consents (` + consentColumns + `) VALUES ($1, $2, $3, $4)
	ON CONFLICT (user_id, app_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`

func consentArgs(c gatehouse.Consent) []any {
	return []any{c.UserID, c.AppID, joinScopes(c.Scopes), millis(c.UpdatedAt)}
}

// GetConsent returns the consent of a user for an app, or
// gatehouse.ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, userID, appID int64) (gatehouse.Consent, error) {
	c, err := readOne(ctx, s, scanConsent,
		`SELECT `+consentColumns+` FROM consents WHERE user_id = $1 AND app_id = $2`, userID, appID)
	if err != nil {
		return gatehouse.Consent{}, fmt.Errorf("postgres: get consent: %w", err)
	}
	return c, nil
}

// DeleteConsent deletes the consent of a user for an app, or returns
// gatehouse.ErrNotFound.
func (s *Store) DeleteConsent(ctx context.Context, userID, appID int64) error {
	n, err := s.exec(ctx, `DELETE FROM consents WHERE user_id = $1 AND app_id = $2`, userID, appID)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: delete consent: %w", err)
	}
	return nil
}

// DisconnectApp revokes every grant of the user for the app, with their
// tokens, and deletes the consent, in one transaction; see gatehouse.Store.
func (s *Store) DisconnectApp(ctx context.Context, userID, appID int64, at time.Time) (gatehouse.Revoked, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.Revoked{}, fmt.Errorf("postgres: disconnect app: %w", err)
	}
	var r gatehouse.Revoked
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The grants first: a token written into one of them after this
		// statement is refused (CreateToken checks the grant, FOR SHARE).
		tag, err := tx.Exec(ctx, `UPDATE grants SET revoked_at = $1 WHERE revoked_at IS NULL AND user_id = $2 AND app_id = $3`,
			millis(at), userID, appID)
		if err != nil {
			return err
		}
		r.Grants = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND grant_id IN
			(SELECT id FROM grants WHERE user_id = $2 AND app_id = $3)`, millis(at), userID, appID)
		if err != nil {
			return err
		}
		r.Tokens = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM consents WHERE user_id = $1 AND app_id = $2`, userID, appID)
		return err
	})
	if err != nil {
		return gatehouse.Revoked{}, fmt.Errorf("postgres: disconnect app: %w", err)
	}
	return r, nil
}

// LastTokenIssued returns the newest issued_at of the tokens of the
// user's grants for the app; see gatehouse.Store.
func (s *Store) LastTokenIssued(ctx context.Context, userID, appID int64) (time.Time, error) {
	var at *int64
	err := s.read(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT max(issued_at) FROM tokens WHERE grant_id IN
			(SELECT id FROM grants WHERE user_id = $1 AND app_id = $2)`, userID, appID).Scan(&at)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: last token issued: %w", err)
	}
	return timeOf(at), nil
}
