// Package dump is the file format of 'gatehouse export' and 'gatehouse
// import': every row of every data table of a Gatehouse database, so that a
// deployment moves between backends (SQLite to PostgreSQL) with nothing
// re-issued — apps, credentials, users, consents, grants, codes, sessions,
// devices, events and live tokens, which are stored as digests and move as
// digests.
//
// The format is JSON lines: a header, then for each table a line naming it
// and its columns followed by one line per row, then the ID counters, then
// a trailer that counts what came before, so that a truncated file is
// refused rather than half imported. Values are null, integers, strings, or
// {"b64": "..."} for bytes. Tables are named by the backends' shared schema
// (the backends keep the same table and column names; a test holds them to
// it), and the backends list them from their catalog, not from a list in
// code: a table added by a later migration is exported without a change
// here, and a dump that lacks a table of the destination is refused.
//
// A dump holds secret digests and password hashes: it must be kept like the
// database itself.
package dump

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
)

// Format and Version identify the file format.
const (
	Format  = "gatehouse-dump"
	Version = 1
)

// Table names a table and the columns of its rows, in row order.
type Table struct {
	Name    string   `json:"table"`
	Columns []string `json:"columns"`
}

// header is the first line of a dump.
type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Source names the backend that wrote the dump ("sqlite", "postgres").
	Source string `json:"source"`
}

// trailer is the last line of a dump.
type trailer struct {
	End    bool  `json:"end"`
	Tables int   `json:"tables"`
	Rows   int64 `json:"rows"`
}

// sequences is the line of ID counters: for each table with a generated
// ID, the highest ID ever given (which may exceed the highest ID present:
// deleted IDs are never given again).
type sequences struct {
	Sequences map[string]int64 `json:"sequences"`
}

// Writer writes a dump. Call Table before the rows of each table, then
// Sequences once, then Close.
type Writer struct {
	w      *bufio.Writer
	cur    *Table
	tables int
	rows   int64
	seqs   bool
	closed bool
	line   []byte
}

// NewWriter starts a dump written by source.
func NewWriter(w io.Writer, source string) (*Writer, error) {
	dw := &Writer{w: bufio.NewWriterSize(w, 64<<10)}
	if err := dw.writeJSON(header{Format: Format, Version: Version, Source: source}); err != nil {
		return nil, err
	}
	return dw, nil
}

func (w *Writer) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	return w.writeLine(b)
}

func (w *Writer) writeLine(b []byte) error {
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("dump: write: %w", err)
	}
	if err := w.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("dump: write: %w", err)
	}
	return nil
}

// Table starts the rows of table t.
func (w *Writer) Table(t Table) error {
	if w.seqs || w.closed {
		return errors.New("dump: table after the sequences")
	}
	if t.Name == "" || len(t.Columns) == 0 {
		return fmt.Errorf("dump: table %q has no name or no columns", t.Name)
	}
	w.cur = &t
	w.tables++
	return w.writeJSON(t)
}

// Row writes a row of the current table: one value per column, each nil,
// an integer, a string or a []byte.
func (w *Writer) Row(vals []any) error {
	if w.cur == nil || w.seqs {
		return errors.New("dump: row outside a table")
	}
	if len(vals) != len(w.cur.Columns) {
		return fmt.Errorf("dump: table %s: %d values for %d columns", w.cur.Name, len(vals), len(w.cur.Columns))
	}
	b := append(w.line[:0], '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendValue(b, v); err != nil {
			return fmt.Errorf("dump: table %s, column %s: %w", w.cur.Name, w.cur.Columns[i], err)
		}
	}
	b = append(b, ']')
	w.line = b
	w.rows++
	return w.writeLine(b)
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case bool:
		if v {
			return append(b, '1'), nil
		}
		return append(b, '0'), nil
	case string:
		s, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(b, s...), nil
	case []byte:
		b = append(b, `{"b64":"`...)
		b = base64.StdEncoding.AppendEncode(b, v)
		return append(b, `"}`...), nil
	default:
		return nil, fmt.Errorf("unsupported value of type %T", v)
	}
}

// Sequences writes the ID counters. It ends the tables.
func (w *Writer) Sequences(m map[string]int64) error {
	if w.seqs || w.closed {
		return errors.New("dump: sequences written twice")
	}
	w.seqs = true
	if m == nil {
		m = map[string]int64{}
	}
	return w.writeJSON(sequences{Sequences: m})
}

// Close writes the trailer and flushes. It does not close the underlying
// writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	if !w.seqs {
		if err := w.Sequences(nil); err != nil {
			return err
		}
	}
	w.closed = true
	if err := w.writeJSON(trailer{End: true, Tables: w.tables, Rows: w.rows}); err != nil {
		return err
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("dump: write: %w", err)
	}
	return nil
}

// Counts returns how many tables and rows were written.
func (w *Writer) Counts() (tables int, rows int64) { return w.tables, w.rows }

// Record is one item of a dump, in the order written: exactly one field is
// set.
type Record struct {
	// Table starts the rows of a table.
	Table *Table
	// Row is a row of the last table: each value nil, int64, string or
	// []byte.
	Row []any
	// Sequences are the ID counters, after the last table.
	Sequences map[string]int64
}

// Reader reads a dump.
type Reader struct {
	s      *bufio.Scanner
	Source string
	cur    *Table
	tables int
	rows   int64
	seqs   bool
	done   bool
	lineNo int
}

// maxLine bounds a line of a dump.
const maxLine = 16 << 20

// NewReader reads the header of a dump and refuses anything that is not one.
func NewReader(r io.Reader) (*Reader, error) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), maxLine)
	dr := &Reader{s: s}
	line, err := dr.next()
	if err == io.EOF {
		return nil, errors.New("dump: empty input: not a gatehouse dump")
	}
	if err != nil {
		return nil, err
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil || h.Format != Format {
		return nil, errors.New("dump: not a gatehouse dump (no header line)")
	}
	if h.Version != Version {
		return nil, fmt.Errorf("dump: format version %d, this gatehouse reads version %d", h.Version, Version)
	}
	dr.Source = h.Source
	return dr, nil
}

func (r *Reader) next() ([]byte, error) {
	if !r.s.Scan() {
		if err := r.s.Err(); err != nil {
			return nil, fmt.Errorf("dump: line %d: %w", r.lineNo+1, err)
		}
		return nil, io.EOF
	}
	r.lineNo++
	return r.s.Bytes(), nil
}

// Next returns the next record, or io.EOF after a complete dump. A dump
// that ends before its trailer, or whose trailer does not count what came
// before, is an error.
func (r *Reader) Next() (Record, error) {
	if r.done {
		return Record{}, io.EOF
	}
	line, err := r.next()
	if err == io.EOF {
		return Record{}, errors.New("dump: truncated: it ends before its trailer")
	}
	if err != nil {
		return Record{}, err
	}
	fail := func(format string, args ...any) (Record, error) {
		return Record{}, fmt.Errorf("dump: line %d: "+format, append([]any{r.lineNo}, args...)...)
	}
	switch {
	case len(line) > 0 && line[0] == '[':
		if r.cur == nil || r.seqs {
			return fail("a row outside a table")
		}
		row, err := decodeRow(line, len(r.cur.Columns))
		if err != nil {
			return fail("table %s: %v", r.cur.Name, err)
		}
		r.rows++
		return Record{Row: row}, nil
	case bytes.HasPrefix(line, []byte(`{"table"`)):
		var t Table
		if err := json.Unmarshal(line, &t); err != nil || t.Name == "" || len(t.Columns) == 0 || r.seqs {
			return fail("a bad table line")
		}
		r.cur = &t
		r.tables++
		return Record{Table: &t}, nil
	case bytes.HasPrefix(line, []byte(`{"sequences"`)):
		var s sequences
		if err := json.Unmarshal(line, &s); err != nil || r.seqs {
			return fail("a bad sequences line")
		}
		r.seqs = true
		if s.Sequences == nil {
			s.Sequences = map[string]int64{}
		}
		return Record{Sequences: s.Sequences}, nil
	case bytes.HasPrefix(line, []byte(`{"end"`)):
		var t trailer
		if err := json.Unmarshal(line, &t); err != nil || !t.End {
			return fail("a bad trailer")
		}
		if t.Tables != r.tables || t.Rows != r.rows || !r.seqs {
			return fail("the trailer counts %d tables and %d rows, the dump has %d and %d: it is damaged", t.Tables, t.Rows, r.tables, r.rows)
		}
		r.done = true
		if _, err := r.next(); err != io.EOF {
			return fail("data after the trailer")
		}
		return Record{}, io.EOF
	default:
		return fail("not a line of a gatehouse dump")
	}
}

func decodeRow(line []byte, n int) ([]any, error) {
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var raw []any
	if err := d.Decode(&raw); err != nil {
		return nil, err
	}
	if len(raw) != n {
		return nil, fmt.Errorf("%d values for %d columns", len(raw), n)
	}
	for i, v := range raw {
		switch v := v.(type) {
		case nil, string:
		case json.Number:
			x, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("value %d: %q is not an integer", i+1, string(v))
			}
			raw[i] = x
		case map[string]any:
			s, ok := v["b64"].(string)
			if !ok || len(v) != 1 {
				return nil, fmt.Errorf("value %d: an object that is not {\"b64\": ...}", i+1)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("value %d: bad base64", i+1)
			}
			raw[i] = b
		default:
			return nil, fmt.Errorf("value %d: unsupported %T", i+1, v)
		}
	}
	return raw, nil
}

// Order returns tables in an order in which their rows can be inserted:
// every table after the tables it references (refs[t] lists what t
// references; a reference to itself or to a table not in refs is ignored).
// Ties are broken by name, so the order is stable.
func Order(refs map[string][]string) ([]string, error) {
	var out []string
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(t string, path []string) error
	visit = func(t string, path []string) error {
		switch state[t] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("dump: tables reference each other in a cycle: %v", append(path, t))
		}
		state[t] = 1
		deps := slices.Sorted(slices.Values(refs[t]))
		for _, d := range deps {
			if _, ok := refs[d]; !ok || d == t {
				continue
			}
			if err := visit(d, append(path, t)); err != nil {
				return err
			}
		}
		state[t] = 2
		out = append(out, t)
		return nil
	}
	for _, t := range slices.Sorted(maps.Keys(refs)) {
		if err := visit(t, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
