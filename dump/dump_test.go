package dump

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTripValues(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, "test")
	if err != nil {
		t.Fatal(err)
	}
	row := []any{nil, int64(-1 << 62), "ünï\"code\n", []byte{0, 1, 0xff}, []byte{}}
	if err := w.Table(Table{Name: "t", Columns: []string{"a", "b", "c", "d", "e"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Row(row); err != nil {
		t.Fatal(err)
	}
	if err := w.Row([]any{1.5, nil, nil, nil, nil}); err == nil {
		t.Error("a float was written")
	}
	if err := w.Sequences(map[string]int64{"t": 7}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec)
	}
	if len(got) != 3 || got[0].Table == nil || got[0].Table.Name != "t" || got[2].Sequences["t"] != 7 {
		t.Fatalf("records: %+v", got)
	}
	if !reflect.DeepEqual(got[1].Row, row) {
		t.Errorf("row %#v, want %#v", got[1].Row, row)
	}
	if r.Source != "test" {
		t.Errorf("source %q", r.Source)
	}
}

func TestReaderRefuses(t *testing.T) {
	head := `{"format":"gatehouse-dump","version":1,"source":"x"}` + "\n"
	tests := map[string]string{
		"empty":            "",
		"other format":     `{"format":"other","version":1}` + "\n",
		"newer version":    `{"format":"gatehouse-dump","version":2}` + "\n",
		"no trailer":       head + `{"table":"t","columns":["a"]}` + "\n[1]\n",
		"row before table": head + "[1]\n",
		"wrong arity":      head + `{"table":"t","columns":["a"]}` + "\n[1,2]\n",
		"float":            head + `{"table":"t","columns":["a"]}` + "\n[1.5]\n",
		"bad base64":       head + `{"table":"t","columns":["a"]}` + "\n" + `[{"b64":"!!"}]` + "\n",
		"after trailer":    head + `{"sequences":{}}` + "\n" + `{"end":true,"tables":0,"rows":0}` + "\nextra\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(in))
			for err == nil {
				_, err = r.Next()
			}
			if err == io.EOF {
				t.Fatal("accepted")
			}
		})
	}
}

func TestOrder(t *testing.T) {
	got, err := Order(map[string][]string{
		"tokens": {"apps", "grants", "users"}, "grants": {"apps", "users"}, "apps": nil, "users": nil,
		"events": nil, "self": {"self"}, "dangling": {"gone"},
	})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, n := range got {
		pos[n] = i
	}
	if len(got) != 7 || pos["apps"] > pos["grants"] || pos["users"] > pos["grants"] || pos["grants"] > pos["tokens"] {
		t.Errorf("order %v", got)
	}
	if _, err := Order(map[string][]string{"a": {"b"}, "b": {"a"}}); err == nil {
		t.Error("a cycle was ordered")
	}
}
