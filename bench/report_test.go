package bench

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestReportText(t *testing.T) {
	r := Report{
		Machine:     Machine{CPUModel: "Test CPU", NumCPU: 2, GOMAXPROCS: 1, GoVersion: "go1.26", ServerPinning: "taskset -c 0", CeilingPinning: "taskset -c 0", ClientPinning: "CPU 1"},
		Database:    "SQLite",
		Connections: 32, Duration: 5,
		Scenarios: []Row{
			{Scenario: "client_credentials", Unit: "req/s", Baseline: "client_credentials", BaselineRate: 40000, Fraction: 0.125,
				Server:  Measure{Rate: 5000, P50ms: 6.25, P99ms: 12.5, TargetCPU: 1, ClientCPU: 0.3},
				Ceiling: Measure{Rate: 40000, P50ms: 0.8, P99ms: 2, TargetCPU: 0.9, ClientCPU: 1}},
			{Scenario: "code_flow", Unit: "flows/s", Baseline: "client_credentials", BaselineRate: 40000, Fraction: 0.025,
				Server:  Measure{Rate: 1000, P50ms: 30, P99ms: 60, Errors: 2, TargetCPU: -1, ErrorSamples: []string{"authorize: no code"}},
				Ceiling: Measure{Rate: 20000, Exhausted: true, Elapsed: 1.5}},
		},
		ServerPeakRSS: 50 << 20,
	}
	r.Finish()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("report differs from %s (go test -update to refresh):\n%s", golden, b.String())
	}
}

func TestCount(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 1234567.8: "1,234,568"} {
		if got := count(in); got != want {
			t.Errorf("count(%v) = %q, want %q", in, got, want)
		}
	}
}
