package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool exposes the store's pool to the tests of package postgres_test.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Test access to unexported helpers.
var (
	MapErr            = mapErr
	Rerunnable        = rerunnable
	ErrOutcomeUnknown = errOutcomeUnknown
)

const MaxAttempts = maxAttempts

// Retry is the retry of a store that has no pool.
func Retry(ctx context.Context, fn func() error) error { return new(Store).retry(ctx, fn) }
