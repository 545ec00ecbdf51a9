package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxAttempts bounds how often retry runs a transaction.
const maxAttempts = 5

// backoff is the base of the pause between attempts: before attempt n+1,
// retry sleeps a random duration in [n·backoff/2, n·backoff).
const backoff = 2 * time.Millisecond

// errOutcomeUnknown is the error of an attempt whose connection was lost
// after its COMMIT was sent (or its statement, which in autocommit commits
// as it runs): the server may have committed it, or not, and no client can
// tell. It is not run again, since it may have been applied; the driver's
// error stays in the chain.
var errOutcomeUnknown = errors.New("connection lost with a commit in flight: outcome unknown")

// A verdict is what retry does after an attempt failed.
type verdict int

const (
	// giveUp: return the error; the server answered it.
	giveUp verdict = iota
	// again: PostgreSQL rolled the transaction back and asks the client to
	// run it again: a serialization failure (40001) or a deadlock (40P01).
	again
	// againOnce: the connection was lost (or never made) when nothing of
	// the attempt can have been applied; run it once more.
	againOnce
	// unknown: the connection was lost when the attempt may have committed.
	unknown
)

// classify says what the error of an attempt leaves behind. A lost
// connection leaves nothing applied when pgconn.SafeToRetry says that
// nothing was sent, when no connection was made, or when the attempt was
// marked rerunnable (a read, a transaction that failed before its COMMIT
// was sent, an idempotent write); otherwise it may have been applied.
func classify(err error) verdict {
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected):
		return again
	case nothingSent(err):
		return againOnce
	case !lostConnection(err):
		return giveUp
	case isRerunnable(err):
		return againOnce
	}
	return unknown
}

// nothingSent reports whether err is certain to have happened before any of
// the attempt reached the server: pgconn.SafeToRetry (a write to the socket
// that sent no byte, a connection already known closed), or a connection
// that could not be made (*pgconn.ConnectError: during a restart the server
// refuses new sessions with 57P03).
func nothingSent(err error) bool {
	var ce *pgconn.ConnectError
	return pgconn.SafeToRetry(err) || errors.As(err, &ce)
}

// lostConnection reports whether err means the session with the server
// ended: the server ended it with a FATAL error (57P01 admin_shutdown, as
// pg_terminate_backend and a fast shutdown send; 57P02 crash_shutdown;
// 57P03 cannot_connect_now; 57P05 idle_session_timeout, when an operator
// sets idle_session_timeout shorter than the pool's idle time), or reading
// or writing the socket failed.
// pgconn closes a connection after any such error, so the session is over
// on both sides, and PostgreSQL rolls back a transaction whose session ends
// before it committed.
func lostConnection(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeAdminShutdown, codeCrashShutdown, codeCannotConnectNow, codeIdleSessionTimeout:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// rerunnableError marks the error of an attempt that may run again even if
// its statements reached the server; see rerunnable.
type rerunnableError struct{ err error }

func (e rerunnableError) Error() string { return e.err.Error() }
func (e rerunnableError) Unwrap() error { return e.err }

// rerunnable marks err, the error of an attempt that cannot have committed
// anything (a read; a transaction that failed before its COMMIT was sent),
// or whose second run leaves the rows and the result as the first did (an
// idempotent write): retry runs it once more after a lost connection. An
// unmarked attempt is taken to have committed as soon as it was sent.
func rerunnable(err error) error {
	if err == nil {
		return nil
	}
	return rerunnableError{err}
}

func isRerunnable(err error) bool {
	var r rerunnableError
	return errors.As(err, &r)
}

// retry runs fn, the whole of a transaction (or one statement), again when
// its failure left nothing applied: at most maxAttempts times in all while
// it fails with a serialization failure or a deadlock, and once after a
// lost connection (see classify). It pauses a short, growing, jittered time
// between attempts, so that the transactions that collided do not collide
// again, and the pool hands the rerun a connection that answers (see
// shouldPing). A lost connection when the attempt may have committed is
// errOutcomeUnknown. It returns fn's last error, or the context's error
// when ctx ends during a pause.
func (s *Store) retry(ctx context.Context, fn func() error) error {
	lossRetried := false
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		v := classify(err)
		if r, ok := err.(rerunnableError); ok {
			err = r.err
		}
		if (v == againOnce || v == unknown) && ctx.Err() == nil { // not a cancelled call's
			s.lostAt.Store(int64(time.Since(s.start)))
		}
		switch {
		case v == unknown && ctx.Err() == nil:
			return fmt.Errorf("%w: %w: %w", gatehouse.ErrUnavailable, errOutcomeUnknown, err)
		case v == againOnce && !lossRetried && !s.noLossRetry:
			lossRetried = true
			s.lossRetries.Add(1)
		case v == againOnce && ctx.Err() == nil:
			return fmt.Errorf("%w: %w", gatehouse.ErrUnavailable, err) // lost twice, or no database
		case v == giveUp && timedOut(err):
			// statement_timeout or lock_timeout: the database is too slow
			// or blocked, which the client may try again later.
			return fmt.Errorf("%w: %w", gatehouse.ErrUnavailable, err)
		case v != again:
			return err
		}
		if attempt == maxAttempts {
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

// timedOut reports whether the server cancelled a statement for a timeout
// the operator set: 57014 query_canceled (statement_timeout) or 55P03
// lock_not_available (lock_timeout).
func timedOut(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "57014" || pe.Code == "55P03")
}
