package dump

import (
	"context"
	"fmt"
	"io"
	"slices"
)

// Source is a database as Save reads it, inside one read transaction of
// the backend's, so that the dump is a consistent snapshot.
type Source interface {
	// Tables returns the data tables (not the backend's bookkeeping, such as
	// its migration versions or its cache generation) with their columns,
	// and what each references.
	Tables(ctx context.Context) ([]Table, map[string][]string, error)
	// Rows calls fn with each row of t, in primary key order; the values
	// are nil, int64, string or []byte.
	Rows(ctx context.Context, t Table, fn func([]any) error) error
	// Sequences returns the ID counters of the tables that have them.
	Sequences(ctx context.Context) (map[string]int64, error)
}

// Save writes every table of src to w, referenced tables first.
func Save(ctx context.Context, w *Writer, src Source) error {
	tables, refs, err := src.Tables(ctx)
	if err != nil {
		return err
	}
	byName := map[string]Table{}
	for _, t := range tables {
		byName[t.Name] = t
		if _, ok := refs[t.Name]; !ok {
			refs[t.Name] = nil
		}
	}
	order, err := Order(refs)
	if err != nil {
		return err
	}
	for _, name := range order {
		t, ok := byName[name]
		if !ok {
			continue
		}
		if err := w.Table(t); err != nil {
			return err
		}
		if err := src.Rows(ctx, t, w.Row); err != nil {
			return fmt.Errorf("dump: table %s: %w", t.Name, err)
		}
	}
	seqs, err := src.Sequences(ctx)
	if err != nil {
		return err
	}
	if err := w.Sequences(seqs); err != nil {
		return err
	}
	return w.Close()
}

// Sink is a database as Load writes it, inside one write transaction of
// the backend's: if Load fails, the backend rolls everything back.
type Sink interface {
	// Tables returns the data tables with their columns.
	Tables(ctx context.Context) ([]Table, map[string][]string, error)
	// Count returns how many rows table has.
	Count(ctx context.Context, table string) (int64, error)
	// Insert inserts rows into table, with values in the order of columns.
	Insert(ctx context.Context, table string, columns []string, rows [][]any) error
	// SetSequences makes the ID counters at least the given values (and at
	// least the highest ID present), so that no ID is given twice.
	SetSequences(ctx context.Context, seqs map[string]int64) error
}

// batch and batchBytes bound what Load holds before it hands rows to
// Insert: at most batch rows, and about batchBytes of values.
const (
	batch      = 1000
	batchBytes = 8 << 20
)

// maxSequence bounds an ID counter: a crafted dump must not push a counter
// to where the next ID overflows.
const maxSequence = 1 << 53

// rowSize estimates the memory of a row's values.
func rowSize(row []any) int {
	n := 0
	for _, v := range row {
		switch v := v.(type) {
		case string:
			n += len(v)
		case []byte:
			n += len(v)
		}
		n += 16
	}
	return n
}

// Load reads a dump into dst, which must be empty: every table of the
// destination must be in the dump with the same columns, and every table of
// the dump in the destination. It returns how many rows it inserted.
func Load(ctx context.Context, r *Reader, dst Sink) (int64, error) {
	tables, _, err := dst.Tables(ctx)
	if err != nil {
		return 0, err
	}
	want := map[string]Table{}
	for _, t := range tables {
		want[t.Name] = t
		n, err := dst.Count(ctx, t.Name)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, fmt.Errorf("import: the destination is not empty (table %s has %d rows): import into a new, migrated database", t.Name, n)
		}
	}
	var (
		cur   *Table
		rows  [][]any
		size  int
		total int64
		seen  = map[string]bool{}
	)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if err := dst.Insert(ctx, cur.Name, cur.Columns, rows); err != nil {
			return fmt.Errorf("import: table %s: %w", cur.Name, err)
		}
		total += int64(len(rows))
		rows, size = rows[:0], 0
		return nil
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return total, err
		}
		switch {
		case rec.Table != nil:
			if err := flush(); err != nil {
				return total, err
			}
			t := *rec.Table
			w, ok := want[t.Name]
			if !ok {
				return total, fmt.Errorf("import: the dump has table %q, which this database does not: was it written by a newer gatehouse?", t.Name)
			}
			if seen[t.Name] {
				return total, fmt.Errorf("import: table %q appears twice in the dump", t.Name)
			}
			if !sameSet(t.Columns, w.Columns) {
				return total, fmt.Errorf("import: table %q has columns %q in the dump and %q here: were they written by different versions of gatehouse?", t.Name, t.Columns, w.Columns)
			}
			seen[t.Name] = true
			cur = &t
		case rec.Row != nil:
			rows = append(rows, rec.Row)
			size += rowSize(rec.Row)
			if len(rows) >= batch || size >= batchBytes {
				if err := flush(); err != nil {
					return total, err
				}
			}
		case rec.Sequences != nil:
			if err := flush(); err != nil {
				return total, err
			}
			for name, v := range rec.Sequences {
				if v < 0 || v > maxSequence {
					return total, fmt.Errorf("import: the ID counter of %q is %d, out of range", name, v)
				}
			}
			if err := dst.SetSequences(ctx, rec.Sequences); err != nil {
				return total, fmt.Errorf("import: sequences: %w", err)
			}
		}
	}
	var missing []string
	for name := range want {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return total, fmt.Errorf("import: the dump lacks tables %v of this database: was it written by an older gatehouse?", missing)
	}
	return total, nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[string]bool{}
	for _, x := range a {
		set[x] = true
	}
	for _, x := range b {
		if !set[x] {
			return false
		}
	}
	return len(set) == len(a)
}
