package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse/gatehouse"
)

const userColumns = `id, username, password_hash, created_at`

func scanUser(r scanner) (gatehouse.User, error) {
	var u gatehouse.User
	var created sql.NullInt64
	err := r.Scan(&u.ID, &u.Username, &u.PasswordHash, &created)
	u.CreatedAt = timeOf(created)
	return u, err
}

// CreateUser stores a user and returns it with its ID set, or returns
// gatehouse.ErrAlreadyExists if the username is taken.
func (s *Store) CreateUser(ctx context.Context, u gatehouse.User) (gatehouse.User, error) {
	id, err := one(ctx, s.write, scanID,
		`INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) RETURNING id`,
		u.Username, u.PasswordHash, millis(u.CreatedAt))
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

// scanID scans the ID that an INSERT … RETURNING id returns.
func scanID(r scanner) (int64, error) {
	var id int64
	err := r.Scan(&id)
	return id, err
}
