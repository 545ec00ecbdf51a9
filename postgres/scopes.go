package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// DeleteScope deletes the named scope. An app that lists it fails the
// foreign key of app_scopes or app_default_scopes, and the delete is
// gatehouse.ErrInUse; an unknown name is gatehouse.ErrNotFound.
func (s *Store) DeleteScope(ctx context.Context, name string) error {
	n, err := s.exec(ctx, `DELETE FROM scopes WHERE name = $1`, name)
	if isForeignKeyViolation(err) {
		err = fmt.Errorf("%w: %w", gatehouse.ErrInUse, err)
	} else if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: delete scope: %w", err)
	}
	return nil
}

// isForeignKeyViolation reports whether err is PostgreSQL's foreign key
// violation (SQLSTATE 23503).
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeForeignKeyViolation
}
