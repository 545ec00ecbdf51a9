package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

const credentialColumns = `id, app_id, digest, hint, created_at, expires_at, last_used_at`

func scanCredential(r scanner) (gatehouse.Credential, error) {
	var c gatehouse.Credential
	var created, expires, lastUsed sql.NullInt64
	err := r.Scan(&c.ID, &c.AppID, &c.Digest, &c.Hint, &created, &expires, &lastUsed)
	c.CreatedAt, c.ExpiresAt, c.LastUsedAt = timeOf(created), timeOf(expires), timeOf(lastUsed)
	return c, err
}

// CreateCredential stores a credential and returns it with its ID set. A
// missing app is gatehouse.ErrNotFound, a taken digest
// gatehouse.ErrAlreadyExists.
func (s *Store) CreateCredential(ctx context.Context, c gatehouse.Credential) (gatehouse.Credential, error) {
	c, err := insertCredential(ctx, s.write, c)
	if err != nil {
		return gatehouse.Credential{}, fmt.Errorf("sqlite: create credential: %w", mapErr(err))
	}
	return c, nil
}

// insertCredential stores c through q and returns it with its ID set.
func insertCredential(ctx context.Context, q querier, c gatehouse.Credential) (gatehouse.Credential, error) {
	id, err := one(ctx, q, scanID,
		`INSERT INTO credentials (app_id, digest, hint, created_at, expires_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		c.AppID, c.Digest, c.Hint, millis(c.CreatedAt), millis(c.ExpiresAt), millis(c.LastUsedAt))
	c.ID = id
	return c, err
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
