package client

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Dialect names the SQL database of a SQLStore.
type Dialect string

// The dialects a SQLStore speaks, and the drivers it is tested with.
const (
	SQLite     Dialect = "sqlite"   // modernc.org/sqlite, driver name "sqlite"
	PostgreSQL Dialect = "postgres" // github.com/jackc/pgx/v5/stdlib, driver name "pgx"
)

// DefaultTable is the SQLStore's table unless WithTable names another.
const DefaultTable = "gatehouse_client_tokens"

// SQLStore keeps tokens in a SQL table, encrypted: for backends (a web
// app's server side, a service). Made by NewSQLStore.
//
// A row holds the TokenKey in plain text (issuer, client_id, subject: the
// primary key), the id of the key that encrypted it, a random record id,
// and the access and refresh tokens each sealed with AES-256-GCM exactly
// as the FileStore seals them, bound to the TokenKey, their kind and the
// record id. A copy of the database without the Keys yields no usable
// token, and a row or column moved elsewhere does not decrypt (ErrDecrypt).
//
// Save is one upsert statement. Lock holds across processes and machines:
// on PostgreSQL it is a session advisory lock, pg_advisory_lock, on a
// connection of its own held until unlock; on SQLite, which has no such
// lock, it is a row in the table <table>_locks with a lease of
// 10 seconds that the holder renews while it holds the lock, so that
// the lock of a process that died is free again after at most the lease.
// (A transaction held open, BEGIN IMMEDIATE, would also lock out the
// holder's own Save.) Open a SQLite database with a busy timeout, for
// example the DSN parameter _pragma=busy_timeout(5000).
type SQLStore struct {
	db      *sql.DB
	dialect Dialect
	keys    *Keys
	table   string
}

var (
	_ TokenStore = (*SQLStore)(nil)
	_ Locker     = (*SQLStore)(nil)
)

// SQLOption configures a SQLStore.
type SQLOption func(*SQLStore)

// WithTable names the store's table instead of DefaultTable: letters,
// digits and underscores, optionally qualified by a schema ("auth.tokens").
func WithTable(name string) SQLOption { return func(s *SQLStore) { s.table = name } }

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,50}(\.[A-Za-z_][A-Za-z0-9_]{0,50})?$`)

// NewSQLStore returns the store on db, a database of dialect. Call Migrate
// once before use: it creates the table.
func NewSQLStore(db *sql.DB, dialect Dialect, keys *Keys, opts ...SQLOption) (*SQLStore, error) {
	s := &SQLStore{db: db, dialect: dialect, keys: keys, table: DefaultTable}
	for _, o := range opts {
		o(s)
	}
	switch {
	case db == nil:
		return nil, errors.New("client: NewSQLStore: no database")
	case keys == nil:
		return nil, errors.New("client: NewSQLStore: no Keys")
	case dialect != SQLite && dialect != PostgreSQL:
		return nil, fmt.Errorf("client: NewSQLStore: unknown dialect %q", dialect)
	case !identifier.MatchString(s.table):
		return nil, fmt.Errorf("client: NewSQLStore: table name %q is not a plain SQL identifier", s.table)
	}
	return s, nil
}

// Migrate creates the store's table (and, on SQLite, its lock table) if
// they do not exist.
func (s *SQLStore) Migrate(ctx context.Context) error {
	blob := "BLOB"
	if s.dialect == PostgreSQL {
		blob = "BYTEA"
	}
	stmts := []string{`CREATE TABLE IF NOT EXISTS ` + s.table + ` (
		issuer        TEXT NOT NULL,
		client_id     TEXT NOT NULL,
		subject       TEXT NOT NULL,
		key_id        TEXT NOT NULL,
		record_id     ` + blob + ` NOT NULL,
		access_token  ` + blob + ` NOT NULL,
		refresh_token ` + blob + ` NOT NULL,
		PRIMARY KEY (issuer, client_id, subject))`}
	if s.dialect == SQLite {
		stmts = append(stmts, `CREATE TABLE IF NOT EXISTS `+s.table+`_locks (
		lock_key   TEXT PRIMARY KEY,
		owner      BLOB NOT NULL,
		expires_at INTEGER NOT NULL)`)
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("client: migrate the token table: %w", err)
		}
	}
	return nil
}

// q adapts a query written with ? placeholders to the dialect.
func (s *SQLStore) q(query string) string {
	if s.dialect != PostgreSQL {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Load returns key's tokens, ErrNoToken when there are none, or ErrDecrypt
// when the row does not decrypt for key.
func (s *SQLStore) Load(ctx context.Context, key TokenKey) (*oauth2.Token, error) {
	var sl sealed
	err := s.db.QueryRowContext(ctx, s.q(`SELECT record_id, access_token, refresh_token FROM `+s.table+
		` WHERE issuer = ? AND client_id = ? AND subject = ?`), key.Issuer, key.ClientID, key.Subject).
		Scan(&sl.record, &sl.access, &sl.refresh)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoToken
	}
	if err != nil {
		return nil, fmt.Errorf("client: load the token: %w", err)
	}
	return s.keys.open(key, sl)
}

// Save replaces key's tokens in one upsert statement.
func (s *SQLStore) Save(ctx context.Context, key TokenKey, tok *oauth2.Token) error {
	sl, err := s.keys.seal(key, tok)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO `+s.table+
		` (issuer, client_id, subject, key_id, record_id, access_token, refresh_token) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (issuer, client_id, subject) DO UPDATE SET key_id = excluded.key_id,
		record_id = excluded.record_id, access_token = excluded.access_token, refresh_token = excluded.refresh_token`),
		key.Issuer, key.ClientID, key.Subject, s.keys.CurrentID(), sl.record, sl.access, sl.refresh)
	if err != nil {
		return fmt.Errorf("client: save the token: %w", err)
	}
	return nil
}

// Delete removes key's tokens; deleting what is not there is not an error.
func (s *SQLStore) Delete(ctx context.Context, key TokenKey) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM `+s.table+` WHERE issuer = ? AND client_id = ? AND subject = ?`),
		key.Issuer, key.ClientID, key.Subject)
	if err != nil {
		return fmt.Errorf("client: delete the token: %w", err)
	}
	return nil
}

// Rotate re-encrypts every row that is not under the current key, and
// returns how many it re-encrypted. Each row is replaced only if it still
// holds the record that was read (its record id), so a concurrent Save is
// never overwritten. When Rotate returns nil, the keys other than the
// current one may be dropped from the Keys. A row that does not decrypt is
// left as it is and reported in the error (wrapping ErrDecrypt), after
// the others are done.
func (s *SQLStore) Rotate(ctx context.Context) (int, error) {
	type row struct {
		key TokenKey
		sl  sealed
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT issuer, client_id, subject, record_id, access_token, refresh_token FROM `+
		s.table+` WHERE key_id <> ?`), s.keys.CurrentID())
	if err != nil {
		return 0, fmt.Errorf("client: rotate: %w", err)
	}
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key.Issuer, &r.key.ClientID, &r.key.Subject, &r.sl.record, &r.sl.access, &r.sl.refresh); err != nil {
			rows.Close()
			return 0, fmt.Errorf("client: rotate: %w", err)
		}
		todo = append(todo, r)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("client: rotate: %w", err)
	}
	n := 0
	var errs []error
	for _, r := range todo {
		sl, _, err := s.keys.reseal(r.key, r.sl)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q %q %q: %w", r.key.Issuer, r.key.ClientID, r.key.Subject, err))
			continue
		}
		res, err := s.db.ExecContext(ctx, s.q(`UPDATE `+s.table+` SET key_id = ?, access_token = ?, refresh_token = ?
			WHERE issuer = ? AND client_id = ? AND subject = ? AND record_id = ?`),
			s.keys.CurrentID(), sl.access, sl.refresh, r.key.Issuer, r.key.ClientID, r.key.Subject, r.sl.record)
		if err != nil {
			return n, fmt.Errorf("client: rotate: %w", err)
		}
		if c, _ := res.RowsAffected(); c == 1 {
			n++
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("client: rotate: %w", errors.Join(errs...))
	}
	return n, nil
}
