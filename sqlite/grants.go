package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

const grantColumns = `id, user_id, app_id, scopes, created_at, revoked_at`

func scanGrant(r scanner) (gatehouse.Grant, error) {
	var g gatehouse.Grant
	var scopes string
	var created, revoked sql.NullInt64
	err := r.Scan(&g.ID, &g.UserID, &g.AppID, &scopes, &created, &revoked)
	g.Scopes, g.CreatedAt, g.RevokedAt = splitScopes(scopes), timeOf(created), timeOf(revoked)
	return g, err
}

// CreateGrant stores a grant and returns it with its ID set. A missing user or
// app fails a foreign key and is gatehouse.ErrNotFound.
func (s *Store) CreateGrant(ctx context.Context, g gatehouse.Grant) (gatehouse.Grant, error) {
	g, err := insertGrant(ctx, s.write, g)
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("sqlite: create grant: %w", mapErr(err))
	}
	return g, nil
}

// insertGrantSQL stores a grant and returns its ID.
const insertGrantSQL = `INSERT INTO grants (user_id, app_id, scopes, created_at, revoked_at) VALUES (?, ?, ?, ?, ?) RETURNING id`

// insertGrant stores g through q and returns it with its ID set.
func insertGrant(ctx context.Context, q querier, g gatehouse.Grant) (gatehouse.Grant, error) {
	id, err := one(ctx, q, scanID, insertGrantSQL,
		g.UserID, g.AppID, joinScopes(g.Scopes), millis(g.CreatedAt), millis(g.RevokedAt))
	g.ID = id
	return g, err
}

// OpenGrant stores the consent (when not nil), the grant and its code in
// one transaction, with statements prepared before it begins.
func (s *Store) OpenGrant(ctx context.Context, g gatehouse.Grant, c gatehouse.Code, consent *gatehouse.Consent) (gatehouse.Grant, error) {
	sts, err := s.write.prepared(ctx, putConsentSQL, insertGrantSQL, createCodeSQL)
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("sqlite: open grant: %w", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if consent != nil {
			if _, err := tx.StmtContext(ctx, sts[0]).ExecContext(ctx, consentArgs(*consent)...); err != nil {
				return err
			}
		}
		var err error
		if g, err = insertGrant(ctx, stmtQuerier{tx.StmtContext(ctx, sts[1])}, g); err != nil {
			return err
		}
		c.GrantID = g.ID
		_, err = tx.StmtContext(ctx, sts[2]).ExecContext(ctx, codeArgs(c)...)
		return err
	})
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("sqlite: open grant: %w", mapErr(err))
	}
	return g, nil
}

// GetGrant returns the grant with that ID, or gatehouse.ErrNotFound.
func (s *Store) GetGrant(ctx context.Context, id int64) (gatehouse.Grant, error) {
	g, err := one(ctx, s.read, scanGrant, `SELECT `+grantColumns+` FROM grants WHERE id = ?`, id)
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("sqlite: get grant: %w", err)
	}
	return g, nil
}

// ListGrants returns the grants of a user and of an app; a zero ID
// matches any.
func (s *Store) ListGrants(ctx context.Context, userID, appID int64) ([]gatehouse.Grant, error) {
	grants, err := all(ctx, s.read, scanGrant, `SELECT `+grantColumns+` FROM grants
		WHERE (?1 = 0 OR user_id = ?1) AND (?2 = 0 OR app_id = ?2) ORDER BY id`, userID, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list grants: %w", err)
	}
	return grants, nil
}

// RevokeGrant marks the grant and its unrevoked tokens revoked at at, in one
// transaction; earlier revocation times are kept.
func (s *Store) RevokeGrant(ctx context.Context, id int64, at time.Time) error {
	if err := requireTime(at); err != nil {
		return fmt.Errorf("sqlite: revoke grant: %w", err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n, err := execTx(ctx, tx, `UPDATE grants SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, millis(at), id)
		if err == nil && n == 0 {
			return gatehouse.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = execTx(ctx, tx, `UPDATE tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL`, millis(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: revoke grant: %w", err)
	}
	return nil
}

const consentColumns = `user_id, app_id, scopes, updated_at`

func scanConsent(r scanner) (gatehouse.Consent, error) {
	var c gatehouse.Consent
	var scopes string
	var updated sql.NullInt64
	err := r.Scan(&c.UserID, &c.AppID, &scopes, &updated)
	c.Scopes, c.UpdatedAt = splitScopes(scopes), timeOf(updated)
	return c, err
}

// PutConsent creates or replaces the consent of a user for an app in one
// statement. A missing user or app is gatehouse.ErrNotFound.
func (s *Store) PutConsent(ctx context.Context, c gatehouse.Consent) error {
	_, err := s.write.exec(ctx, putConsentSQL, consentArgs(c)...)
	if err != nil {
		return fmt.Errorf("sqlite: put consent: %w", mapErr(err))
	}
	return nil
}

// putConsentSQL creates or replaces a consent; its arguments are consentArgs.
const putConsentSQL = `INSERT INTO consents (` + consentColumns + `) VALUES (?, ?, ?, ?)
	ON CONFLICT (user_id, app_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`

func consentArgs(c gatehouse.Consent) []any {
	return []any{c.UserID, c.AppID, joinScopes(c.Scopes), millis(c.UpdatedAt)}
}

// GetConsent returns the consent of a user for an app, or
// gatehouse.ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, userID, appID int64) (gatehouse.Consent, error) {
	c, err := one(ctx, s.read, scanConsent,
		`SELECT `+consentColumns+` FROM consents WHERE user_id = ? AND app_id = ?`, userID, appID)
	if err != nil {
		return gatehouse.Consent{}, fmt.Errorf("sqlite: get consent: %w", err)
	}
	return c, nil
}

// DeleteConsent deletes the consent of a user for an app, or returns
// gatehouse.ErrNotFound.
func (s *Store) DeleteConsent(ctx context.Context, userID, appID int64) error {
	n, err := s.write.exec(ctx, `DELETE FROM consents WHERE user_id = ? AND app_id = ?`, userID, appID)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete consent: %w", err)
	}
	return nil
}

// DisconnectApp revokes every grant of the user for the app, with their
// tokens, and deletes the consent, in one transaction; see gatehouse.Store.
func (s *Store) DisconnectApp(ctx context.Context, userID, appID int64, at time.Time) (gatehouse.Revoked, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.Revoked{}, fmt.Errorf("sqlite: disconnect app: %w", err)
	}
	var r gatehouse.Revoked
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if r.Tokens, err = execTx(ctx, tx, `UPDATE tokens SET revoked_at = ?1 WHERE revoked_at IS NULL AND grant_id IN
			(SELECT id FROM grants WHERE user_id = ?2 AND app_id = ?3)`, millis(at), userID, appID); err != nil {
			return err
		}
		if r.Grants, err = execTx(ctx, tx, `UPDATE grants SET revoked_at = ?1 WHERE revoked_at IS NULL AND user_id = ?2 AND app_id = ?3`,
			millis(at), userID, appID); err != nil {
			return err
		}
		_, err = execTx(ctx, tx, `DELETE FROM consents WHERE user_id = ? AND app_id = ?`, userID, appID)
		return err
	})
	if err != nil {
		return gatehouse.Revoked{}, fmt.Errorf("sqlite: disconnect app: %w", err)
	}
	return r, nil
}

// LastTokenIssued returns the newest issued_at of the tokens of the
// user's grants for the app, through the grants' user index and the
// tokens' grant index; see gatehouse.Store.
func (s *Store) LastTokenIssued(ctx context.Context, userID, appID int64) (time.Time, error) {
	var at sql.NullInt64
	rows, err := s.read.query(ctx, `SELECT max(issued_at) FROM tokens WHERE grant_id IN
		(SELECT id FROM grants WHERE user_id = ? AND app_id = ?)`, userID, appID)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: last token issued: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&at); err != nil {
			return time.Time{}, fmt.Errorf("sqlite: last token issued: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: last token issued: %w", err)
	}
	return timeOf(at), nil
}
