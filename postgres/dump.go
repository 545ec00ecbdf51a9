package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/dump"
	"github.com/jackc/pgx/v5"
)

// bookkeeping are the tables that are not data: the migration versions and
// the cache generation, which triggers maintain. They are SQLite's less
// sqlite_sequence, whose counterpart here are the identity sequences, which
// the dump carries as its ID counters.
var bookkeeping = map[string]bool{"schema_migrations": true, "generation": true}

// Export writes every data table to w in one REPEATABLE READ, READ ONLY
// transaction: every table is read from the same snapshot, so the dump is
// consistent while the server keeps running. It is not retried (w cannot be
// rewound), and needs no retry: a read-only transaction at this level
// never fails to serialize.
func (s *Store) Export(ctx context.Context, w *dump.Writer) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, s.pool, opts, func(tx pgx.Tx) error {
		t, err := newTxTables(ctx, tx)
		if err != nil {
			return err
		}
		return dump.Save(ctx, w, t)
	})
	if err != nil {
		return fmt.Errorf("postgres: export: %w", err)
	}
	return nil
}

// Import reads a dump into this database, which must be migrated and empty,
// in one transaction: on any error nothing is imported. It returns how many
// rows it inserted. It locks every data table against writers (see Count)
// until it commits. It is not retried on a serialization failure or a
// deadlock, since r cannot be rewound: it fails, and the import can be run
// again from the start.
func (s *Store) Import(ctx context.Context, r *dump.Reader) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := newTxTables(ctx, tx)
		if err != nil {
			return err
		}
		n, err = dump.Load(ctx, r, t)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: import: %w", err)
	}
	return n, nil
}

// txTables reads and writes the tables of one schema generically inside a
// transaction: the dump.Source of Export and the dump.Sink of Import.
type txTables struct {
	tx pgx.Tx
	// schema is the current schema, the first of the search path that
	// exists: where migrations create the tables and the store finds them.
	schema string
}

var (
	_ dump.Source = txTables{}
	_ dump.Sink   = txTables{}
)

func newTxTables(ctx context.Context, tx pgx.Tx) (txTables, error) {
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return txTables{}, fmt.Errorf("current schema: %w", err)
	}
	if schema == nil {
		return txTables{}, errors.New("current schema: no schema of the search path exists")
	}
	return txTables{tx: tx, schema: *schema}, nil
}

// ident is the quoted, schema-qualified name of table. Table names come
// from the catalog, or are checked against it before they reach SQL.
func (t txTables) ident(table string) string { return pgx.Identifier{t.schema, table}.Sanitize() }

// Tables lists the data tables of the schema from the catalog, with their
// columns in order and the tables their foreign keys reference.
func (t txTables) Tables(ctx context.Context) ([]dump.Table, map[string][]string, error) {
	names, err := t.strings(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, t.schema)
	if err != nil {
		return nil, nil, fmt.Errorf("tables: %w", err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return bookkeeping[n] })
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("tables: schema %s has no data tables: is it migrated?", t.schema)
	}
	cols, err := t.pairs(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, t.schema)
	if err != nil {
		return nil, nil, fmt.Errorf("tables: columns: %w", err)
	}
	// A foreign key to a table of another schema is no order constraint
	// here: that table is not in the dump.
	refs, err := t.pairs(ctx, `SELECT DISTINCT c.relname, r.relname
		FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid
		JOIN pg_class r ON r.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND n.nspname = $1 AND r.relnamespace = c.relnamespace
		ORDER BY 1, 2`, t.schema)
	if err != nil {
		return nil, nil, fmt.Errorf("tables: foreign keys: %w", err)
	}
	tables := make([]dump.Table, 0, len(names))
	out := map[string][]string{}
	for _, n := range names {
		if len(cols[n]) == 0 {
			return nil, nil, fmt.Errorf("tables: table %s has no columns", n)
		}
		tables = append(tables, dump.Table{Name: n, Columns: cols[n]})
		out[n] = refs[n]
	}
	return tables, out, nil
}

// strings runs a query of one text column and returns its values.
func (t txTables) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// pairs runs a query of two text columns, key and value, and returns the
// values of each key in the order of the rows.
func (t txTables) pairs(ctx context.Context, query string, args ...any) (map[string][]string, error) {
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	var k, v string
	_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		out[k] = append(out[k], v)
		return nil
	})
	return out, err
}

// Rows calls fn with each row of tb in primary key order (all columns for a
// table without a primary key), text compared byte by byte (COLLATE "C"),
// so that the order depends neither on the database's collation nor on
// where rows happen to lie. Values are nil, int64 (BIGINT, and INTEGER and
// SMALLINT widened), string (TEXT) or []byte (BYTEA); a column of another
// type is an error naming it.
func (t txTables) Rows(ctx context.Context, tb dump.Table, fn func([]any) error) error {
	order, err := t.orderBy(ctx, tb.Name)
	if err != nil {
		return fmt.Errorf("order: %w", err)
	}
	cols := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	rows, err := t.tx.Query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+t.ident(tb.Name)+" ORDER BY "+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		for i, v := range vals {
			if vals[i], err = dumpValue(v); err != nil {
				oid := rows.FieldDescriptions()[i].DataTypeOID
				name := fmt.Sprintf("OID %d", oid)
				if typ, ok := t.tx.Conn().TypeMap().TypeForOID(oid); ok {
					name = typ.Name
				}
				return fmt.Errorf("column %s has type %s, which a dump does not carry (BIGINT, TEXT and BYTEA only)", tb.Columns[i], name)
			}
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// dumpValue is v as a dump carries it, or an error for a type it does not.
func dumpValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, int64, string, []byte:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	}
	return nil, errors.New("unsupported type")
}

// orderBy returns the ORDER BY list of table: its primary key columns, or
// all its columns when it has none.
func (t txTables) orderBy(ctx context.Context, table string) (string, error) {
	const pk = `SELECT a.attname, a.attcollation <> 0
		FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indrelid = $1::regclass AND i.indisprimary
		ORDER BY array_position(i.indkey::int2[], a.attnum)`
	const all = `SELECT attname, attcollation <> 0 FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
		ORDER BY attnum`
	var keys []string
	for _, q := range []string{pk, all} {
		rows, err := t.tx.Query(ctx, q, t.ident(table))
		if err != nil {
			return "", err
		}
		var name string
		var collatable bool
		_, err = pgx.ForEachRow(rows, []any{&name, &collatable}, func() error {
			k := pgx.Identifier{name}.Sanitize()
			if collatable {
				k += ` COLLATE "C"`
			}
			keys = append(keys, k)
			return nil
		})
		if err != nil {
			return "", err
		}
		if len(keys) > 0 {
			return strings.Join(keys, ", "), nil
		}
	}
	return "", fmt.Errorf("table %s has no columns", table)
}

// idSequences returns the sequence (its qualified, quoted name) of the id
// column of each data table whose id is an identity or serial column.
func (t txTables) idSequences(ctx context.Context) (map[string]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT c.table_name, pg_get_serial_sequence(format('%I.%I', c.table_schema, c.table_name), 'id')
		FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = $1 AND c.column_name = 'id' AND tb.table_type = 'BASE TABLE'`, t.schema)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var table string
	var seq *string
	_, err = pgx.ForEachRow(rows, []any{&table, &seq}, func() error {
		if seq != nil && !bookkeeping[table] {
			out[table] = *seq
		}
		return nil
	})
	return out, err
}

// Sequences returns, for each data table with an id sequence that has given
// an ID, the last ID it gave: the highest ever given, which exceeds the
// highest present after deletes. This is what SQLite's sqlite_sequence
// holds. Sequences are not transactional: the value is the current one,
// which may be above the snapshot's IDs, never below.
func (t txTables) Sequences(ctx context.Context) (map[string]int64, error) {
	seqs, err := t.idSequences(ctx)
	if err != nil {
		return nil, fmt.Errorf("sequences: %w", err)
	}
	out := map[string]int64{}
	for _, table := range slices.Sorted(maps.Keys(seqs)) {
		var last int64
		var called bool
		// The name comes from pg_get_serial_sequence, quoted by the server.
		if err := t.tx.QueryRow(ctx, `SELECT last_value, is_called FROM `+seqs[table]).Scan(&last, &called); err != nil {
			return nil, fmt.Errorf("sequences: table %s: %w", table, err)
		}
		if called {
			out[table] = last
		}
	}
	return out, nil
}

// Count returns how many rows table has. It first locks the table in
// EXCLUSIVE mode until the import commits, so that it stays as empty as it
// was counted: no other writer (a second import, a server already running
// on the database) can add a row the import would then mix with its own.
// Readers are not blocked.
func (t txTables) Count(ctx context.Context, table string) (int64, error) {
	if _, err := t.tx.Exec(ctx, "LOCK TABLE "+t.ident(table)+" IN EXCLUSIVE MODE"); err != nil {
		return 0, fmt.Errorf("lock table %s: %w", table, err)
	}
	var n int64
	if err := t.tx.QueryRow(ctx, "SELECT count(*) FROM "+t.ident(table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count table %s: %w", table, err)
	}
	return n, nil
}

// Insert copies rows into table with COPY. The id columns are GENERATED BY
// DEFAULT, so they take the dump's IDs; SetSequences then moves their
// sequences past them. A constraint violation is mapped as everywhere in
// the store (ErrAlreadyExists, ErrNotFound), with no key value in its text.
func (t txTables) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{t.schema, table}, columns, pgx.CopyFromRows(rows)); err != nil {
		return mapErr(err)
	}
	return nil
}

// SetSequences sets the id sequence of every data table that has one so
// that the next ID is above both the dump's counter for the table (absent:
// 0) and the highest ID present: an import never gives an ID again, nor
// one it imported. A sequence that gave no ID, of a table with no rows,
// stays so. Counters of tables without an id sequence are ignored, as
// SQLite ignores those of tables it does not have.
func (t txTables) SetSequences(ctx context.Context, seqs map[string]int64) error {
	ids, err := t.idSequences(ctx)
	if err != nil {
		return err
	}
	for _, table := range slices.Sorted(maps.Keys(ids)) {
		_, err := t.tx.Exec(ctx, `SELECT setval($1::regclass, GREATEST($2::bigint, m, 1), $2::bigint > 0 OR m > 0)
			FROM (SELECT COALESCE(max(id), 0) AS m FROM `+t.ident(table)+`) AS present`, ids[table], seqs[table])
		if err != nil {
			return fmt.Errorf("table %s: %w", table, err)
		}
	}
	return nil
}
