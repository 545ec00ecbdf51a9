package client

import (
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// A SQL test database: its dialect and DSN, and for SQLite its file.
type testDB struct {
	dialect Dialect
	dsn     string
	file    string
}

func sqliteDB(t *testing.T) testDB {
	file := filepath.Join(t.TempDir(), "tokens.db")
	return testDB{SQLite, "file:" + file + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)", file}
}

// postgresDB is a schema of its own on the test server (pgtest.DSN), less
// pgtest's pool_max_conns, a pgxpool parameter that database/sql's pgx
// driver would send to the server.
func postgresDB(t *testing.T) testDB {
	dsn := pgtest.DSN(t)
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		q.Del("pool_max_conns")
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		dsn = u.String()
	} else {
		dsn = regexp.MustCompile(`\bpool_max_conns='?\d+'?`).ReplaceAllString(dsn, "")
	}
	return testDB{PostgreSQL, dsn, ""}
}

func (d testDB) open(t testing.TB) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if d.dialect == PostgreSQL {
		driver = "pgx"
	}
	db, err := sql.Open(driver, d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (d testDB) store(t testing.TB, db *sql.DB, ks *Keys) *SQLStore {
	t.Helper()
	s, err := NewSQLStore(db, d.dialect, ks)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func sqlSealedStore(newDB func(t *testing.T) testDB) func(t *testing.T, ks *Keys) sealedStore {
	return func(t *testing.T, ks *Keys) sealedStore {
		d := newDB(t)
		db := d.open(t)
		s := d.store(t, db, ks)
		return sealedStore{
			TokenStore: s,
			keys:       func(ks *Keys) rotatingStore { return d.store(t, db, ks) },
			get: func(t *testing.T, key TokenKey) sealed {
				var sl sealed
				err := db.QueryRowContext(t.Context(), s.q(`SELECT record_id, access_token, refresh_token FROM `+s.table+
					` WHERE issuer = ? AND client_id = ? AND subject = ?`), key.Issuer, key.ClientID, key.Subject).
					Scan(&sl.record, &sl.access, &sl.refresh)
				if err != nil {
					t.Fatal(err)
				}
				return sl
			},
			put: func(t *testing.T, key TokenKey, sl sealed) {
				_, err := db.ExecContext(t.Context(), s.q(`INSERT INTO `+s.table+
					` (issuer, client_id, subject, key_id, record_id, access_token, refresh_token) VALUES (?, ?, ?, 'x', ?, ?, ?)
					ON CONFLICT (issuer, client_id, subject) DO UPDATE SET record_id = excluded.record_id,
					access_token = excluded.access_token, refresh_token = excluded.refresh_token`),
					key.Issuer, key.ClientID, key.Subject, sl.record, sl.access, sl.refresh)
				if err != nil {
					t.Fatal(err)
				}
			},
			dump: func(t *testing.T) []byte { return d.dump(t, db, s.table) },
		}
	}
}

// dump returns everything the database holds of the table: for SQLite the
// database file and its -wal and -shm files; for PostgreSQL every row as
// text and every column as text and as bytea.
func (d testDB) dump(t *testing.T, db *sql.DB, table string) []byte {
	t.Helper()
	if d.dialect == SQLite {
		var all []byte
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			b, err := os.ReadFile(d.file + suffix)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if len(all) < 4096 {
			t.Fatal("the SQLite files are missing")
		}
		return all
	}
	rows, err := db.QueryContext(t.Context(), `SELECT t::text, issuer, client_id, subject, key_id,
		record_id, access_token, refresh_token, access_token::text, refresh_token::text,
		encode(access_token, 'escape'), encode(refresh_token, 'escape') FROM `+table+` t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []byte
	for rows.Next() {
		cols := make([][]byte, 12)
		ptrs := make([]any, len(cols))
		for i := range cols {
			ptrs[i] = &cols[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			all = append(all, c...)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

func runSQLStoreTests(t *testing.T, newDB func(t *testing.T) testDB) {
	runStoreTests(t, func(t *testing.T) TokenStore {
		d := newDB(t)
		return d.store(t, d.open(t), testKeys(t, testKey(t)))
	})
	runSealedStoreTests(t, sqlSealedStore(newDB))
	t.Run("LockAcrossProcesses", func(t *testing.T) {
		d := newDB(t)
		s := d.store(t, d.open(t), testKeys(t, testKey(t)))
		testLockAcrossProcesses(t, s, envLockChild+"=sql", envLockChild+"_DIALECT="+string(d.dialect), envLockChild+"_DSN="+d.dsn)
	})
	t.Run("WithTable", func(t *testing.T) {
		d := newDB(t)
		db := d.open(t)
		s, err := NewSQLStore(db, d.dialect, testKeys(t, testKey(t)), WithTable("my_tokens"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(t.Context(), alice, testToken(t)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM my_tokens`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("my_tokens holds %d rows (%v), want 1", n, err)
		}
	})
}

func TestSQLStoreSQLite(t *testing.T) { runSQLStoreTests(t, sqliteDB) }

func TestSQLStorePostgreSQL(t *testing.T) { runSQLStoreTests(t, postgresDB) }

func TestNewSQLStoreRefuses(t *testing.T) {
	db := sqliteDB(t).open(t)
	ks := testKeys(t, testKey(t))
	for name, f := range map[string]func() (*SQLStore, error){
		"no db":       func() (*SQLStore, error) { return NewSQLStore(nil, SQLite, ks) },
		"no keys":     func() (*SQLStore, error) { return NewSQLStore(db, SQLite, nil) },
		"dialect":     func() (*SQLStore, error) { return NewSQLStore(db, "mysql", ks) },
		"table quote": func() (*SQLStore, error) { return NewSQLStore(db, SQLite, ks, WithTable(`t"; DROP TABLE x; --`)) },
		"table empty": func() (*SQLStore, error) { return NewSQLStore(db, SQLite, ks, WithTable("")) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: NewSQLStore accepted it", name)
		}
	}
}

func init() { lockChildren["sql"] = openChildSQLStore }

// openChildSQLStore opens the store that the parent of a TestLockChild
// named.
func openChildSQLStore(t *testing.T) Locker {
	d := testDB{dialect: Dialect(os.Getenv(envLockChild + "_DIALECT")), dsn: os.Getenv(envLockChild + "_DSN")}
	return d.store(t, d.open(t), testKeys(t, testKey(t)))
}
