package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const credentialColumns = `id, app_id, digest, hint, created_at, expires_at, last_used_at`

func scanCredential(r pgx.Row) (gatehouse.Credential, error) {
	var c gatehouse.Credential
	var created, expires, lastUsed *int64
	err := r.Scan(&c.ID, &c.AppID, &c.Digest, &c.Hint, &created, &expires, &lastUsed)
	c.CreatedAt, c.ExpiresAt, c.LastUsedAt = timeOf(created), timeOf(expires), timeOf(lastUsed)
	return c, err
}

// CreateCredential stores a credential and returns it with its ID set. A
// missing app is gatehouse.ErrNotFound, a taken digest
// gatehouse.ErrAlreadyExists.
func (s *Store) CreateCredential(ctx context.Context, c gatehouse.Credential) (gatehouse.Credential, error) {
	id, err := s.insertID(ctx, createCredentialSQL, credentialArgs(c)...)
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("postgres: create credential: %w", err)
	}
	c.ID = id
	return c, nil
}

// createCredentialSQL stores a credential; its arguments are
// credentialArgs.
const createCredentialSQL = `INSERT INTO credentials (app_id, digest, hint, created_at, expires_at, last_used_at)
	VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`

func credentialArgs(c gatehouse.Credential) []any {
	return []any{c.AppID, c.Digest, c.Hint, millis(c.CreatedAt), millis(c.ExpiresAt), millis(c.LastUsedAt)}
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
