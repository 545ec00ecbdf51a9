package sqlite

import (
	"context"
	"database/sql"
	"errors"
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

const deviceColumns = `digest, user_id, created_at, expires_at`

func scanDevice(r scanner) (gatehouse.Device, error) {
	var d gatehouse.Device
	var created, expires sql.NullInt64
	err := r.Scan(&d.Digest, &d.UserID, &created, &expires)
	d.CreatedAt, d.ExpiresAt = timeOf(created), timeOf(expires)
	return d, err
}

// CreateDevice stores a device. A taken digest is
// gatehouse.ErrAlreadyExists; a missing user fails a foreign key and is
// gatehouse.ErrNotFound.
func (s *Store) CreateDevice(ctx context.Context, d gatehouse.Device) error {
	_, err := s.write.exec(ctx, `INSERT INTO devices (`+deviceColumns+`) VALUES (?, ?, ?, ?)`,
		d.Digest, d.UserID, millis(d.CreatedAt), millis(d.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlite: create device: %w", mapErr(err))
	}
	return nil
}

// GetDevice returns the device with that digest, expired ones included, or
// gatehouse.ErrNotFound.
func (s *Store) GetDevice(ctx context.Context, digest []byte) (gatehouse.Device, error) {
	d, err := one(ctx, s.read, scanDevice, `SELECT `+deviceColumns+` FROM devices WHERE digest = ?`, digest)
	if err != nil {
		return gatehouse.Device{}, fmt.Errorf("sqlite: get device: %w", err)
	}
	return d, nil
}

// OpenSession stores a session and its device, provided the user still
// has passwordHash, in one transaction on the single writer; see
// gatehouse.Store.
func (s *Store) OpenSession(ctx context.Context, sess gatehouse.Session, d *gatehouse.Device, passwordHash string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ? AND password_hash = ?`, sess.UserID, passwordHash).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?)`,
			sess.Digest, sess.UserID, millis(sess.CreatedAt), millis(sess.ExpiresAt)); err != nil {
			return err
		}
		if d == nil {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO devices (`+deviceColumns+`) VALUES (?, ?, ?, ?)`,
			d.Digest, d.UserID, millis(d.CreatedAt), millis(d.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: open session: %w", mapErr(err))
	}
	return nil
}
