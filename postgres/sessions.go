package postgres

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const sessionColumns = `digest, user_id, created_at, expires_at`

func scanSession(r pgx.Row) (gatehouse.Session, error) {
	var s gatehouse.Session
	var created, expires *int64
	err := r.Scan(&s.Digest, &s.UserID, &created, &expires)
	s.CreatedAt, s.ExpiresAt = timeOf(created), timeOf(expires)
	return s, err
}

// CreateSession stores a login session. A taken digest is
// gatehouse.ErrAlreadyExists; a missing user fails a foreign key and is
// gatehouse.ErrNotFound.
func (s *Store) CreateSession(ctx context.Context, sess gatehouse.Session) error {
	_, err := s.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4)`,
		sess.Digest, sess.UserID, millis(sess.CreatedAt), millis(sess.ExpiresAt))
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", err)
	}
	return nil
}

// GetSession returns the session with that digest, expired ones included, or
// gatehouse.ErrNotFound.
func (s *Store) GetSession(ctx context.Context, digest []byte) (gatehouse.Session, error) {
	sess, err := readOne(ctx, s, scanSession, `SELECT `+sessionColumns+` FROM sessions WHERE digest = $1`, digest)
	if err != nil {
		return gatehouse.Session{}, fmt.Errorf("postgres: get session: %w", err)
	}
	return sess, nil
}

// DeleteSession deletes the session with that digest, or returns
// gatehouse.ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, digest []byte) error {
	n, err := s.exec(ctx, `DELETE FROM sessions WHERE digest = $1`, digest)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

const deviceColumns = `digest, user_id, created_at, expires_at`

func scanDevice(r pgx.Row) (gatehouse.Device, error) {
	var d gatehouse.Device
	var created, expires *int64
	err := r.Scan(&d.Digest, &d.UserID, &created, &expires)
	d.CreatedAt, d.ExpiresAt = timeOf(created), timeOf(expires)
	return d, err
}

// CreateDevice stores a device. A taken digest is
// gatehouse.ErrAlreadyExists; a missing user fails a foreign key and is
// gatehouse.ErrNotFound.
func (s *Store) CreateDevice(ctx context.Context, d gatehouse.Device) error {
	_, err := s.exec(ctx, `INSERT INTO devices (`+deviceColumns+`) VALUES ($1, $2, $3, $4)`,
		d.Digest, d.UserID, millis(d.CreatedAt), millis(d.ExpiresAt))
	if err != nil {
		return fmt.Errorf("postgres: create device: %w", err)
	}
	return nil
}

// GetDevice returns the device with that digest, expired ones included, or
// gatehouse.ErrNotFound.
func (s *Store) GetDevice(ctx context.Context, digest []byte) (gatehouse.Device, error) {
	d, err := readOne(ctx, s, scanDevice, `SELECT `+deviceColumns+` FROM devices WHERE digest = $1`, digest)
	if err != nil {
		return gatehouse.Device{}, fmt.Errorf("postgres: get device: %w", err)
	}
	return d, nil
}

// OpenSession stores a session and its device, provided the user still
// has passwordHash, in one transaction; see gatehouse.Store. The user's
// row is locked FOR SHARE: SetPasswordHash and DeleteUser change that row
// first, so either they wait for this sign-in to commit and then delete
// its session, or it waits for them and then finds the hash changed or
// the user gone (READ COMMITTED's re-check of a locked row).
func (s *Store) OpenSession(ctx context.Context, sess gatehouse.Session, d *gatehouse.Device, passwordHash string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 AND password_hash = $2 FOR SHARE`, sess.UserID, passwordHash).Scan(&one); err != nil {
			return mapErr(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4)`,
			sess.Digest, sess.UserID, millis(sess.CreatedAt), millis(sess.ExpiresAt)); err != nil {
			return err
		}
		if d == nil {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO devices (`+deviceColumns+`) VALUES ($1, $2, $3, $4)`,
			d.Digest, d.UserID, millis(d.CreatedAt), millis(d.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: open session: %w", mapErr(err))
	}
	return nil
}
