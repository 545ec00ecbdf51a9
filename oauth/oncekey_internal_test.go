package oauth

import (
	"testing"
	"time"
)

// perKey does an action once per key per interval: the first call is due,
// a second within the interval is not, one at its end is; keys are apart;
// undo makes the next call due again, but never clears a later mark.
func TestPerKey(t *testing.T) {
	var p perKey[string]
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const d = time.Hour
	for _, tt := range []struct {
		key  string
		at   time.Duration
		want bool
	}{
		{"a", 0, true}, {"a", time.Minute, false}, {"b", time.Minute, true},
		{"a", d - time.Millisecond, false}, {"a", d, true}, {"a", d + time.Minute, false},
	} {
		if got := p.due(tt.key, t0.Add(tt.at), d); got != tt.want {
			t.Errorf("due(%s, +%v) = %v, want %v", tt.key, tt.at, got, tt.want)
		}
	}
	p.undo("b", t0.Add(time.Minute), d)
	if !p.due("b", t0.Add(2*time.Minute), d) {
		t.Error("undo left the mark")
	}
	p.undo("b", t0.Add(time.Minute), d) // an older mark's undo: the later one stays
	if p.due("b", t0.Add(3*time.Minute), d) {
		t.Error("undo of an older mark cleared a later one")
	}
}
