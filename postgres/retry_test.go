package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestRetryClassifies: retry runs a transaction again on a serialization
// failure or a deadlock, wrapped or not; once more after a lost connection
// when nothing can have been applied (nothing was sent, no connection was
// made, or the attempt was marked rerunnable: a read, a transaction before
// its COMMIT); and returns any other error at once, a lost connection that
// may have committed as ErrOutcomeUnknown.
func TestRetryClassifies(t *testing.T) {
	pgErr := func(code string) error { return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "test"} }
	fatal := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code, Message: "test"} }
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	tests := []struct {
		name    string
		err     error
		calls   int  // until the second call succeeds
		unknown bool // the error returned is ErrOutcomeUnknown
	}{
		{"SerializationFailure", pgErr("40001"), 2, false},
		{"Deadlock", pgErr("40P01"), 2, false},
		{"WrappedSerializationFailure", fmt.Errorf("commit: %w", pgErr("40001")), 2, false},
		{"UniqueViolation", pgErr("23505"), 1, false},
		{"ForeignKeyViolation", pgErr("23503"), 1, false},
		{"QueryCanceled", pgErr("57014"), 1, false},
		{"RerunnableQueryCanceled", postgres.Rerunnable(pgErr("57014")), 1, false},
		{"NoRows", pgx.ErrNoRows, 1, false},
		{"Other", errors.New("connection reset"), 1, false},

		// Nothing sent, whatever the statement.
		{"SafeToRetry", unsent{}, 2, false},
		{"WrappedSafeToRetry", fmt.Errorf("begin: %w", unsent{}), 2, false},
		{"ConnectFailed", connectError(t), 2, false},

		// Lost before COMMIT was sent (or in a read): rolled back.
		{"AdminShutdownBeforeCommit", postgres.Rerunnable(fatal("57P01")), 2, false},
		{"CrashShutdownBeforeCommit", postgres.Rerunnable(fatal("57P02")), 2, false},
		{"CannotConnectNowBeforeCommit", postgres.Rerunnable(fatal("57P03")), 2, false},
		{"IdleSessionTimeoutBeforeCommit", postgres.Rerunnable(fatal("57P05")), 2, false},
		{"ResetBeforeCommit", postgres.Rerunnable(reset), 2, false},
		{"EOFBeforeCommit", postgres.Rerunnable(fmt.Errorf("receive: %w", io.ErrUnexpectedEOF)), 2, false},

		// Lost while COMMIT, or a write in autocommit, was in flight.
		{"AdminShutdownAtCommit", fatal("57P01"), 1, true},
		{"CrashShutdownAtCommit", fatal("57P02"), 1, true},
		{"IdleSessionTimeoutAtCommit", fatal("57P05"), 1, true},
		{"ResetAtCommit", reset, 1, true},
		{"EOFAtCommit", io.EOF, 1, true},
		{"WrappedResetAtCommit", fmt.Errorf("commit: %w", reset), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := postgres.Retry(t.Context(), func() error {
				calls++
				if calls == 1 {
					return tt.err
				}
				return nil
			})
			if calls != tt.calls {
				t.Fatalf("fn ran %d times, want %d", calls, tt.calls)
			}
			if want := tt.calls == 1; (err != nil) != want {
				t.Fatalf("error = %v", err)
			}
			if errors.Is(err, postgres.ErrOutcomeUnknown) != tt.unknown {
				t.Fatalf("error = %v; want ErrOutcomeUnknown: %t", err, tt.unknown)
			}
			if tt.unknown && !errors.Is(err, tt.err) {
				t.Fatalf("error = %v; the driver's error %v is not in its chain", err, tt.err)
			}
		})
	}
}

// unsent is an error that pgconn.SafeToRetry reports as sent before any
// byte reached the server.
type unsent struct{}

func (unsent) Error() string     { return "write failed before sending" }
func (unsent) SafeToRetry() bool { return true }

// connectError is the *pgconn.ConnectError of a connection refused.
func connectError(t *testing.T) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := l.Addr().String()
	must(t, l.Close())
	_, err = pgconn.Connect(t.Context(), "postgres://"+addr+"/x?connect_timeout=5")
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("connect to a closed port: %v, want a *pgconn.ConnectError", err)
	}
	return err
}

// TestRetryLosesOnce: after a lost connection an attempt runs once more,
// not again after a second loss, also between serialization failures.
func TestRetryLosesOnce(t *testing.T) {
	errs := []error{
		postgres.Rerunnable(&pgconn.PgError{Severity: "FATAL", Code: "57P01"}),
		&pgconn.PgError{Code: "40001"},
		postgres.Rerunnable(io.ErrUnexpectedEOF),
	}
	calls := 0
	err := postgres.Retry(t.Context(), func() error {
		calls++
		return errs[min(calls, len(errs))-1]
	})
	if calls != 3 || !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, postgres.ErrOutcomeUnknown) {
		t.Fatalf("ran %d times, error %v; want 3 times, the second loss", calls, err)
	}
}

// TestRetryGivesUp: retry is bounded and returns the last error.
func TestRetryGivesUp(t *testing.T) {
	calls := 0
	err := postgres.Retry(t.Context(), func() error {
		calls++
		return &pgconn.PgError{Code: "40P01"}
	})
	var pe *pgconn.PgError
	if calls != postgres.MaxAttempts || !errors.As(err, &pe) || pe.Code != "40P01" {
		t.Fatalf("ran %d times, error %v; want %d times, the deadlock", calls, err, postgres.MaxAttempts)
	}
}

// TestRetryStopsWithContext: a cancelled context ends the pauses.
func TestRetryStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := 0
	err := postgres.Retry(ctx, func() error {
		calls++
		return &pgconn.PgError{Code: "40001"}
	})
	if calls != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("ran %d times, error %v; want once, context.Canceled", calls, err)
	}
}

// TestRetrySerializationFailure: two SERIALIZABLE transactions that read and
// then write one row collide for real; retry runs the loser again and both
// increments land.
func TestRetrySerializationFailure(t *testing.T) {
	s := openDSN(t, pgtest.DSN(t))
	pool := s.Pool()
	ctx := t.Context()
	_, err := pool.Exec(ctx, `CREATE TABLE counter (n BIGINT NOT NULL); INSERT INTO counter VALUES (0)`)
	must(t, err)
	var read sync.WaitGroup // both first attempts read before either writes
	read.Add(2)
	var mu sync.Mutex
	attempts, failures := 0, 0
	increment := func() error {
		return postgres.Retry(ctx, func() error {
			mu.Lock()
			attempts++
			first := attempts <= 2
			mu.Unlock()
			err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
				var n int64
				if err := tx.QueryRow(ctx, `SELECT n FROM counter`).Scan(&n); err != nil {
					return err
				}
				if first {
					read.Done()
					read.Wait()
				}
				_, err := tx.Exec(ctx, `UPDATE counter SET n = $1`, n+1)
				return err
			})
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "40001" {
				mu.Lock()
				failures++
				mu.Unlock()
			}
			return err
		})
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = increment() })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the transactions did not finish")
	}
	must(t, errors.Join(errs...))
	var n int64
	must(t, pool.QueryRow(ctx, `SELECT n FROM counter`).Scan(&n))
	if n != 2 || failures == 0 {
		t.Fatalf("counter = %d after %d serialization failures; want 2 after at least one", n, failures)
	}
}

// TestTimeoutsAreUnavailable: a statement or lock timeout the operator set
// is not retried, and is gatehouse.ErrUnavailable (a 503: try again later);
// another server error is not (the positive control).
func TestTimeoutsAreUnavailable(t *testing.T) {
	for code, want := range map[string]bool{"57014": true, "55P03": true, "23505": false, "42601": false} {
		err := postgres.Retry(t.Context(), func() error { return &pgconn.PgError{Severity: "ERROR", Code: code} })
		if got := errors.Is(err, gatehouse.ErrUnavailable); got != want {
			t.Errorf("%s: unavailable %v, want %v (%v)", code, got, want, err)
		}
	}
}
