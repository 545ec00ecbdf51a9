package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse/gatehouse"
)

const sessionColumns = `digest, user_id, created_at, expires_at`

func scanSession(r scanner) (gatehouse.Session, error) {
	var s gatehouse.Session
	var created, expires sql.NullInt64
	err := r.Scan(&s.Digest, &s.UserID, &created, &expires)
	s.CreatedAt, s.ExpiresAt = timeOf(created), timeOf(expires)
	return s, err
}

// CreateSession stores a login session. A taken digest is
// gatehouse.ErrAlreadyExists; a missing user fails a foreign key and is
// gatehouse.ErrNotFound.
func (s *Store) CreateSession(ctx context.Context, sess gatehouse.Session) error {
	_, err := s.write.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?)`,
		sess.Digest, sess.UserID, millis(sess.CreatedAt), millis(sess.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", mapErr(err))
	}
	return nil
}

// GetSession returns the session with that digest, expired ones included, or
// gatehouse.ErrNotFound.
func (s *Store) GetSession(ctx context.Context, digest []byte) (gatehouse.Session, error) {
	sess, err := one(ctx, s.read, scanSession, `SELECT `+sessionColumns+` FROM sessions WHERE digest = ?`, digest)
	if err != nil {
		return gatehouse.Session{}, fmt.Errorf("sqlite: get session: %w", err)
	}
	return sess, nil
}

// DeleteSession deletes the session with that digest, or returns
// gatehouse.ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, digest []byte) error {
	n, err := s.write.exec(ctx, `DELETE FROM sessions WHERE digest = ?`, digest)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}
