package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// benchDB is the database a bench run seeds and serves from.
type benchDB interface {
	// dsn is the --db value of the server and of the seeding.
	dsn() string
	kind() string
	describe() string
	// size is the database's size in bytes; 0 if unknown.
	size(ctx context.Context) int64
}

// sqliteBenchDB is a SQLite file that did not exist before the run.
type sqliteBenchDB string

func (p sqliteBenchDB) dsn() string      { return "sqlite:" + string(p) }
func (sqliteBenchDB) kind() string       { return "SQLite" }
func (p sqliteBenchDB) describe() string { return string(p) }

// size is the database file and its WAL.
func (p sqliteBenchDB) size(context.Context) int64 {
	var n int64
	for _, f := range []string{string(p), string(p) + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// pgBenchDB is a schema of the run's own in a PostgreSQL database.
type pgBenchDB struct {
	url    string
	admin  string // url without pool settings, for one connection
	schema string
}

func (p pgBenchDB) dsn() string      { return p.url }
func (pgBenchDB) kind() string       { return "PostgreSQL" }
func (p pgBenchDB) describe() string { return "schema " + p.schema + " of PostgreSQL" }

// size is the size of the schema's tables with their indexes and TOAST.
func (p pgBenchDB) size(ctx context.Context) int64 {
	conn, err := pgx.Connect(ctx, p.admin)
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	var n int64
	_ = conn.QueryRow(ctx, `SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
		JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = $1 AND c.relkind = 'r'`, p.schema).Scan(&n)
	return n
}

// newBenchSchema creates a schema for the run in the database dsn names
// and returns the DSN that uses it, and a function that drops it.
func newBenchSchema(ctx context.Context, dsn string) (pgBenchDB, func(), error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return pgBenchDB{}, nil, fmt.Errorf("--db: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "gatehouse_bench_" + hex.EncodeToString(b)
	admin := withoutPoolParams(u)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return pgBenchDB{}, nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return pgBenchDB{}, nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = c.Close(ctx)
		}
	}
	return pgBenchDB{url: u.String(), admin: admin, schema: schema}, drop, nil
}

// withoutPoolParams returns the URL without the pool_* settings, which
// pgxpool reads and a single connection refuses.
func withoutPoolParams(u *url.URL) string {
	c := *u
	q := c.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	c.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return c.String()
}
