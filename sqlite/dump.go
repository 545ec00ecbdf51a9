package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/dump"
)

// bookkeeping are the tables that are not data: the migration versions, the
// cache generation (which triggers maintain) and SQLite's own.
var bookkeeping = map[string]bool{"schema_migrations": true, "generation": true, "sqlite_sequence": true}

// Export writes every data table to w in one read transaction, so that the
// dump is a consistent snapshot while the server keeps running.
func (s *Store) Export(ctx context.Context, w *dump.Writer) error {
	tx, err := s.read.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: export: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a read transaction; nothing to keep
	if err := dump.Save(ctx, w, txTables{tx}); err != nil {
		return fmt.Errorf("sqlite: export: %w", err)
	}
	return nil
}

// Import reads a dump into this database, which must be migrated and empty,
// in one transaction: on any error nothing is imported. It returns how many
// rows it inserted.
func (s *Store) Import(ctx context.Context, r *dump.Reader) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = dump.Load(ctx, r, txTables{tx})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: import: %w", err)
	}
	return n, nil
}

// txTables reads and writes tables generically inside a transaction.
type txTables struct{ tx *sql.Tx }

// Tables lists the data tables from the catalog, with their columns and
// the tables their foreign keys reference.
func (t txTables) Tables(ctx context.Context) ([]dump.Table, map[string][]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if !bookkeeping[n] {
			names = append(names, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows.Close()
	var tables []dump.Table
	refs := map[string][]string{}
	for _, n := range names {
		cols, err := t.strings(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, n)
		if err != nil {
			return nil, nil, err
		}
		ref, err := t.strings(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, nil, err
		}
		tables = append(tables, dump.Table{Name: n, Columns: cols})
		refs[n] = ref
	}
	return tables, refs, nil
}

func (t txTables) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// quote quotes an identifier. Names come from the catalog, or are checked
// against it before they reach SQL.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (t txTables) Rows(ctx context.Context, tb dump.Table, fn func([]any) error) error {
	cols := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		cols[i] = quote(c)
	}
	// rowid order is insertion order for rowid tables; WITHOUT ROWID tables
	// have no rowid and come in primary key order without an ORDER BY.
	order := ""
	if ok, err := t.hasRowid(ctx, tb.Name); err != nil {
		return err
	} else if ok {
		order = " ORDER BY rowid"
	}
	rows, err := t.tx.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+quote(tb.Name)+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// hasRowid reports whether a table is a rowid table.
func (t txTables) hasRowid(ctx context.Context, table string) (bool, error) {
	var wr int
	err := t.tx.QueryRowContext(ctx, `SELECT wr FROM pragma_table_list WHERE name = ? AND schema = 'main'`, table).Scan(&wr)
	if err != nil {
		return false, err
	}
	return wr == 0, nil
}

func (t txTables) Sequences(ctx context.Context) (map[string]int64, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT name, seq FROM sqlite_sequence`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var n string
		var v int64
		if err := rows.Scan(&n, &v); err != nil {
			return nil, err
		}
		out[n] = v
	}
	return out, rows.Err()
}

func (t txTables) Count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(table)).Scan(&n)
	return n, err
}

func (t txTables) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	// SQLite stores any value in any column (the tables are not STRICT):
	// check each value against the column's declared type, so that a
	// damaged or crafted dump cannot store, say, text as an expiry.
	types, err := t.columnTypes(ctx, table)
	if err != nil {
		return err
	}
	for _, r := range rows {
		for i, v := range r {
			if !fits(types[columns[i]], v) {
				return fmt.Errorf("column %q: a %T value for a column of type %s", columns[i], v, types[columns[i]])
			}
		}
	}
	cols := make([]string, len(columns))
	marks := make([]string, len(columns))
	for i, c := range columns {
		cols[i], marks[i] = quote(c), "?"
	}
	st, err := t.tx.PrepareContext(ctx, "INSERT INTO "+quote(table)+" ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(marks, ", ")+")")
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range rows {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// columnTypes returns the declared type of each column of table.
func (t txTables) columnTypes(ctx context.Context, table string) (map[string]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT name, upper(type) FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, typ string
		if err := rows.Scan(&n, &typ); err != nil {
			return nil, err
		}
		out[n] = typ
	}
	return out, rows.Err()
}

// fits reports whether a dump value may go into a column of the declared
// type: NULL anywhere (NOT NULL is the schema's to enforce), integers into
// INTEGER, strings into TEXT, bytes into BLOB.
func fits(typ string, v any) bool {
	switch v.(type) {
	case nil:
		return true
	case int64:
		return typ == "INTEGER"
	case string:
		return typ == "TEXT"
	case []byte:
		return typ == "BLOB"
	}
	return false
}

// SetSequences raises sqlite_sequence, which the inserts have already
// raised to the highest ID present, to the dump's counters.
func (t txTables) SetSequences(ctx context.Context, seqs map[string]int64) error {
	for name, v := range seqs {
		res, err := t.tx.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?`, v, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if _, err := t.tx.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)`, name, v, name); err != nil {
				return err
			}
		}
	}
	return nil
}
