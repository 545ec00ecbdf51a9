package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultMaxConns is the pool size when the DSN sets no pool_max_conns.
const defaultMaxConns = 8

// defaultConnectTimeout bounds a new connection, the startup exchange
// included, when the DSN sets no connect_timeout.
const defaultConnectTimeout = 5 * time.Second

// Store is a gatehouse.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool

	// start and lostAt (nanoseconds after start, on the monotonic clock)
	// date the last lost connection that retry saw; see shouldPing.
	start  time.Time
	lostAt atomic.Int64

	// lossRetries counts the attempts run again after a lost connection;
	// noLossRetry turns those reruns off. Both are for tests.
	lossRetries atomic.Int64
	noLossRetry bool
}

var _ gatehouse.Store = (*Store)(nil)

// Open connects to the database dsn, a PostgreSQL URL
// (postgres://user@host:5432/db?sslmode=verify-full) or keyword/value string
// as pgxpool.ParseConfig reads it. The pool has at most pool_max_conns
// connections, 8 when the DSN does not say, and a connection is given
// connect_timeout, 5 s when the DSN does not say; every other setting of the DSN
// (TLS, search_path, options=-c statement_timeout=5s, …) applies unchanged.
// Open checks that the server answers; it does not migrate the schema, call
// Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err) // pgconn redacts the password
	}
	if !setsMaxConns(dsn) {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A database that accepts the TCP connection and never answers
		// must not hold requests for ever.
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	s := &Store{start: time.Now()}
	cfg.ShouldPing = s.shouldPing
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		s.pool.Close()
		return nil, &dialError{cfg: cfg.ConnConfig, err: err}
	}
	return s, nil
}

// dialError says once where the connection went and why it failed:
// pgconn's own text repeats the dial error for every address a host
// resolves to.
type dialError struct {
	cfg *pgx.ConnConfig
	err error
}

func (e *dialError) Error() string {
	return fmt.Sprintf("postgres: cannot connect to %s, database %q as %q: %s",
		net.JoinHostPort(e.cfg.Host, strconv.Itoa(int(e.cfg.Port))), e.cfg.Database, e.cfg.User, connectReason(e.err, e.cfg.ConnectTimeout))
}

func (e *dialError) Unwrap() error { return e.err }

// connectReason is the cause of a failed connection in a few words.
func connectReason(err error, timeout time.Duration) string {
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &pgErr):
		return pgErr.Message // "database \"x\" does not exist", "password authentication failed …"
	case errors.As(err, &dnsErr):
		return "host not found"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("no answer within %s", timeout)
	case errors.As(err, &opErr) && opErr.Err != nil:
		return strings.TrimPrefix(opErr.Err.Error(), "connect: ")
	}
	// pgconn: "failed to connect to …:" and then a line per address,
	// "\tHOST:PORT (ADDR): reason"; the first address's reason is enough.
	lines := strings.Split(err.Error(), "\n")
	msg := lines[0]
	if len(lines) > 1 {
		msg = strings.TrimSpace(lines[1])
		if _, reason, ok := strings.Cut(msg, "): "); ok {
			msg = reason
		}
	}
	return msg
}

// pingAfterLoss is how long after a lost connection the pool checks every
// connection before it hands it out.
const pingAfterLoss = time.Second

// shouldPing tells the pool to check, with a ping, a connection it is about
// to hand out when the connection was idle for more than a second (pgxpool's
// default), or when retry saw a lost connection less than pingAfterLoss ago:
// a failover, a restart or pg_terminate_backend ends every connection at
// once, and without the check a rerun would likely get another dead one,
// and so would the next write. A connection that fails the ping is dropped
// and the pool tries the next, or opens one. The check costs a round trip
// per request during pingAfterLoss.
func (s *Store) shouldPing(_ context.Context, p pgxpool.ShouldPingParams) bool {
	lost := s.lostAt.Load()
	return p.IdleDuration > time.Second || lost != 0 && time.Since(s.start)-time.Duration(lost) < pingAfterLoss
}

// setsMaxConns reports whether dsn sets pool_max_conns. pgxpool.ParseConfig
// removes the setting once it has read it, so the DSN is parsed again.
func setsMaxConns(dsn string) bool {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return false
	}
	_, ok := cfg.RuntimeParams["pool_max_conns"]
	return ok
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for the connections in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// querier runs statements: the pool, or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a READ COMMITTED transaction and commits it, or rolls it
// back if fn fails. It runs the whole transaction again (see retry) when it
// fails with a serialization failure or a deadlock, or when the connection
// was lost before COMMIT was sent, so fn must set its results afresh on
// every call. A connection lost while COMMIT was in flight is
// errOutcomeUnknown.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.retry(ctx, func() error {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return rerunnable(err)
		}
		defer func() { _ = tx.Rollback(ctx) }() // after a commit: ErrTxClosed
		if err := fn(tx); err != nil {
			return rerunnable(err) // uncommitted: the server rolls it back, even on a lost connection
		}
		return tx.Commit(ctx)
	})
}

// exec runs one write outside a transaction, with retry, and returns how
// many rows it changed. In autocommit the statement commits as it runs, so
// after a lost connection it runs again only if it was not sent.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return s.execMarked(ctx, func(err error) error { return err }, sql, args...)
}

// execIdempotent is exec for a write whose second run leaves the rows, and
// the count of rows it matched, as the first did: it also runs again once
// when the connection was lost after it was sent.
func (s *Store) execIdempotent(ctx context.Context, sql string, args ...any) (int64, error) {
	return s.execMarked(ctx, rerunnable, sql, args...)
}

func (s *Store) execMarked(ctx context.Context, mark func(error) error, sql string, args ...any) (int64, error) {
	var n int64
	err := s.retry(ctx, func() error {
		tag, err := s.pool.Exec(ctx, sql, args...)
		n = tag.RowsAffected()
		return mark(err)
	})
	return n, mapErr(err)
}

// insertID runs an INSERT … RETURNING id, with retry as exec, and returns
// the id.
func (s *Store) insertID(ctx context.Context, sql string, args ...any) (int64, error) {
	var id int64
	err := s.retry(ctx, func() error { return s.pool.QueryRow(ctx, sql, args...).Scan(&id) })
	return id, mapErr(err)
}

// read runs fn, reads outside a transaction, with retry: a read changes
// nothing, so it runs again once after a lost connection too.
func (s *Store) read(ctx context.Context, fn func() error) error {
	return s.retry(ctx, func() error { return rerunnable(fn()) })
}

// readOne runs a query for one row on the pool and scans it, with retry
// (see read); no row is gatehouse.ErrNotFound.
func readOne[T any](ctx context.Context, s *Store, scan func(pgx.Row) (T, error), sql string, args ...any) (T, error) {
	var v T
	err := s.read(ctx, func() error {
		var err error
		v, err = one(ctx, s.pool, scan, sql, args...)
		return err
	})
	return v, err
}

// readAll runs a query on the pool and scans every row, with retry (see
// read).
func readAll[T any](ctx context.Context, s *Store, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	var vs []T
	err := s.read(ctx, func() error {
		var err error
		vs, err = all(ctx, s.pool, scan, sql, args...)
		return err
	})
	return vs, err
}

// one runs a query for one row and scans it; no row is gatehouse.ErrNotFound.
func one[T any](ctx context.Context, q querier, scan func(pgx.Row) (T, error), sql string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, sql, args...))
	return v, mapErr(err)
}

// all runs a query and scans every row.
func all[T any](ctx context.Context, q querier, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}
