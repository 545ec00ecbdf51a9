package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse/gatehouse"
)

const userColumns = `id, username, password_hash, created_at, developer`

func scanUser(r scanner) (gatehouse.User, error) {
	var u gatehouse.User
	var created sql.NullInt64
	err := r.Scan(&u.ID, &u.Username, &u.PasswordHash, &created, &u.Developer)
	u.CreatedAt = timeOf(created)
	return u, err
}

// CreateUser stores a user and returns it with its ID set, or returns
// gatehouse.ErrAlreadyExists if the username is taken.
func (s *Store) CreateUser(ctx context.Context, u gatehouse.User) (gatehouse.User, error) {
	id, err := one(ctx, s.write, scanID,
		`INSERT INTO users (username, password_hash, created_at, developer) VALUES (?, ?, ?, ?) RETURNING id`,
		u.Username, u.PasswordHash, millis(u.CreatedAt), u.Developer)
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("sqlite: create user: %w", mapErr(err))
	}
	u.ID = id
	return u, nil
}

// GetUser returns the user with that ID, or gatehouse.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id int64) (gatehouse.User, error) {
	u, err := one(ctx, s.read, scanUser, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("sqlite: get user: %w", err)
	}
	return u, nil
}

// GetUserByUsername returns the user with that username, or
// gatehouse.ErrNotFound.
func (s *Store) GetUserByUsername(ctx context.Context, username string) (gatehouse.User, error) {
	u, err := one(ctx, s.read, scanUser, `SELECT `+userColumns+` FROM users WHERE username = ?`, username)
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("sqlite: get user by username: %w", err)
	}
	return u, nil
}

// ListUsers returns every user, ordered by ID.
func (s *Store) ListUsers(ctx context.Context) ([]gatehouse.User, error) {
	users, err := all(ctx, s.read, scanUser, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return users, nil
}

// SetPasswordHash replaces the user's password hash and deletes the user's
// sessions and devices, in one transaction.
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n, err := execTx(ctx, tx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
		if err != nil {
			return err
		}
		if n == 0 {
			return gatehouse.ErrNotFound
		}
		return execAll(ctx, tx, userID, `DELETE FROM sessions WHERE user_id = ?`, `DELETE FROM devices WHERE user_id = ?`)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set password: %w", err)
	}
	return nil
}

// SetUserDeveloper sets whether the user is a developer, or returns
// gatehouse.ErrNotFound.
func (s *Store) SetUserDeveloper(ctx context.Context, userID int64, developer bool) error {
	n, err := s.write.exec(ctx, `UPDATE users SET developer = ? WHERE id = ?`, developer, userID)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: set developer: %w", err)
	}
	return nil
}

// deleteUserSQL deletes everything of a user, then the user. Tokens and
// codes go with their grants (ON DELETE CASCADE through the grant_id
// index); those that name the user without a grant are looked for too. No
// index serves tokens.user_id or codes.user_id (every token insert would
// pay for one), so those two statements scan, as the foreign key check of
// the user's own delete does: a rare command of the operator.
var deleteUserSQL = []string{
	`DELETE FROM grants WHERE user_id = ?`,
	`DELETE FROM tokens WHERE user_id = ?`,
	`DELETE FROM codes WHERE user_id = ?`,
	`DELETE FROM device_codes WHERE user_id = ?`,
	`DELETE FROM consents WHERE user_id = ?`,
	`DELETE FROM sessions WHERE user_id = ?`,
	`DELETE FROM devices WHERE user_id = ?`,
}

// DeleteUser deletes the user with everything of the user, in one
// transaction, or returns gatehouse.ErrNotFound. The foreign key of
// apps.owner_id sets the user's apps free (ON DELETE SET NULL).
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := execAll(ctx, tx, id, deleteUserSQL...); err != nil {
			return err
		}
		n, err := execTx(ctx, tx, `DELETE FROM users WHERE id = ?`, id)
		if err == nil && n == 0 {
			err = gatehouse.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete user: %w", err)
	}
	return nil
}

// execAll runs each statement in tx with the one argument arg.
func execAll(ctx context.Context, tx *sql.Tx, arg any, queries ...string) error {
	for _, q := range queries {
		if _, err := tx.ExecContext(ctx, q, arg); err != nil {
			return err
		}
	}
	return nil
}

// scanID scans the ID that an INSERT … RETURNING id returns.
func scanID(r scanner) (int64, error) {
	var id int64
	err := r.Scan(&id)
	return id, err
}
