package postgres

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const scopeColumns = `name, description, created_at`

func scanScope(r pgx.Row) (gatehouse.Scope, error) {
	var sc gatehouse.Scope
	var created *int64
	err := r.Scan(&sc.Name, &sc.Description, &created)
	sc.CreatedAt = timeOf(created)
	return sc, err
}

// CreateScope registers a scope, or returns gatehouse.ErrAlreadyExists.
func (s *Store) CreateScope(ctx context.Context, sc gatehouse.Scope) error {
	_, err := s.exec(ctx, `INSERT INTO scopes (`+scopeColumns+`) VALUES ($1, $2, $3)`,
		sc.Name, sc.Description, millis(sc.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: create scope: %w", err)
	}
	return nil
}

// GetScope returns the named scope, or gatehouse.ErrNotFound.
func (s *Store) GetScope(ctx context.Context, name string) (gatehouse.Scope, error) {
	sc, err := readOne(ctx, s, scanScope, `SELECT `+scopeColumns+` FROM scopes WHERE name = $1`, name)
	if err != nil {
		return gatehouse.Scope{}, fmt.Errorf("postgres: get scope: %w", err)
	}
	return sc, nil
}

// ListScopes returns every scope, ordered by name (in the database's
// collation; scope names are ASCII, RFC 6749 §3.3).
func (s *Store) ListScopes(ctx context.Context) ([]gatehouse.Scope, error) {
	scopes, err := readAll(ctx, s, scanScope, `SELECT `+scopeColumns+` FROM scopes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list scopes: %w", err)
	}
	return scopes, nil
}
