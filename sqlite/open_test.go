package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func openTest(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// pragmas returns the settings of n distinct connections of db, holding them
// all at once so that the pool must open n connections.
func pragmas(t *testing.T, db *sql.DB, n int) []map[string]string {
	t.Helper()
	var out []map[string]string
	for range n {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		got := map[string]string{}
		for _, p := range []string{"journal_mode", "foreign_keys", "busy_timeout", "synchronous", "query_only"} {
			var v string
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+p).Scan(&v); err != nil {
				t.Fatal(err)
			}
			got[p] = v
		}
		out = append(out, got)
	}
	return out
}

func TestFilePragmas(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "g.db"))
	tests := []struct {
		name string
		db   *sql.DB
		n    int
		want map[string]string
	}{
		{"write", s.write.db, 1, map[string]string{
			"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": busyTimeoutMS, "synchronous": "1", "query_only": "0",
		}},
		{"read", s.read.db, 4, map[string]string{
			"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": busyTimeoutMS, "synchronous": "1", "query_only": "1",
		}},
	}
	for _, tt := range tests {
		for i, got := range pragmas(t, tt.db, tt.n) {
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("%s connection %d: %s = %q, want %q", tt.name, i, k, got[k], want)
				}
			}
		}
	}
}

func TestMemoryIsDistinctPerOpen(t *testing.T) {
	a, b := openTest(t, Memory), openTest(t, Memory)
	if err := a.CreateScope(t.Context(), gatehouse.Scope{Name: "read"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetScope(t.Context(), "read"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("second memory store: GetScope = %v, want ErrNotFound", err)
	}
	if got := pragmas(t, a.write.db, 1)[0]["foreign_keys"]; got != "1" {
		t.Fatalf("foreign_keys = %s", got)
	}
}

// TestMemorySurvivesDiscardedConnection: the database outlives the pool's
// connection, as when database/sql discards a broken one.
func TestMemorySurvivesDiscardedConnection(t *testing.T) {
	s := openTest(t, Memory)
	s.write.db.SetMaxIdleConns(0) // close the connection after every use
	for _, name := range []string{"read", "write"} {
		if err := s.CreateScope(t.Context(), gatehouse.Scope{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListScopes(t.Context())
	if err != nil || len(got) != 2 {
		t.Fatalf("ListScopes = %v, %v; want 2 scopes", got, err)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(s.Migrate(t.Context()), s.CreateScope(t.Context(), gatehouse.Scope{Name: "read"}), s.Close()); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path)
	if _, err := s.GetScope(t.Context(), "read"); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.read.db.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(ms))
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	s := openTest(t, Memory)
	if _, err := s.write.db.ExecContext(t.Context(), "INSERT INTO schema_migrations VALUES (9999, 0)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err == nil {
		t.Fatal("Migrate accepted a database newer than the binary")
	}
}

func TestLoadMigrationsOrdered(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	// reserved numbers belong to migrations of other branches (issue 11:
	// 0008 and 0009) that this one's 0010 may follow before they are
	// merged; drop the exception once they are.
	reserved := map[int]bool{8: true, 9: true}
	want := 1
	for _, m := range ms {
		for reserved[want] && m.version > want {
			want++
		}
		if m.version != want {
			t.Errorf("migration %s has number %d, want %d (no gaps)", m.name, m.version, want)
		}
		want = m.version + 1
	}
}

func TestZeroTimeRejected(t *testing.T) {
	s := openTest(t, Memory)
	ctx, d := t.Context(), []byte("digest")
	for name, err := range map[string]error{
		"ConsumeCode":   second(s.ConsumeCode(ctx, d, time.Time{})),
		"RevokeToken":   s.RevokeToken(ctx, d, time.Time{}),
		"RevokeGrant":   s.RevokeGrant(ctx, 1, time.Time{}),
		"RevokeApp":     second(s.RevokeAppTokens(ctx, 1, time.Time{})),
		"DeleteExpired": second(s.DeleteExpired(ctx, time.Now(), 0)),
		"Rotate":        second(s.RotateRefreshToken(ctx, d, time.Time{}, false, nil)),
		"RotateRetry":   second(s.RotateRefreshToken(ctx, d, time.Time{}, true, nil)),
	} {
		if err == nil || errors.Is(err, gatehouse.ErrNotFound) {
			t.Errorf("%s: error = %v, want a rejection of the argument", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestErrorsHoldNoDigest(t *testing.T) {
	s := openTest(t, Memory)
	ctx := context.Background()
	app, err := s.CreateApp(ctx, gatehouse.App{ClientID: "web", Type: gatehouse.Public})
	if err != nil {
		t.Fatal(err)
	}
	tok := gatehouse.Token{Digest: []byte("SECRETDIGEST"), Kind: gatehouse.AccessToken, AppID: app.ID}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateRefreshToken(ctx, tok.Digest, time.Now(), false, nil); err != nil {
		t.Fatal(err)
	}
	errs := []error{s.CreateToken(ctx, tok), s.RevokeToken(ctx, []byte("OTHERDIGEST"), time.Now()),
		second(s.GetToken(ctx, []byte("OTHERDIGEST"))),
		second(s.RotateRefreshToken(ctx, []byte("OTHERDIGEST"), time.Now(), false, nil)),
		second(s.RotateRefreshToken(ctx, tok.Digest, time.Now(), false, nil)),                   // used before
		second(s.RotateRefreshToken(ctx, tok.Digest, time.Now(), true, []gatehouse.Token{tok})), // taken digest
		second(s.GetSession(ctx, []byte("OTHERDIGEST"))),
		s.DeleteSession(ctx, []byte("OTHERDIGEST")),
		s.CreateSession(ctx, gatehouse.Session{Digest: []byte("OTHERDIGEST"), UserID: 1000}),
	}
	for _, err := range errs {
		if err == nil || containsAny(err.Error(), "SECRETDIGEST", "OTHERDIGEST", "534543524554") {
			t.Errorf("error %q: want an error without the digest", err)
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
