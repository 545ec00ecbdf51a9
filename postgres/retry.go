package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// maxAttempts bounds how often retry runs a transaction.
const maxAttempts = 5

// backoff is the base of the pause between attempts: before attempt n+1,
// retry sleeps a random duration in [n·backoff/2, n·backoff).
const backoff = 2 * time.Millisecond

// retryable reports whether err is a failure that PostgreSQL asks the client
// to retry the whole transaction for: a serialization failure (40001) or a
// deadlock (40P01). In both cases the server rolled the transaction back, so
// nothing of it was stored.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected
}

// retry runs fn, the whole of a transaction (or one statement), at most
// maxAttempts times while it fails with a retryable error, pausing a short,
// growing, jittered time between attempts so that the transactions that
// collided do not collide again. It returns fn's last error, or the
// context's error when ctx ends during a pause.
func retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
		n := time.Duration(attempt) * backoff
		pause := time.NewTimer(n/2 + rand.N(n/2))
		select {
		case <-ctx.Done():
			pause.Stop()
			return errors.Join(err, context.Cause(ctx))
		case <-pause.C:
		}
	}
}
