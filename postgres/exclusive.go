package postgres

import (
	"context"
	"errors"
	"fmt"
)

// Exclusive runs fn unless another process on the database is running an
// Exclusive of the same name, and reports whether it ran: the janitor of
// several instances uses it so that one of them sweeps at a time. It holds
// a session-level advisory lock on a connection of its own for the
// duration of fn; if the process dies, PostgreSQL ends the session and
// releases the lock.
func (s *Store) Exclusive(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: exclusive %s: %w", name, err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('gatehouse:' || $1, 0))`, name).Scan(&locked); err != nil {
		return false, fmt.Errorf("postgres: exclusive %s: %w", name, err)
	}
	if !locked {
		return false, nil
	}
	ferr := fn(ctx)
	// Unlock on a fresh context: fn's may have ended. If the unlock fails,
	// the connection cannot go back to the pool holding the lock.
	var unlocked bool
	uerr := conn.QueryRow(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended('gatehouse:' || $1, 0))`, name).Scan(&unlocked)
	if uerr != nil || !unlocked {
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		uerr = errors.Join(uerr, errors.New("advisory lock not released; connection closed"))
		return true, errors.Join(ferr, fmt.Errorf("postgres: exclusive %s: %w", name, uerr))
	}
	return true, ferr
}
