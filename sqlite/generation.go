package sqlite

import (
	"context"
	"fmt"
)

// Generation returns the counter that triggers bump on every change to an
// app, its lists or a credential (migration 0003).
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var g int64
	rows, err := s.read.query(ctx, `SELECT value FROM generation WHERE id = 1`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: generation: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return 0, fmt.Errorf("sqlite: generation: no row: %w", rows.Err())
	}
	if err := rows.Scan(&g); err != nil {
		return 0, fmt.Errorf("sqlite: generation: %w", err)
	}
	return g, nil
}
