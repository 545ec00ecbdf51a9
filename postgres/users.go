package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const userColumns = `id, username, password_hash, created_at, developer`

func scanUser(r pgx.Row) (gatehouse.User, error) {
	var u gatehouse.User
	var created *int64
	var developer int64
	err := r.Scan(&u.ID, &u.Username, &u.PasswordHash, &created, &developer)
	u.CreatedAt, u.Developer = timeOf(created), developer != 0
	return u, err
}

// CreateUser stores a user and returns it with its ID set, or returns
// gatehouse.ErrAlreadyExists if the username is taken.
func (s *Store) CreateUser(ctx context.Context, u gatehouse.User) (gatehouse.User, error) {
	id, err := s.insertID(ctx,
		`INSERT INTO users (username, password_hash, created_at, developer) VALUES ($1, $2, $3, $4) RETURNING id`,
		u.Username, u.PasswordHash, millis(u.CreatedAt), flag(u.Developer))
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("postgres: create user: %w", err)
	}
	u.ID = id
	return u, nil
}

// GetUser returns the user with that ID, or gatehouse.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id int64) (gatehouse.User, error) {
	u, err := readOne(ctx, s, scanUser, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("postgres: get user: %w", err)
	}
	return u, nil
}

// GetUserByUsername returns the user with that username, or
// gatehouse.ErrNotFound.
func (s *Store) GetUserByUsername(ctx context.Context, username string) (gatehouse.User, error) {
	u, err := readOne(ctx, s, scanUser, `SELECT `+userColumns+` FROM users WHERE username = $1`, username)
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("postgres: get user by username: %w", err)
	}
	return u, nil
}

// ListUsers returns every user, ordered by ID.
func (s *Store) ListUsers(ctx context.Context) ([]gatehouse.User, error) {
	users, err := readAll(ctx, s, scanUser, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return users, nil
}

// SetPasswordHash replaces the user's password hash and deletes the user's
// sessions and devices, in one transaction.
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return gatehouse.ErrNotFound
		}
		return execAll(ctx, tx, userID, `DELETE FROM sessions WHERE user_id = $1`, `DELETE FROM devices WHERE user_id = $1`)
	})
	if err != nil {
		return fmt.Errorf("postgres: set password: %w", err)
	}
	return nil
}

// SetUserDeveloper sets whether the user is a developer, or returns
// gatehouse.ErrNotFound.
func (s *Store) SetUserDeveloper(ctx context.Context, userID int64, developer bool) error {
	n, err := s.exec(ctx, `UPDATE users SET developer = $1 WHERE id = $2`, flag(developer), userID)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: set developer: %w", err)
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
	`DELETE FROM grants WHERE user_id = $1`,
	`DELETE FROM tokens WHERE user_id = $1`,
	`DELETE FROM codes WHERE user_id = $1`,
	`DELETE FROM device_codes WHERE user_id = $1`,
	`DELETE FROM consents WHERE user_id = $1`,
	`DELETE FROM sessions WHERE user_id = $1`,
	`DELETE FROM devices WHERE user_id = $1`,
	`DELETE FROM users WHERE id = $1`,
}

// deleteUserAttempts bounds how often DeleteUser runs again when a record
// of the user was written while it ran (a login, a consent): the delete of
// the user then fails its foreign key, and a second run deletes that too.
const deleteUserAttempts = 3

// DeleteUser deletes the user with everything of the user, in one
// transaction, or returns gatehouse.ErrNotFound. The foreign key of
// apps.owner_id sets the user's apps free (ON DELETE SET NULL).
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	var err error
	for range deleteUserAttempts {
		err = s.inTx(ctx, func(tx pgx.Tx) error {
			// The user's row first: a sign-in that is opening a session
			// (OpenSession, FOR SHARE) waits, and then finds no user.
			if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, id); err != nil {
				return err
			}
			for i, q := range deleteUserSQL {
				tag, err := tx.Exec(ctx, q, id)
				if err != nil {
					return err
				}
				if i == len(deleteUserSQL)-1 && tag.RowsAffected() == 0 {
					return gatehouse.ErrNotFound
				}
			}
			return nil
		})
		if !isForeignKeyViolation(err) {
			break
		}
	}
	if isForeignKeyViolation(err) {
		err = errors.New("records of the user keep being written; try again")
	}
	if err != nil {
		return fmt.Errorf("postgres: delete user: %w", err)
	}
	return nil
}

// execAll runs each statement in tx with the one argument arg.
func execAll(ctx context.Context, tx pgx.Tx, arg any, queries ...string) error {
	for _, q := range queries {
		if _, err := tx.Exec(ctx, q, arg); err != nil {
			return err
		}
	}
	return nil
}
