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

// NoLossRetry turns off the rerun after a lost connection; call it before
// other goroutines use the store.
func (s *Store) NoLossRetry() { s.noLossRetry = true }

// LossRetries returns how many attempts the store ran again after a lost
// connection.
func (s *Store) LossRetries() int64 { return s.lossRetries.Load() }
