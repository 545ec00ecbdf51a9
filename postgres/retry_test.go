package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestRetryClassifies: retry runs a transaction again on a serialization
// failure or a deadlock, wrapped or not, and returns any other error at
// once.
func TestRetryClassifies(t *testing.T) {
	pgErr := func(code string) error { return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "test"} }
	tests := []struct {
		name  string
		err   error
		calls int // until the second call succeeds
	}{
		{"SerializationFailure", pgErr("40001"), 2},
		{"Deadlock", pgErr("40P01"), 2},
		{"WrappedSerializationFailure", fmt.Errorf("commit: %w", pgErr("40001")), 2},
		{"UniqueViolation", pgErr("23505"), 1},
		{"ForeignKeyViolation", pgErr("23503"), 1},
		{"QueryCanceled", pgErr("57014"), 1},
		{"NoRows", pgx.ErrNoRows, 1},
		{"Other", errors.New("connection reset"), 1},
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
		})
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
