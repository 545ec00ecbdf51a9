package postgres

import (
	"context"
	"fmt"
)

// Generation returns the counter that triggers bump on every change to an
// app, its lists or a credential (migration 0003).
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var g int64
	err := s.read(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT value FROM generation WHERE id = 1`).Scan(&g)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: generation: %w", err)
	}
	return g, nil
}
