package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// exclusiveKey is the advisory lock key of an Exclusive named $1.
const exclusiveKey = `hashtextextended('gatehouse:' || current_schema() || ':' || $1, 0)`

// unlockTimeout bounds the release of an Exclusive's lock.
const unlockTimeout = 5 * time.Second

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
	// The key names the schema too: deployments in two schemas of one
	// database do not take each other's turns.
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+exclusiveKey+`)`, name).Scan(&locked); err != nil {
		return false, fmt.Errorf("postgres: exclusive %s: %w", name, err)
	}
	if !locked {
		return false, nil
	}
	ferr := fn(ctx)
	// Unlock on a fresh context, as fn's may have ended, but a bounded one:
	// an unreachable database must not hold up shutdown. If the unlock
	// fails, the connection is closed (its session, and the lock, end)
	// rather than going back to the pool holding the lock.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
	defer cancel()
	var unlocked bool
	uerr := conn.QueryRow(uctx, `SELECT pg_advisory_unlock(`+exclusiveKey+`)`, name).Scan(&unlocked)
	if uerr != nil || !unlocked {
		_ = conn.Conn().Close(uctx)
		uerr = errors.Join(uerr, errors.New("advisory lock not released; connection closed"))
		return true, errors.Join(ferr, fmt.Errorf("postgres: exclusive %s: %w", name, uerr))
	}
	return true, ferr
}
