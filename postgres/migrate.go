package postgres

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file of migrations/, such as 0001_init.sql. The
// numbers are those of the SQLite migrations that make the same schema.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations ordered by version.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same number", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrateLockKey is the key of the advisory lock that serializes Migrate
// calls. Advisory locks are per database, so migrations of different schemas
// of one database wait for each other too, which costs only time.
const migrateLockKey int64 = 0x67617465686f7573 // "gatehous"

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	applied_at BIGINT NOT NULL
)`

// Migrate applies the migrations that the schema lacks, each in its own
// transaction, in order, in the first schema of the search_path. It is
// idempotent, and safe when several processes start at once: each
// transaction first takes a transaction-scoped advisory lock, so the check
// of schema_migrations and the change happen while no other Migrate runs
// (CREATE TABLE IF NOT EXISTS itself is not safe against a concurrent
// creator). It fails if the schema was migrated by a newer Gatehouse.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, m := range ms {
		if err := s.inTx(ctx, func(tx pgx.Tx) error { return apply(ctx, tx, m) }); err != nil {
			return fmt.Errorf("postgres: migrate %s: %w", m.name, err)
		}
	}
	return s.checkVersion(ctx, ms[len(ms)-1].version)
}

// apply runs a migration under the advisory lock unless it was applied
// before. In READ COMMITTED every statement after the lock sees what a
// Migrate that held it before committed.
func apply(ctx context.Context, tx pgx.Tx, m migration) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
		return err
	}
	var applied bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`,
		m.version).Scan(&applied)
	if err != nil || applied {
		return err
	}
	if _, err := tx.Exec(ctx, m.sql); err != nil { // no arguments: the simple protocol, several statements
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at)
		VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)`, m.version)
	return err
}

// checkVersion fails if the schema has a migration newer than latest.
func (s *Store) checkVersion(ctx context.Context, latest int) error {
	var v int
	err := s.read(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if v > latest {
		return fmt.Errorf("postgres: migrate: the database is at version %d, newer than this binary's %d", v, latest)
	}
	return nil
}
