package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
)

const credentialColumns = `id, app_id, name, digest, hint, created_at, expires_at, last_used_at`

func scanCredential(r scanner) (gatehouse.Credential, error) {
	var c gatehouse.Credential
	var created, expires, lastUsed sql.NullInt64
	err := r.Scan(&c.ID, &c.AppID, &c.Name, &c.Digest, &c.Hint, &created, &expires, &lastUsed)
	c.CreatedAt, c.ExpiresAt, c.LastUsedAt = timeOf(created), timeOf(expires), timeOf(lastUsed)
	return c, err
}

// CreateCredential stores a credential and returns it with its ID set. A
// missing app is gatehouse.ErrNotFound, a taken digest
// gatehouse.ErrAlreadyExists, an app that holds gatehouse.MaxCredentials
// unexpired credentials at c.CreatedAt gatehouse.ErrLimitReached. The
// count and the insert are one transaction on the single writer.
func (s *Store) CreateCredential(ctx context.Context, c gatehouse.Credential) (gatehouse.Credential, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := belowCredentialLimit(ctx, tx, c.AppID, c.CreatedAt); err != nil {
			return err
		}
		var err error
		c, err = insertCredential(ctx, txQuerier{tx}, c)
		return err
	})
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("sqlite: create credential: %w", mapErr(err))
	}
	return c, nil
}

// belowCredentialLimit returns gatehouse.ErrLimitReached if the app holds
// gatehouse.MaxCredentials credentials unexpired at now.
func belowCredentialLimit(ctx context.Context, tx *sql.Tx, appID int64, now time.Time) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM credentials
		WHERE app_id = ? AND (expires_at IS NULL OR expires_at > ?)`, appID, millis(now)).Scan(&n)
	if err != nil {
		return err
	}
	if n >= gatehouse.MaxCredentials {
		return gatehouse.ErrLimitReached
	}
	return nil
}

// insertCredential stores c through q and returns it with its ID set.
func insertCredential(ctx context.Context, q querier, c gatehouse.Credential) (gatehouse.Credential, error) {
	id, err := one(ctx, q, scanID,
		`INSERT INTO credentials (app_id, name, digest, hint, created_at, expires_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.AppID, c.Name, c.Digest, c.Hint, millis(c.CreatedAt), millis(c.ExpiresAt), millis(c.LastUsedAt))
	c.ID = id
	return c, err
}

// RotateCredential stores next and makes the credential old (of the same
// app) expire at expires, unless it expires earlier already, in one
// transaction; see gatehouse.Store.
func (s *Store) RotateCredential(ctx context.Context, old int64, expires time.Time, next gatehouse.Credential) (gatehouse.Credential, error) {
	if err := requireTime(expires); err != nil {
		return gatehouse.Credential{}, fmt.Errorf("sqlite: rotate credential: %w", err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n, err := execTx(ctx, tx, `UPDATE credentials SET expires_at =
			CASE WHEN expires_at IS NULL OR expires_at > ?1 THEN ?1 ELSE expires_at END
			WHERE id = ?2 AND app_id = ?3`, millis(expires), old, next.AppID)
		if err == nil && n == 0 {
			return gatehouse.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := belowCredentialLimit(ctx, tx, next.AppID, next.CreatedAt); err != nil {
			return err
		}
		next, err = insertCredential(ctx, txQuerier{tx}, next)
		return err
	})
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("sqlite: rotate credential: %w", mapErr(err))
	}
	return next, nil
}

// RevokeCredential deletes the credential and revokes every token and
// every grant of its app at at, in one transaction; see gatehouse.Store.
func (s *Store) RevokeCredential(ctx context.Context, id int64, at time.Time) (gatehouse.Revoked, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.Revoked{}, fmt.Errorf("sqlite: revoke credential: %w", err)
	}
	var r gatehouse.Revoked
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var appID int64
		err := tx.QueryRowContext(ctx, `DELETE FROM credentials WHERE id = ? RETURNING app_id`, id).Scan(&appID)
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.ErrNotFound
		}
		if err != nil {
			return err
		}
		if r.Tokens, err = execTx(ctx, tx, `UPDATE tokens SET revoked_at = ? WHERE app_id = ? AND revoked_at IS NULL`, millis(at), appID); err != nil {
			return err
		}
		r.Grants, err = execTx(ctx, tx, `UPDATE grants SET revoked_at = ? WHERE app_id = ? AND revoked_at IS NULL`, millis(at), appID)
		return err
	})
	if err != nil {
		return gatehouse.Revoked{}, fmt.Errorf("sqlite: revoke credential: %w", err)
	}
	return r, nil
}

// NoteExpiredCredentials marks at most limit credentials that expired at
// or before now, and were not noted before, noted at now, and returns
// them; one statement, so of several processes exactly one notes each.
func (s *Store) NoteExpiredCredentials(ctx context.Context, now time.Time, limit int) ([]gatehouse.Credential, error) {
	if limit < 1 {
		return nil, errors.New("sqlite: note expired credentials: limit must be positive")
	}
	cs, err := all(ctx, s.write, scanCredential, `UPDATE credentials SET expiry_noted_at = ?1
		WHERE id IN (SELECT id FROM credentials
			WHERE expires_at IS NOT NULL AND expiry_noted_at IS NULL AND expires_at <= ?1
			ORDER BY expires_at LIMIT ?2)
		RETURNING `+credentialColumns, millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: note expired credentials: %w", err)
	}
	slices.SortFunc(cs, func(a, b gatehouse.Credential) int { return cmp.Compare(a.ID, b.ID) })
	return cs, nil
}

// GetCredentialByDigest returns the credential with that digest, or
// gatehouse.ErrNotFound.
func (s *Store) GetCredentialByDigest(ctx context.Context, digest []byte) (gatehouse.Credential, error) {
	c, err := one(ctx, s.read, scanCredential,
		`SELECT `+credentialColumns+` FROM credentials WHERE digest = ?`, digest)
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("sqlite: get credential: %w", err)
	}
	return c, nil
}

// ListCredentials returns the credentials of an app, ordered by ID.
func (s *Store) ListCredentials(ctx context.Context, appID int64) ([]gatehouse.Credential, error) {
	cs, err := all(ctx, s.read, scanCredential,
		`SELECT `+credentialColumns+` FROM credentials WHERE app_id = ? ORDER BY id`, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list credentials: %w", err)
	}
	return cs, nil
}

// DeleteCredential deletes a credential, or returns gatehouse.ErrNotFound.
func (s *Store) DeleteCredential(ctx context.Context, id int64) error {
	n, err := s.write.exec(ctx, `DELETE FROM credentials WHERE id = ?`, id)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete credential: %w", err)
	}
	return nil
}

// TouchCredential sets the credential's last use to at unless it is later
// already, in one statement; a zero at changes nothing.
func (s *Store) TouchCredential(ctx context.Context, id int64, at time.Time) error {
	n, err := s.write.exec(ctx, `UPDATE credentials SET last_used_at =
		CASE WHEN last_used_at IS NULL OR last_used_at < ?1 THEN ?1 ELSE last_used_at END
		WHERE id = ?2`, millis(at), id)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: touch credential: %w", err)
	}
	return nil
}
