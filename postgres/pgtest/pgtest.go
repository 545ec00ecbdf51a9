package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/postgres"
	"github.com/jackc/pgx/v5"
)

// EnvServer names the environment variable that holds the DSN of the test
// server.
const EnvServer = "GATEHOUSE_TEST_POSTGRES"

// DefaultServer is the test server when EnvServer is not set.
const DefaultServer = "postgres://127.0.0.1:5432/test?sslmode=disable"

// PoolSize is the pool_max_conns of the DSNs that DSN returns: test packages
// run in parallel against one server, whose max_connections is small.
const PoolSize = 4

// adminTimeout bounds the creation and the drop of a schema.
const adminTimeout = 10 * time.Second

// Server returns the DSN of the test server.
func Server() string {
	if dsn := os.Getenv(EnvServer); dsn != "" {
		return dsn
	}
	return DefaultServer
}

// DSN creates a schema named gh_<random hex> on the test server and returns
// the server's DSN with search_path set to it (pgx sends search_path as a
// startup parameter, so every connection of a pool uses the schema) and
// pool_max_conns set to PoolSize. The schema is dropped, with everything in
// it, when the test and its subtests end; close the stores that use it in
// cleanups registered after DSN returns, so that they run first.
func DSN(t testing.TB) string {
	t.Helper()
	server := Server()
	schema := "gh_" + randomHex(8)
	connected, err := admin(server, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize())
	if !connected {
		unreachable(t, server, err)
	}
	if err != nil {
		t.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin(server, `DROP SCHEMA `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return WithParam(WithParam(server, "search_path", schema), "pool_max_conns", strconv.Itoa(PoolSize))
}

// Open opens a store on a fresh schema (see DSN) and migrates it; the store
// is closed, and the schema dropped, when the test ends.
func Open(t testing.TB) *postgres.Store {
	t.Helper()
	dsn := DSN(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s
}

// WithParam returns dsn, a URL or a keyword/value string, with the parameter
// key set to value, replacing an earlier value.
func WithParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set(key, value)
			// pgconn does not read "+" as a space, as url.Values.Encode writes it.
			u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
			return u.String()
		}
	}
	// In a keyword/value string the last setting of a key wins.
	return strings.TrimSpace(dsn) + " " + key + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'"
}

// admin runs one statement on a short-lived connection to the server. It
// reports whether it connected, and the error of the connection or of the
// statement. It does not use the test's context, which has ended when
// cleanups run.
func admin(server, sql string) (connected bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return true, err
}

// unreachable skips the test, or fails it when CI=true, because the test
// server did not take a new schema.
func unreachable(t testing.TB, server string, err error) {
	t.Helper()
	msg := "pgtest: PostgreSQL test server " + redact(server) + " unavailable (set " + EnvServer + "): " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// redact hides the password of a URL DSN.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	if strings.Contains(dsn, "password") {
		return "(DSN with a password)"
	}
	return dsn
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
