package sqlite_test

import (
	"bytes"
	"database/sql"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/dump"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/store/storetest"
)

// export writes s as a dump.
func export(t *testing.T, s *sqlite.Store) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := dump.NewWriter(&b, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Export(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func importDump(t *testing.T, s *sqlite.Store, b []byte) (int64, error) {
	t.Helper()
	r, err := dump.NewReader(bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	return s.Import(t.Context(), r)
}

// tablesIn returns the tables of a dump and their row counts.
func tablesIn(t *testing.T, b []byte) map[string]int {
	t.Helper()
	r, err := dump.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	cur := ""
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		switch {
		case rec.Table != nil:
			cur = rec.Table.Name
			out[cur] = 0
		case rec.Row != nil:
			out[cur]++
		}
	}
}

// TestExportImportRoundTrip: a dump of a database with a record of every
// kind imports into a fresh database that then holds the same records, gives
// no deleted ID again, and exports to the same dump.
func TestExportImportRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "src.db")
	src := open(t, path)
	p := storetest.Populate(t, t.Context(), src)
	b := export(t, src)

	// Every data table of the schema is in the dump, with rows: a table
	// added later without a row in Populate fails here.
	tables := tablesIn(t, b)
	for _, name := range catalogTables(t, path) {
		if n, ok := tables[name]; !ok || n == 0 {
			t.Errorf("table %s: %d rows in the dump (present: %v); Populate must write a row of every table", name, n, ok)
		}
	}
	for _, bad := range []string{"schema_migrations", "generation", "sqlite_sequence"} {
		if _, ok := tables[bad]; ok {
			t.Errorf("bookkeeping table %s is in the dump", bad)
		}
	}

	dst := open(t, filepath.Join(t.TempDir(), "dst.db"))
	n, err := importDump(t, dst, b)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("imported no rows")
	}
	if again := export(t, dst); !bytes.Equal(again, b) {
		t.Errorf("the imported database exports differently:\n%s\nwant\n%s", again, b)
	}
	p.Check(t, t.Context(), dst)
}

// catalogTables lists the tables of the database file at path from its
// catalog, but SQLite's own.
func catalogTables(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
		AND name NOT IN ('schema_migrations', 'generation')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil || len(out) < 10 {
		t.Fatalf("catalog: %v, %d tables", err, len(out))
	}
	return out
}

// TestImportRefuses: a non-empty destination, a truncated or damaged dump,
// a dump lacking a table or having an unknown one: each is refused with
// nothing imported.
func TestImportRefuses(t *testing.T) {
	src := open(t, sqlite.Memory)
	storetest.Populate(t, t.Context(), src)
	good := export(t, src)
	lines := strings.Split(strings.TrimSuffix(string(good), "\n"), "\n")
	join := func(ls []string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }
	// without rewrites the dump without one table, with a trailer that
	// counts what is left.
	without := func(table string) []byte {
		skip := false
		return rewrite(t, good, func(tb *dump.Table, row []any) bool {
			if tb != nil {
				skip = tb.Name == table
			}
			return !skip
		})
	}
	renamed := strings.Replace(string(good), `{"table":"events"`, `{"table":"evenements"`, 1)
	tests := []struct {
		name string
		dump []byte
		want string
	}{
		{"truncated", join(lines[:len(lines)/2]), "truncated"},
		{"trailer miscounts", join(append(slices.Clone(lines[:len(lines)-1]), `{"end":true,"tables":1,"rows":1}`)), "damaged"},
		{"a row removed", join(append(slices.Clone(lines[:3]), lines[4:]...)), ""},
		{"a table missing", without("sessions"), "lacks tables [sessions]"},
		{"an unknown table", []byte(renamed), "evenements"},
		{"not a dump", []byte("hello\n"), "not a gatehouse dump"},
		{"text for an expiry", retyped(t, good, "tokens", "expires_at", "never"), "type INTEGER"},
		{"bytes for a name", retyped(t, good, "apps", "name", []byte("x")), "type TEXT"},
		{"an ID counter at the end of int64", []byte(strings.Replace(string(good), `{"sequences":{`, `{"sequences":{"zzz":9223372036854775807,`, 1)), "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := open(t, sqlite.Memory)
			_, err := importDump(t, dst, tt.dump)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("import: %v, want an error saying %q", err, tt.want)
			}
			if apps, err := dst.ListApps(t.Context()); err != nil || len(apps) != 0 {
				t.Errorf("after a refused import: %d apps (%v), want none", len(apps), err)
			}
		})
	}
	t.Run("non-empty destination", func(t *testing.T) {
		dst := open(t, sqlite.Memory)
		storetest.Populate(t, t.Context(), dst)
		if _, err := importDump(t, dst, good); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("import into a populated database: %v", err)
		}
	})
}

// retyped rewrites a dump with every value of one column replaced by v.
func retyped(t *testing.T, b []byte, table, column string, v any) []byte {
	t.Helper()
	col := -1
	return rewrite(t, b, func(tb *dump.Table, row []any) bool {
		if tb != nil {
			col = -1
			if tb.Name == table {
				col = slices.Index(tb.Columns, column)
			}
		} else if col >= 0 {
			row[col] = v
		}
		return true
	})
}

// rewrite copies a dump through edit, which sees each table line (tb set)
// and each row (which it may change) and says whether to keep it; the
// copy's trailer counts what was kept.
func rewrite(t *testing.T, b []byte, edit func(tb *dump.Table, row []any) bool) []byte {
	t.Helper()
	r, err := dump.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := dump.NewWriter(&out, r.Source)
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		switch {
		case rec.Table != nil:
			if edit(rec.Table, nil) {
				err = w.Table(*rec.Table)
			}
		case rec.Row != nil:
			if edit(nil, rec.Row) {
				err = w.Row(rec.Row)
			}
		case rec.Sequences != nil:
			err = w.Sequences(rec.Sequences)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
