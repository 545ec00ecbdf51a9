package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/sqlite" // registers the "sqlite" database/sql driver too
	"github.com/jackc/pgx/v5"
)

// The schema parity tests keep the two backends' schemas interchangeable for
// an export/import that copies rows table by table: the same tables, with
// the same columns, of corresponding types and nullability, the same
// foreign keys and the same indexes. Each side is read from a migrated
// database, not from the migration files.

// ignoredTables exist in one backend only, by design.
var ignoredTables = map[string]bool{"schema_migrations": true, "sqlite_sequence": true}

// column is what parity compares of a column.
type column struct {
	typ     string // INTEGER, TEXT or BLOB, as SQLite declares it
	notNull bool
}

// pgTypes maps PostgreSQL types to the SQLite declared types they stand for.
var pgTypes = map[string]string{"bigint": "INTEGER", "text": "TEXT", "bytea": "BLOB"}

func TestSchemaParity(t *testing.T) {
	pgStore := pgtest.Open(t)
	lite := migratedSQLite(t)
	pgCols, liteCols := postgresColumns(t, pgStore), sqliteColumns(t, lite)
	compareKeys(t, "table", tablesOf(liteCols), tablesOf(pgCols))
	compare(t, "column", liteCols, pgCols)
	compare(t, "foreign key", sqliteForeignKeys(t, lite), postgresForeignKeys(t, pgStore))
	compare(t, "index", sqliteIndexes(t, lite), postgresIndexes(t, pgStore))
}

// migratedSQLite migrates a SQLite file store and opens the file for
// reading. (The store has no accessor for its connection, and an in-memory
// database is private to the store that opened it.)
func migratedSQLite(t *testing.T) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parity.db")
	s, err := sqlite.Open(t.Context(), path)
	must(t, err)
	must(t, s.Migrate(t.Context()))
	must(t, s.Close())
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?mode=ro")
	must(t, err)
	t.Cleanup(func() { must(t, db.Close()) })
	return db
}

// sqliteColumns returns table.column → column of every table. The columns
// of a primary key count as NOT NULL, as they are in PostgreSQL (SQLite
// leaves a TEXT or BLOB primary key nullable, a quirk the store never uses).
func sqliteColumns(t *testing.T, db *sql.DB) map[string]column {
	t.Helper()
	out := map[string]column{}
	for _, table := range sqliteTables(t, db) {
		rows, err := db.QueryContext(t.Context(), `SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, table)
		must(t, err)
		for rows.Next() {
			var name, typ string
			var notNull, pk int
			must(t, rows.Scan(&name, &typ, &notNull, &pk))
			out[table+"."+name] = column{typ: strings.ToUpper(typ), notNull: notNull == 1 || pk > 0}
		}
		must(t, rows.Err())
	}
	return out
}

func sqliteTables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	must(t, err)
	var tables []string
	for rows.Next() {
		var name string
		must(t, rows.Scan(&name))
		if !ignoredTables[name] {
			tables = append(tables, name)
		}
	}
	must(t, rows.Err())
	return tables
}

func postgresColumns(t *testing.T, s *postgres.Store) map[string]column {
	t.Helper()
	out := map[string]column{}
	for _, r := range pgRows(t, s, `SELECT table_name, column_name, data_type, is_nullable = 'NO'
		FROM information_schema.columns WHERE table_schema = current_schema()`) {
		if ignoredTables[r[0]] {
			continue
		}
		typ, ok := pgTypes[r[2]]
		if !ok {
			typ = "unmapped PostgreSQL type " + r[2]
		}
		out[r[0]+"."+r[1]] = column{typ: typ, notNull: r[3] == "true"}
	}
	return out
}

// sqliteForeignKeys returns "table.column → table.column on delete ACTION".
func sqliteForeignKeys(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range sqliteTables(t, db) {
		rows, err := db.QueryContext(t.Context(), `SELECT "from", "table", "to", on_delete FROM pragma_foreign_key_list(?)`, table)
		must(t, err)
		for rows.Next() {
			var from, refTable, to, onDelete string
			must(t, rows.Scan(&from, &refTable, &to, &onDelete))
			out[table+"."+from] = fmt.Sprintf("%s.%s on delete %s", refTable, to, onDelete)
		}
		must(t, rows.Err())
	}
	return out
}

func postgresForeignKeys(t *testing.T, s *postgres.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range pgRows(t, s, `SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname,
			CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
				WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END
		FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
		WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`) {
		out[r[0]+"."+r[1]] = fmt.Sprintf("%s.%s on delete %s", r[2], r[3], r[4])
	}
	return out
}

// sqliteIndexes returns the explicitly created indexes: name → table(columns).
func sqliteIndexes(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT m.name, m.tbl_name, group_concat(i.name, ',')
		FROM sqlite_master m, pragma_index_info(m.name) i
		WHERE m.type = 'index' AND m.sql IS NOT NULL GROUP BY m.name`)
	must(t, err)
	out := map[string]string{}
	for rows.Next() {
		var name, table, cols string
		must(t, rows.Scan(&name, &table, &cols))
		out[name] = table + "(" + cols + ")"
	}
	must(t, rows.Err())
	return out
}

// postgresIndexes returns the indexes that are not those of a primary key or
// a UNIQUE constraint (SQLite makes those automatically too).
func postgresIndexes(t *testing.T, s *postgres.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range pgRows(t, s, `SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text,
			(SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY k (attnum, n)
				JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE c.relnamespace = current_schema()::regnamespace
		AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)`) {
		if !ignoredTables[r[1]] {
			out[r[0]] = r[1] + "(" + r[2] + ")"
		}
	}
	return out
}

// pgRows runs a query whose columns are all text (or cast to it) and returns
// its rows.
func pgRows(t *testing.T, s *postgres.Store, query string) [][]string {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), query, pgx.QueryExecModeSimpleProtocol)
	must(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
		vals, err := r.Values()
		strs := make([]string, len(vals))
		for i, v := range vals {
			strs[i] = fmt.Sprint(v)
		}
		return strs, err
	})
	must(t, err)
	return out
}

func tablesOf(cols map[string]column) map[string]bool {
	out := map[string]bool{}
	for k := range cols {
		table, _, _ := strings.Cut(k, ".")
		out[table] = true
	}
	return out
}

// compareKeys fails the test for every key that is in one map only.
func compareKeys[V any](t *testing.T, what string, lite, pg map[string]V) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(lite)) {
		if _, ok := pg[k]; !ok {
			t.Errorf("%s %s is in SQLite, not in PostgreSQL", what, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(pg)) {
		if _, ok := lite[k]; !ok {
			t.Errorf("%s %s is in PostgreSQL, not in SQLite", what, k)
		}
	}
}

// compare is compareKeys, and fails the test for every key whose values
// differ.
func compare[V comparable](t *testing.T, what string, lite, pg map[string]V) {
	t.Helper()
	compareKeys(t, what, lite, pg)
	if len(lite) == 0 {
		t.Errorf("no %s read from SQLite", what)
	}
	for _, k := range slices.Sorted(maps.Keys(lite)) {
		if p, ok := pg[k]; ok && p != lite[k] {
			t.Errorf("%s %s: SQLite %+v, PostgreSQL %+v", what, k, lite[k], p)
		}
	}
}
