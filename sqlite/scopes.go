package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const scopeColumns = `name, description, created_at`

func scanScope(r scanner) (gatehouse.Scope, error) {
	var sc gatehouse.Scope
	var created sql.NullInt64
	err := r.Scan(&sc.Name, &sc.Description, &created)
	sc.CreatedAt = timeOf(created)
	return sc, err
}

// CreateScope registers a scope, or returns gatehouse.ErrAlreadyExists.
func (s *Store) CreateScope(ctx context.Context, sc gatehouse.Scope) error {
	_, err := s.write.exec(ctx, `INSERT INTO scopes (`+scopeColumns+`) VALUES (?, ?, ?)`,
		sc.Name, sc.Description, millis(sc.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create scope: %w", mapErr(err))
	}
	return nil
}

// GetScope returns the named scope, or gatehouse.ErrNotFound.
func (s *Store) GetScope(ctx context.Context, name string) (gatehouse.Scope, error) {
	sc, err := one(ctx, s.read, scanScope, `SELECT `+scopeColumns+` FROM scopes WHERE name = ?`, name)
	if err != nil {
		return gatehouse.Scope{}, fmt.Errorf("sqlite: get scope: %w", err)
	}
	return sc, nil
}

// ListScopes returns every scope, ordered by name.
func (s *Store) ListScopes(ctx context.Context) ([]gatehouse.Scope, error) {
	scopes, err := all(ctx, s.read, scanScope, `SELECT `+scopeColumns+` FROM scopes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list scopes: %w", err)
	}
	return scopes, nil
}

// DeleteScope deletes the named scope. An app that lists it fails the
// foreign key of app_scopes or app_default_scopes, and the delete is
// gatehouse.ErrInUse; an unknown name is gatehouse.ErrNotFound.
func (s *Store) DeleteScope(ctx context.Context, name string) error {
	n, err := s.write.exec(ctx, `DELETE FROM scopes WHERE name = ?`, name)
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		err = fmt.Errorf("%w: %w", gatehouse.ErrInUse, err)
	} else if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete scope: %w", err)
	}
	return nil
}
