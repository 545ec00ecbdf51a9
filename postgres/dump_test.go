package postgres_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/dump"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/store/storetest"
)

// exporter and importer are what both backends offer 'gatehouse export'
// and 'gatehouse import'.
type exporter interface {
	Export(ctx context.Context, w *dump.Writer) error
}

type importer interface {
	Import(ctx context.Context, r *dump.Reader) (int64, error)
}

// exportDump writes s as a dump written by source.
func exportDump(t *testing.T, s exporter, source string) []byte {
	t.Helper()
	b, err := tryExport(t, s, source)
	must(t, err)
	return b
}

func tryExport(t *testing.T, s exporter, source string) ([]byte, error) {
	t.Helper()
	var b bytes.Buffer
	w, err := dump.NewWriter(&b, source)
	must(t, err)
	err = s.Export(t.Context(), w)
	return b.Bytes(), err
}

func importDump(t *testing.T, s importer, b []byte) (int64, error) {
	t.Helper()
	r, err := dump.NewReader(bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	return s.Import(t.Context(), r)
}

// each calls fn with every table of the dump b and its rows, in order, and
// returns the dump's ID counters.
func each(t *testing.T, b []byte, fn func(tb dump.Table, rows [][]any)) map[string]int64 {
	t.Helper()
	r, err := dump.NewReader(bytes.NewReader(b))
	must(t, err)
	var cur *dump.Table
	var rows [][]any
	for {
		rec, err := r.Next()
		if err == io.EOF {
			t.Fatal("a dump without sequences")
		}
		must(t, err)
		if rec.Row != nil {
			rows = append(rows, rec.Row)
			continue
		}
		if cur != nil {
			fn(*cur, rows)
		}
		cur, rows = rec.Table, nil
		if rec.Sequences != nil {
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("after the sequences: %v", err)
			}
			return rec.Sequences
		}
	}
}

// tablesIn returns the tables of a dump, in order, and their row counts.
func tablesIn(t *testing.T, b []byte) ([]string, map[string]int) {
	t.Helper()
	var order []string
	counts := map[string]int{}
	each(t, b, func(tb dump.Table, rows [][]any) {
		order = append(order, tb.Name)
		counts[tb.Name] = len(rows)
	})
	return order, counts
}

// contents returns what a dump holds whatever wrote it: each table's rows
// as column=value lists in a sorted order, and the ID counters. SQLite
// writes rows in rowid order, PostgreSQL in primary key order, and their
// columns may come in different orders.
func contents(t *testing.T, b []byte) (map[string][]string, map[string]int64) {
	t.Helper()
	out := map[string][]string{}
	seqs := each(t, b, func(tb dump.Table, rows [][]any) {
		out[tb.Name] = []string{}
		for _, row := range rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = fmt.Sprintf("%s=%#v", tb.Columns[i], v)
			}
			slices.Sort(cells)
			out[tb.Name] = append(out[tb.Name], strings.Join(cells, " "))
		}
		slices.Sort(out[tb.Name])
	})
	return out, seqs
}

// sameContents fails t unless the dumps a and b hold the same rows and
// counters.
func sameContents(t *testing.T, a, b []byte) {
	t.Helper()
	rowsA, seqsA := contents(t, a)
	rowsB, seqsB := contents(t, b)
	for _, name := range slices.Sorted(maps.Keys(rowsA)) {
		if !slices.Equal(rowsA[name], rowsB[name]) {
			t.Errorf("table %s:\n%s\nwant\n%s", name, strings.Join(rowsB[name], "\n"), strings.Join(rowsA[name], "\n"))
		}
	}
	for name := range rowsB {
		if _, ok := rowsA[name]; !ok {
			t.Errorf("table %s was not in the first dump", name)
		}
	}
	if !maps.Equal(seqsA, seqsB) {
		t.Errorf("sequences %v, want %v", seqsB, seqsA)
	}
}

// openSQLite opens and migrates a SQLite store in a file of its own.
func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"))
	must(t, err)
	t.Cleanup(func() { must(t, s.Close()) })
	must(t, s.Migrate(t.Context()))
	return s
}

// pgDataTables lists the data tables of the store's schema from the
// catalog: every table but the bookkeeping ones.
func pgDataTables(t *testing.T, s *postgres.Store) []string {
	t.Helper()
	var out []string
	for _, row := range pgRows(t, s, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
		AND table_name NOT IN ('schema_migrations', 'generation') ORDER BY table_name`) {
		out = append(out, row[0])
	}
	if len(out) < 10 {
		t.Fatalf("catalog: %d data tables: %v", len(out), out)
	}
	return out
}

// TestDumpRoundTrip: a dump of a database with a record of every kind
// holds a row of every data table, imports into a fresh database that then
// holds the same records and gives no old ID again, and exports to the
// same bytes.
func TestDumpRoundTrip(t *testing.T) {
	src := pgtest.Open(t)
	p := storetest.Populate(t, t.Context(), src)
	b := exportDump(t, src, "postgres")

	// A table added later without a row in Populate fails here.
	_, counts := tablesIn(t, b)
	for _, name := range pgDataTables(t, src) {
		if n, ok := counts[name]; !ok || n == 0 {
			t.Errorf("table %s: %d rows in the dump (present: %v); Populate must write a row of every table", name, n, ok)
		}
	}
	for _, bad := range []string{"schema_migrations", "generation"} {
		if _, ok := counts[bad]; ok {
			t.Errorf("bookkeeping table %s is in the dump", bad)
		}
	}

	dst := pgtest.Open(t)
	n, err := importDump(t, dst, b)
	must(t, err)
	if n == 0 {
		t.Fatal("imported no rows")
	}
	if again := exportDump(t, dst, "postgres"); !bytes.Equal(again, b) {
		t.Errorf("the imported database exports differently:\n%s\nwant\n%s", again, b)
	}
	p.Check(t, t.Context(), dst)
}

// TestDumpSQLiteToPostgres: a SQLite deployment moves to PostgreSQL with
// every row and counter, and works there.
func TestDumpSQLiteToPostgres(t *testing.T) {
	src := openSQLite(t)
	p := storetest.Populate(t, t.Context(), src)
	b := exportDump(t, src, "sqlite")
	dst := pgtest.Open(t)
	if _, err := importDump(t, dst, b); err != nil {
		t.Fatal(err)
	}
	sameContents(t, b, exportDump(t, dst, "postgres"))
	p.Check(t, t.Context(), dst)
}

// TestDumpPostgresToSQLite: and back.
func TestDumpPostgresToSQLite(t *testing.T) {
	src := pgtest.Open(t)
	p := storetest.Populate(t, t.Context(), src)
	b := exportDump(t, src, "postgres")
	dst := openSQLite(t)
	if _, err := importDump(t, dst, b); err != nil {
		t.Fatal(err)
	}
	sameContents(t, b, exportDump(t, dst, "sqlite"))
	p.Check(t, t.Context(), dst)
}

// edit says how rewrite changes a dump.
type edit struct {
	drop string                                 // a table left out
	row  func(tb dump.Table, row []any) [][]any // the rows written for row
}

// rewrite writes the dump b again, changed by e, with a trailer that counts
// what it holds.
func rewrite(t *testing.T, b []byte, e edit) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := dump.NewWriter(&out, "postgres")
	must(t, err)
	seqs := each(t, b, func(tb dump.Table, rows [][]any) {
		if tb.Name == e.drop {
			return
		}
		must(t, w.Table(tb))
		for _, row := range rows {
			written := [][]any{row}
			if e.row != nil {
				written = e.row(tb, row)
			}
			for _, r := range written {
				must(t, w.Row(r))
			}
		}
	})
	must(t, w.Sequences(seqs))
	must(t, w.Close())
	return out.Bytes()
}

// colIndex returns the index of the column name of tb.
func colIndex(t *testing.T, tb dump.Table, name string) int {
	t.Helper()
	i := slices.Index(tb.Columns, name)
	if i < 0 {
		t.Fatalf("table %s has no column %s", tb.Name, name)
	}
	return i
}

// TestImportRefuses: a non-empty destination, a truncated or damaged dump,
// a dump lacking a table or having an unknown one, a row that breaks a
// constraint: each is refused, with nothing imported.
func TestImportRefuses(t *testing.T) {
	src := pgtest.Open(t)
	storetest.Populate(t, t.Context(), src)
	good := exportDump(t, src, "postgres")
	lines := strings.Split(strings.TrimSuffix(string(good), "\n"), "\n")
	join := func(ls ...string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }
	var tokenDigest []byte // of the first token of the dump
	each(t, good, func(tb dump.Table, rows [][]any) {
		if tb.Name == "tokens" {
			tokenDigest = rows[0][colIndex(t, tb, "digest")].([]byte)
		}
	})
	tests := []struct {
		name   string
		dump   []byte
		want   string // in the error's text
		is     error  // in the error's chain, if not nil
		secret []byte // a key value that must not be in the error's text
	}{
		{name: "truncated", dump: join(lines[:len(lines)-3]...), want: "truncated"},
		{name: "trailer miscounts", dump: join(append(slices.Clone(lines[:len(lines)-1]), `{"end":true,"tables":1,"rows":1}`)...), want: "damaged"},
		{name: "a table missing", dump: rewrite(t, good, edit{drop: "sessions"}), want: "lacks tables [sessions]"},
		{name: "an unknown table", dump: []byte(strings.Replace(string(good), `{"table":"events"`, `{"table":"evenements"`, 1)), want: "evenements"},
		{name: "a token twice", dump: rewrite(t, good, edit{row: func(tb dump.Table, row []any) [][]any {
			if tb.Name == "tokens" && bytes.Equal(row[colIndex(t, tb, "digest")].([]byte), tokenDigest) {
				return [][]any{row, row}
			}
			return [][]any{row}
		}}), want: "tokens", is: gatehouse.ErrAlreadyExists, secret: tokenDigest},
		{name: "a token of no app", dump: rewrite(t, good, edit{row: func(tb dump.Table, row []any) [][]any {
			if tb.Name == "tokens" {
				row = slices.Clone(row)
				row[colIndex(t, tb, "app_id")] = int64(999)
			}
			return [][]any{row}
		}}), want: "tokens", is: gatehouse.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := pgtest.Open(t)
			_, err := importDump(t, dst, tt.dump)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("import: %v, want an error saying %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("import: %v, want %v in the chain", err, tt.is)
			}
			if tt.secret != nil && (strings.Contains(err.Error(), hex.EncodeToString(tt.secret)) || strings.Contains(err.Error(), "Key (")) {
				t.Errorf("import: the error shows a key value: %v", err)
			}
			if apps, err := dst.ListApps(t.Context()); err != nil || len(apps) != 0 {
				t.Errorf("after a refused import: %d apps (%v), want none", len(apps), err)
			}
			_, counts := tablesIn(t, exportDump(t, dst, "postgres"))
			for name, n := range counts {
				if n != 0 {
					t.Errorf("after a refused import: table %s has %d rows", name, n)
				}
			}
		})
	}
	t.Run("non-empty destination", func(t *testing.T) {
		dst := pgtest.Open(t)
		storetest.Populate(t, t.Context(), dst)
		before := exportDump(t, dst, "postgres")
		if _, err := importDump(t, dst, good); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("import into a populated database: %v", err)
		}
		if after := exportDump(t, dst, "postgres"); !bytes.Equal(after, before) {
			t.Errorf("a refused import changed the database:\n%s\nwas\n%s", after, before)
		}
	})
}

// TestDumpFollowsCatalog: a table a later migration adds is exported and
// imported with no change to the code, after the tables it references,
// rows in key order (all columns for a table without a primary key, text
// byte by byte), and its sequence's counter above its highest ID. A column
// of a type the dump does not carry is refused by name.
func TestDumpFollowsCatalog(t *testing.T) {
	const ddl = `CREATE TABLE aa_notes (
			id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
			user_id BIGINT NOT NULL REFERENCES users (id),
			body    TEXT NOT NULL
		);
		CREATE TABLE aa_tags (note_id BIGINT NOT NULL REFERENCES aa_notes (id), tag TEXT NOT NULL, n INTEGER);`
	open := func(t *testing.T) *postgres.Store {
		s := pgtest.Open(t)
		_, err := s.Pool().Exec(t.Context(), ddl)
		must(t, err)
		return s
	}
	src := open(t)
	p := storetest.Populate(t, t.Context(), src)
	for _, q := range []string{
		`INSERT INTO aa_notes (user_id, body) SELECT id, 'note ' || g FROM users, generate_series(1, 3) g`,
		`DELETE FROM aa_notes WHERE id = 3`,
		`INSERT INTO aa_tags (note_id, tag, n) VALUES (2, 'b', 1), (1, 'b', NULL), (1, 'a', 2), (1, 'B', 3)`,
	} {
		_, err := src.Pool().Exec(t.Context(), q)
		must(t, err)
	}
	b := exportDump(t, src, "postgres")

	order, _ := tablesIn(t, b)
	if i, j := slices.Index(order, "users"), slices.Index(order, "aa_notes"); i < 0 || j < i {
		t.Errorf("tables in the order %v: aa_notes must come after users, which it references", order)
	}
	var tags []string
	seqs := each(t, b, func(tb dump.Table, rows [][]any) {
		if tb.Name == "aa_tags" {
			for _, r := range rows {
				tags = append(tags, fmt.Sprintf("%v %v %v", r...))
			}
		}
	})
	if want := []string{"1 B 3", "1 a 2", "1 b <nil>", "2 b 1"}; !slices.Equal(tags, want) {
		t.Errorf("aa_tags rows %q, want %q", tags, want)
	}
	if seqs["aa_notes"] != 3 {
		t.Errorf("the aa_notes counter is %d, want 3 (the deleted note's ID)", seqs["aa_notes"])
	}

	dst := open(t)
	_, err := importDump(t, dst, b)
	must(t, err)
	if again := exportDump(t, dst, "postgres"); !bytes.Equal(again, b) {
		t.Errorf("the imported database exports differently:\n%s\nwant\n%s", again, b)
	}
	var id int64
	must(t, dst.Pool().QueryRow(t.Context(), `INSERT INTO aa_notes (user_id, body) VALUES ($1, 'new') RETURNING id`, p.User.ID).Scan(&id))
	if id != 4 {
		t.Errorf("a note inserted after the import has ID %d, want 4", id)
	}

	_, err = src.Pool().Exec(t.Context(), `ALTER TABLE aa_tags ADD COLUMN flagged BOOLEAN DEFAULT true`)
	must(t, err)
	if _, err := tryExport(t, src, "postgres"); err == nil || !strings.Contains(err.Error(), "aa_tags") ||
		!strings.Contains(err.Error(), "flagged") || !strings.Contains(err.Error(), "bool") {
		t.Errorf("export of a BOOLEAN column: %v, want an error naming the table, the column and its type", err)
	}
}

// TestImportSequencesWithoutCounters: a dump that carries no counter for a
// table still leaves its sequence above the IDs it imported.
func TestImportSequencesWithoutCounters(t *testing.T) {
	src := pgtest.Open(t)
	p := storetest.Populate(t, t.Context(), src)
	b := exportDump(t, src, "postgres")
	r, err := dump.NewReader(bytes.NewReader(b))
	must(t, err)
	var out bytes.Buffer
	w, err := dump.NewWriter(&out, "postgres")
	must(t, err)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		switch {
		case rec.Table != nil:
			must(t, w.Table(*rec.Table))
		case rec.Row != nil:
			must(t, w.Row(rec.Row))
		case rec.Sequences != nil:
			must(t, w.Sequences(nil))
		}
	}
	must(t, w.Close())

	dst := pgtest.Open(t)
	_, err = importDump(t, dst, out.Bytes())
	must(t, err)
	a, err := dst.CreateApp(t.Context(), gatehouse.App{ClientID: "after", Name: "After", Type: gatehouse.Public})
	must(t, err)
	if a.ID <= p.App.ID {
		t.Errorf("an app created after the import got ID %d; %d was imported", a.ID, p.App.ID)
	}
	e, err := dst.RecordEvent(t.Context(), gatehouse.Event{Kind: "x", At: t0, Detail: "after"})
	must(t, err)
	if e.ID <= p.Events[1].ID {
		t.Errorf("an event recorded after the import got ID %d; %d was imported", e.ID, p.Events[1].ID)
	}
}

// TestExportIsASnapshot: while grants and their tokens are written, every
// export holds the grant of each of its tokens, since every table is read
// from one snapshot (statement by statement, a token and its grant created
// between the read of grants and that of tokens would dangle).
func TestExportIsASnapshot(t *testing.T) {
	s := openWide(t)
	p := storetest.Populate(t, t.Context(), s)
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				g, err := s.CreateGrant(ctx, gatehouse.Grant{UserID: p.User.ID, AppID: p.App.ID, Scopes: []string{"read"}, CreatedAt: t0})
				if err == nil {
					err = s.CreateToken(ctx, token(fmt.Sprintf("snapshot %d %d", w, i), gatehouse.AccessToken, g, nil))
				}
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("writer: %v", err)
					}
					return
				}
			}
		})
	}
	defer func() { stop(); wg.Wait() }()
	for range 10 {
		b := exportDump(t, s, "postgres")
		grants := map[int64]bool{}
		var tokens, dangling int
		each(t, b, func(tb dump.Table, rows [][]any) {
			switch tb.Name {
			case "grants":
				for _, r := range rows {
					grants[r[colIndex(t, tb, "id")].(int64)] = true
				}
			case "tokens":
				for _, r := range rows {
					tokens++
					if g, ok := r[colIndex(t, tb, "grant_id")].(int64); ok && !grants[g] {
						dangling++
					}
				}
			}
		})
		if dangling > 0 {
			t.Fatalf("%d of %d tokens in the dump have no grant in it", dangling, tokens)
		}
	}
}
