package bench

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Machine is what the numbers were measured on.
type Machine struct {
	CPUModel string `json:"cpu_model"`
	NumCPU   int    `json:"num_cpu"`
	// GOMAXPROCS is the load generator's, once pinned.
	GOMAXPROCS     int    `json:"gomaxprocs"`
	GoVersion      string `json:"go_version"`
	ServerPinning  string `json:"server_pinning"`
	CeilingPinning string `json:"ceiling_pinning"`
	ClientPinning  string `json:"client_pinning"`
}

// ThisMachine returns the facts of this machine; the pinning is the
// caller's to fill in.
func ThisMachine() Machine {
	return Machine{CPUModel: CPUModel(), NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
}

// Report is the outcome of a bench run.
type Report struct {
	Machine     Machine `json:"machine"`
	Database    string  `json:"database"`
	Connections int     `json:"connections"`
	// Duration is each run's, in seconds.
	Duration  float64 `json:"duration_s"`
	Scenarios []Row   `json:"scenarios"`
	// ServerPeakRSS and CeilingPeakRSS are the processes' VmHWM, in bytes;
	// 0 when unknown.
	ServerPeakRSS  int64 `json:"server_peak_rss_bytes"`
	CeilingPeakRSS int64 `json:"ceiling_peak_rss_bytes"`
	// Errors counts the units that failed a check, on both targets.
	Errors uint64   `json:"errors"`
	Notes  []string `json:"notes,omitempty"`
}

// clientBound is the load generator's CPU (in cores, pinned to one) from
// which a run measures the load generator rather than the target.
const clientBound = 0.9

// Finish counts the errors and explains the runs that ended early or
// failed, and the ceilings that the load generator could not saturate.
func (r *Report) Finish() {
	var bound []string
	for _, row := range r.Scenarios {
		if c := row.Ceiling.ClientCPU; c >= clientBound {
			bound = append(bound, fmt.Sprintf("%s (%.0f %%)", row.Scenario, 100*c))
		}
	}
	if len(bound) > 0 {
		r.Notes = append(r.Notes, "the ceiling is client-bound for "+strings.Join(bound, ", ")+
			": the load generator used a whole core, so the ceiling's true rate is higher and every fraction of it reads high")
	}
	for _, row := range r.Scenarios {
		for _, m := range []struct {
			target string
			m      Measure
		}{{"gatehouse", row.Server}, {"ceiling", row.Ceiling}} {
			r.Errors += m.m.Errors
			if m.m.Exhausted {
				r.Notes = append(r.Notes, fmt.Sprintf("%s on %s ran out of single-use tokens after %.1f s; its rate is over the time it ran",
					row.Scenario, m.target, m.m.Elapsed))
			}
			if len(m.m.ErrorSamples) > 0 {
				r.Notes = append(r.Notes, fmt.Sprintf("%s on %s failed %d checks, first: %s",
					row.Scenario, m.target, m.m.Errors, strings.Join(m.m.ErrorSamples, "; ")))
			}
		}
	}
}

// WriteText writes the report as tables.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "machine: %s, %d CPUs, %s; load generator GOMAXPROCS %d\n", m.CPUModel, m.NumCPU, m.GoVersion, m.GOMAXPROCS)
	fmt.Fprintf(&b, "pinning: server %s; ceiling %s; load generator %s\n", m.ServerPinning, m.CeilingPinning, m.ClientPinning)
	fmt.Fprintf(&b, "load: %d connections, %s per run, %s\n\n", r.Connections, seconds(r.Duration), r.Database)
	r.serverTable(&b)
	b.WriteString("\nceiling: net/http alone, no storage and no token crypto, run just before each scenario\n")
	r.ceilingTable(&b)
	fmt.Fprintf(&b, "\nserver peak RSS: %s (ceiling: %s)\n", mib(r.ServerPeakRSS), mib(r.CeilingPeakRSS))
	fmt.Fprintf(&b, "errors: %d\n", r.Errors)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func (r *Report) serverTable(b *strings.Builder) {
	t := table{{"scenario", "rate/s", "p50", "p99", "errors", "ceiling/s", "of ceiling", "server CPU", "CPU/unit"}}
	footnote := false
	for _, row := range r.Scenarios {
		s, name := row.Server, label(row)
		if row.Baseline != row.Scenario {
			name, footnote = name+" *", true
		}
		t = append(t, []string{name, count(s.Rate), millis(s.P50ms), millis(s.P99ms), strconv.FormatUint(s.Errors, 10),
			count(row.BaselineRate), percent(row.Fraction), cores(s.TargetCPU), perUnit(s)})
	}
	t.write(b)
	if footnote {
		b.WriteString("* flows/s against the ceiling's client_credentials requests/s, as issue 4 sets it\n")
	}
}

func (r *Report) ceilingTable(b *strings.Builder) {
	t := table{{"scenario", "rate/s", "p50", "p99", "errors", "server CPU", "CPU/unit", "client CPU"}}
	for _, row := range r.Scenarios {
		c := row.Ceiling
		t = append(t, []string{label(row), count(c.Rate), millis(c.P50ms), millis(c.P99ms), strconv.FormatUint(c.Errors, 10),
			cores(c.TargetCPU), perUnit(c), cores(c.ClientCPU)})
	}
	t.write(b)
}

// label is a row's scenario, with its unit when it counts something else
// than requests.
func label(row Row) string {
	if row.Unit != "req/s" {
		return row.Scenario + " (" + row.Unit + ")"
	}
	return row.Scenario
}

// table is rows of cells; the first row is the header. The first column is
// aligned left and the others right.
type table [][]string

func (t table) write(b *strings.Builder) {
	var width []int
	for _, row := range t {
		for i, cell := range row {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range t {
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		b.WriteString("\n")
	}
}

// perUnit is the server CPU time one unit cost: what the rate would be
// without the load generator's limits is 1 s over it.
func perUnit(m Measure) string {
	if m.TargetCPU < 0 || m.Rate <= 0 {
		return "?"
	}
	return strconv.FormatFloat(m.TargetCPU/m.Rate*1e6, 'f', 0, 64) + " µs"
}

// count writes a rate with thousands separators: 41,350.
func count(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func millis(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}

func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + " %" }

// cores writes CPU use as a percentage of one core; "?" when unknown.
func cores(c float64) string {
	if c < 0 {
		return "?"
	}
	return strconv.FormatFloat(c*100, 'f', 0, 64) + " %"
}

func mib(n int64) string {
	if n <= 0 {
		return "unknown"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

func seconds(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) + " s" }
