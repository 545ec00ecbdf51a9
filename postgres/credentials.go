package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const credentialColumns = `id, app_id, name, digest, hint, created_at, expires_at, last_used_at`

func scanCredential(r pgx.Row) (gatehouse.Credential, error) {
	var c gatehouse.Credential
	var created, expires, lastUsed *int64
	err := r.Scan(&c.ID, &c.AppID, &c.Name, &c.Digest, &c.Hint, &created, &expires, &lastUsed)
	c.CreatedAt, c.ExpiresAt, c.LastUsedAt = timeOf(created), timeOf(expires), timeOf(lastUsed)
	return c, err
}

// CreateCredential stores a credential and returns it with its ID set. A
// missing app is gatehouse.ErrNotFound, a taken digest
// gatehouse.ErrAlreadyExists, an app that holds gatehouse.MaxCredentials
// unexpired credentials at c.CreatedAt gatehouse.ErrLimitReached. The
// transaction locks the app's row first, so concurrent creators count one
// after another.
func (s *Store) CreateCredential(ctx context.Context, c gatehouse.Credential) (gatehouse.Credential, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := belowCredentialLimit(ctx, tx, c.AppID, c.CreatedAt); err != nil {
			return err
		}
		return tx.QueryRow(ctx, createCredentialSQL, credentialArgs(c)...).Scan(&c.ID)
	})
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("postgres: create credential: %w", mapErr(err))
	}
	return c, nil
}

// belowCredentialLimit locks the app's row (gatehouse.ErrNotFound if there
// is none) and returns gatehouse.ErrLimitReached if the app holds
// gatehouse.MaxCredentials credentials unexpired at now. The count is a
// statement of its own: under READ COMMITTED it takes a snapshot after the
// lock is granted, and so sees what the previous holder committed.
func belowCredentialLimit(ctx context.Context, tx pgx.Tx, appID int64, now time.Time) error {
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR NO KEY UPDATE`, appID).Scan(&one); err != nil {
		return mapErr(err)
	}
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM credentials
		WHERE app_id = $1 AND (expires_at IS NULL OR expires_at > $2)`, appID, millis(now)).Scan(&n)
	if err != nil {
		return err
	}
	if n >= gatehouse.MaxCredentials {
		return gatehouse.ErrLimitReached
	}
	return nil
}

// createCredentialSQL stores a credential; its arguments are
// credentialArgs.
const createCredentialSQL = `INSERT INTO credentials (app_id, name, digest, hint, created_at, expires_at, last_used_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`

func credentialArgs(c gatehouse.Credential) []any {
	return []any{c.AppID, c.Name, c.Digest, c.Hint, millis(c.CreatedAt), millis(c.ExpiresAt), millis(c.LastUsedAt)}
}

// RotateCredential stores next and makes the credential old (of the same
// app) expire at expires, unless it expires earlier already, in one
// transaction; see gatehouse.Store.
func (s *Store) RotateCredential(ctx context.Context, old int64, expires time.Time, next gatehouse.Credential) (gatehouse.Credential, error) {
	if err := requireTime(expires); err != nil {
		return gatehouse.Credential{}, fmt.Errorf("postgres: rotate credential: %w", err)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE credentials SET expires_at = LEAST(COALESCE(expires_at, $1), $1)
			WHERE id = $2 AND app_id = $3`, millis(expires), old, next.AppID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return gatehouse.ErrNotFound
		}
		if err := belowCredentialLimit(ctx, tx, next.AppID, next.CreatedAt); err != nil {
			return err
		}
		return tx.QueryRow(ctx, createCredentialSQL, credentialArgs(next)...).Scan(&next.ID)
	})
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("postgres: rotate credential: %w", mapErr(err))
	}
	return next, nil
}

// RevokeCredential deletes the credential and revokes every token and
// every grant of its app at at, in one transaction; see gatehouse.Store.
func (s *Store) RevokeCredential(ctx context.Context, id int64, at time.Time) (gatehouse.Revoked, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.Revoked{}, fmt.Errorf("postgres: revoke credential: %w", err)
	}
	var r gatehouse.Revoked
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var appID int64
		if err := tx.QueryRow(ctx, `DELETE FROM credentials WHERE id = $1 RETURNING app_id`, id).Scan(&appID); err != nil {
			return mapErr(err)
		}
		// The grants before the tokens, as RevokeGrant does: a refresh or
		// code redemption that writes a token into one of them waits for
		// this transaction (insertGrantTokenSQL locks the grant FOR SHARE)
		// and then finds it revoked; one that locked it first has
		// committed before the tokens' statement takes its snapshot. The
		// credential's deletion, in the first statement, holds the
		// generation row for the tokens without a grant (insertTokenAtSQL).
		tag, err := tx.Exec(ctx, `UPDATE grants SET revoked_at = $1 WHERE app_id = $2 AND revoked_at IS NULL`, millis(at), appID)
		if err != nil {
			return err
		}
		r.Grants = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE app_id = $2 AND revoked_at IS NULL`, millis(at), appID)
		r.Tokens = tag.RowsAffected()
		return err
	})
	if err != nil {
		return gatehouse.Revoked{}, fmt.Errorf("postgres: revoke credential: %w", err)
	}
	return r, nil
}

// NoteExpiredCredentials marks at most limit credentials that expired at
// or before now, and were not noted before, noted at now, and returns
// them. SKIP LOCKED: of concurrent callers, each notes other rows.
func (s *Store) NoteExpiredCredentials(ctx context.Context, now time.Time, limit int) ([]gatehouse.Credential, error) {
	if limit < 1 {
		return nil, errors.New("postgres: note expired credentials: limit must be positive")
	}
	var cs []gatehouse.Credential
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		cs, err = all(ctx, tx, scanCredential, `UPDATE credentials SET expiry_noted_at = $1
			WHERE id IN (SELECT id FROM credentials
				WHERE expires_at IS NOT NULL AND expiry_noted_at IS NULL AND expires_at <= $1
				ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
			AND expiry_noted_at IS NULL
			RETURNING `+credentialColumns, millis(now), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: note expired credentials: %w", err)
	}
	slices.SortFunc(cs, func(a, b gatehouse.Credential) int { return cmp.Compare(a.ID, b.ID) })
	return cs, nil
}

// GetCredentialByDigest returns the credential with that digest, or
// gatehouse.ErrNotFound.
func (s *Store) GetCredentialByDigest(ctx context.Context, digest []byte) (gatehouse.Credential, error) {
	c, err := readOne(ctx, s, scanCredential,
		`SELECT `+credentialColumns+` FROM credentials WHERE digest = $1`, digest)
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("postgres: get credential: %w", err)
	}
	return c, nil
}

// ListCredentials returns the credentials of an app, ordered by ID.
func (s *Store) ListCredentials(ctx context.Context, appID int64) ([]gatehouse.Credential, error) {
	cs, err := readAll(ctx, s, scanCredential,
		`SELECT `+credentialColumns+` FROM credentials WHERE app_id = $1 ORDER BY id`, appID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list credentials: %w", err)
	}
	return cs, nil
}

// DeleteCredential deletes a credential, or returns gatehouse.ErrNotFound.
func (s *Store) DeleteCredential(ctx context.Context, id int64) error {
	n, err := s.exec(ctx, `DELETE FROM credentials WHERE id = $1`, id)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: delete credential: %w", err)
	}
	return nil
}

// TouchCredential sets the credential's last use to at unless it is later
// already, in one statement: GREATEST skips a NULL last use, and concurrent
// touches of one row queue on its lock and each re-reads the row the one
// before left, so the latest time stays. The statement sets only
// last_used_at, which the generation triggers ignore. It is idempotent, so
// it runs again after a lost connection.
func (s *Store) TouchCredential(ctx context.Context, id int64, at time.Time) error {
	err := requireTime(at)
	if err == nil {
		var n int64
		n, err = s.execIdempotent(ctx, `UPDATE credentials SET last_used_at = GREATEST(last_used_at, $1) WHERE id = $2`,
			millis(at), id)
		if err == nil && n == 0 {
			err = gatehouse.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: touch credential: %w", err)
	}
	return nil
}
