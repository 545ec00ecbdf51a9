package postgres

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultMaxConns is the pool size when the DSN sets no pool_max_conns.
const defaultMaxConns = 8

// Store is a gatehouse.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

var _ gatehouse.Store = (*Store)(nil)

// Open connects to the database dsn, a PostgreSQL URL
// (postgres://user@host:5432/db?sslmode=verify-full) or keyword/value string
// as pgxpool.ParseConfig reads it. The pool has at most pool_max_conns
// connections, 8 when the DSN does not say; every other setting of the DSN
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
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &Store{pool: pool}, nil
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
// back if fn fails. It runs the whole transaction again when it fails with a
// serialization failure or a deadlock (see retry), so fn must set its results
// afresh on every call.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return retry(ctx, func() error { return pgx.BeginFunc(ctx, s.pool, fn) })
}

// exec runs one statement outside a transaction, with retry, and returns how
// many rows it changed.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	err := retry(ctx, func() error {
		tag, err := s.pool.Exec(ctx, sql, args...)
		n = tag.RowsAffected()
		return err
	})
	return n, mapErr(err)
}

// insertID runs an INSERT … RETURNING id, with retry, and returns the id.
func (s *Store) insertID(ctx context.Context, sql string, args ...any) (int64, error) {
	var id int64
	err := retry(ctx, func() error { return s.pool.QueryRow(ctx, sql, args...).Scan(&id) })
	return id, mapErr(err)
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
