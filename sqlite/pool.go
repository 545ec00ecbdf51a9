package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/gatehouse/gatehouse"
)

// pool is a connection pool with a cache of prepared statements. Every query
// it runs is a constant of this package, so the cache is bounded.
type pool struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newPool(db *sql.DB) *pool {
	return &pool{db: db, stmts: make(map[string]*sql.Stmt)}
}

// stmt returns the prepared statement of query, preparing it on first use.
// It prepares without holding the lock, which would make every other query
// wait for the connection that the preparation waits for.
func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.RLock()
	st, ok := p.stmts[query]
	p.mu.RUnlock()
	if ok {
		return st, nil
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cached, ok := p.stmts[query]; ok {
		// Another goroutine was first. A failure to close the redundant
		// copy is harmless: closing the pool frees its connections' statements.
		_ = st.Close()
		return cached, nil
	}
	p.stmts[query] = st
	return st, nil
}

// prepared returns the prepared statements of queries. A write transaction
// calls it before it begins and rebinds them with tx.StmtContext: preparing
// inside it would wait for the only write connection, which it holds.
func (p *pool) prepared(ctx context.Context, queries ...string) ([]*sql.Stmt, error) {
	out := make([]*sql.Stmt, len(queries))
	for i, q := range queries {
		st, err := p.stmt(ctx, q)
		if err != nil {
			return nil, err
		}
		out[i] = st
	}
	return out, nil
}

// exec runs a statement and returns how many rows it changed.
func (p *pool) exec(ctx context.Context, query string, args ...any) (int64, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// query runs a statement that returns rows.
func (p *pool) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// close closes the cached statements and the pool.
func (p *pool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for q, st := range p.stmts {
		errs = append(errs, st.Close())
		delete(p.stmts, q)
	}
	return errors.Join(append(errs, p.db.Close())...)
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// querier runs queries: a *pool, or a transaction through txQuerier.
type querier interface {
	query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// txQuerier runs queries in a transaction, unprepared.
type txQuerier struct{ tx *sql.Tx }

func (q txQuerier) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.tx.QueryContext(ctx, query, args...)
}

// one runs a query for at most one row and scans it. It returns
// gatehouse.ErrNotFound if there is no row.
func one[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	var zero T
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return zero, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return zero, err
		}
		return zero, gatehouse.ErrNotFound
	}
	v, err := scan(rows)
	if err != nil {
		return zero, err
	}
	return v, rows.Close()
}

// all runs a query and scans every row.
func all[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it, or
// rolls it back if fn fails. fn must not use the pools: the transaction holds
// the only write connection.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(err, rerr)
		}
		return err
	}
	return tx.Commit()
}

// execTx runs a statement in a transaction and returns how many rows it
// changed.
func execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
