package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestSearchPathIsAStartupParameter: pgx sends search_path from the DSN as a
// startup parameter, so every connection of the pool works in pgtest's
// schema, and Migrate creates the tables there.
func TestSearchPathIsAStartupParameter(t *testing.T) {
	dsn := pgtest.DSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	must(t, err)
	schema := cfg.RuntimeParams["search_path"]
	if !strings.HasPrefix(schema, "gh_") {
		t.Fatalf("search_path runtime parameter = %q", schema)
	}
	s := openDSN(t, dsn)
	var current string
	var tokens *string
	must(t, s.Pool().QueryRow(t.Context(), `SELECT current_schema(), to_regclass($1)::text`,
		pgx.Identifier{schema, "tokens"}.Sanitize()).Scan(&current, &tokens))
	if current != schema || tokens == nil {
		t.Fatalf("current_schema() = %q, %s.tokens = %v", current, schema, tokens)
	}
	for _, key := range []string{"search_path", "pool_max_conns"} { // a keyword/value DSN works too
		if got := pgtest.WithParam("host=h dbname=d "+key+"=old", key, "x y'z"); !strings.HasSuffix(got, key+`='x y\'z'`) {
			t.Errorf("WithParam = %q", got)
		}
		cfg, err := pgconn.ParseConfig(pgtest.WithParam("host=h dbname=d "+key+"=old", key, "x y'z"))
		must(t, err)
		if cfg.RuntimeParams[key] != "x y'z" {
			t.Errorf("%s = %q", key, cfg.RuntimeParams[key])
		}
	}
}

// TestPoolSize: the pool has 8 connections at most unless the DSN sets
// pool_max_conns.
func TestPoolSize(t *testing.T) {
	dsn := pgtest.DSN(t)
	for _, tt := range []struct {
		dsn  string
		want int32
	}{
		{pgtest.Server(), 8},
		{dsn, pgtest.PoolSize},
		{pgtest.WithParam(dsn, "pool_max_conns", "3"), 3},
	} {
		s, err := postgres.Open(t.Context(), tt.dsn)
		must(t, err)
		if got := s.Pool().Config().MaxConns; got != tt.want {
			t.Errorf("MaxConns = %d, want %d", got, tt.want)
		}
		must(t, s.Close())
	}
}

// TestStatementTimeoutFromDSN: the store sets no statement timeout of its
// own; the one in the DSN's options applies to every statement.
func TestStatementTimeoutFromDSN(t *testing.T) {
	s := openDSN(t, pgtest.WithParam(pgtest.DSN(t), "options", "-c statement_timeout=300ms"))
	var timeout string
	must(t, s.Pool().QueryRow(t.Context(), `SHOW statement_timeout`).Scan(&timeout))
	if timeout != "300ms" {
		t.Fatalf("statement_timeout = %q, want 300ms", timeout)
	}
	_, err := s.Pool().Exec(t.Context(), `SELECT pg_sleep(5)`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("a 5 s statement under a 300 ms timeout: %v, want SQLSTATE 57014", err)
	}
	must(t, s.Ping(t.Context()))
}

// TestOpenErrors: Open fails on a bad DSN or an unreachable server, without
// the password in the error.
func TestOpenErrors(t *testing.T) {
	pgtest.DSN(t) // skips without a server, like the other tests
	for _, dsn := range []string{
		"postgres://gatehouse:hunter2secret@127.0.0.1:1/db?connect_timeout=2",
		"postgres://gatehouse:hunter2secret@127.0.0.1/db?pool_max_conns=zero",
		"host=127.0.0.1 port=1 user=gatehouse password=hunter2secret connect_timeout=2",
	} {
		s, err := postgres.Open(t.Context(), dsn)
		if err == nil {
			must(t, s.Close())
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("the error of Open shows the password: %v", err)
		}
	}
}

// TestGenerationNotifies: a change of an app is announced on the channel
// gatehouse_generation with the new generation, when it commits.
func TestGenerationNotifies(t *testing.T) {
	s := pgtest.Open(t)
	conn, err := s.Pool().Acquire(t.Context())
	must(t, err)
	defer conn.Release()
	_, err = conn.Exec(t.Context(), `LISTEN gatehouse_generation`)
	must(t, err)
	_, err = s.CreateApp(t.Context(), gatehouse.App{ClientID: "web", Name: "Web", Type: gatehouse.Public})
	must(t, err)
	g, err := s.Generation(t.Context())
	must(t, err)
	var last string
	for last != strconv.FormatInt(g, 10) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		n, err := conn.Conn().WaitForNotification(ctx)
		cancel()
		if err != nil {
			t.Fatalf("no notification of generation %d (last %q): %v", g, last, err)
		}
		last = n.Payload
	}
}
