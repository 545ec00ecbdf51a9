package postgres

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const userColumns = `id, username, password_hash, created_at`

func scanUser(r pgx.Row) (gatehouse.User, error) {
	var u gatehouse.User
	var created *int64
	err := r.Scan(&u.ID, &u.Username, &u.PasswordHash, &created)
	u.CreatedAt = timeOf(created)
	return u, err
}

// CreateUser stores a user and returns it with its ID set, or returns
// gatehouse.ErrAlreadyExists if the username is taken.
func (s *Store) CreateUser(ctx context.Context, u gatehouse.User) (gatehouse.User, error) {
	id, err := s.insertID(ctx,
		`INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		u.Username, u.PasswordHash, millis(u.CreatedAt))
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
