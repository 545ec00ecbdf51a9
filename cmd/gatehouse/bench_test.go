package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/bench"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// benchHelperEnv marks a run of this test binary as a child of
// 'gatehouse bench'. Its name does not start with GATEHOUSE_, which bench
// strips from its children's environment.
const benchHelperEnv = "GO_WANT_GATEHOUSE_BENCH_CHILD"

// useTestBinaryAsChild makes bench start its children as this test binary,
// which TestBenchHelperProcess turns into gatehouse. The children are real
// processes, so pinning, SIGTERM, peak RSS and the environment-only secrets
// are exercised as in production, without a go build in the test.
func useTestBinaryAsChild(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	old := benchChild
	benchChild = func() (string, []string, error) {
		return exe, []string{"-test.run=^TestBenchHelperProcess$", "--"}, nil
	}
	t.Cleanup(func() { benchChild = old })
	t.Setenv(benchHelperEnv, "1")
}

// TestBenchHelperProcess is not a test: it is gatehouse, run as a child of
// bench by the test binary (see useTestBinaryAsChild). It refuses a command
// line that holds the server key or a secret-shaped string: those must come
// through the environment.
func TestBenchHelperProcess(t *testing.T) {
	if os.Getenv(benchHelperEnv) != "1" || !slices.Contains(os.Args, "--") {
		return
	}
	args := os.Args[slices.Index(os.Args, "--")+1:]
	key := os.Getenv("GATEHOUSE_SECRET_KEY")
	for _, a := range args {
		if strings.Contains(a, "gth_") || (key != "" && strings.Contains(a, key)) {
			fmt.Fprintln(os.Stderr, "a secret is on the command line of a bench child")
			os.Exit(3)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, args, env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

// TestBenchRunsEveryScenario runs the whole command briefly: every scenario
// passes every check, on the server and on the ceiling, and no secret
// reaches the output.
func TestBenchRunsEveryScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("bench runs for seconds")
	}
	useTestBinaryAsChild(t)
	start := time.Now()
	code, out, errOut := runCmd(t, t.TempDir(), nil, "", "bench", "--duration", "300ms", "--connections", "4",
		"--server-cpu", "-1", "--client-cpu", "-1", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r bench.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	if r.Errors != 0 || len(r.Scenarios) != len(bench.Scenarios) || r.ServerPeakRSS <= 0 {
		t.Errorf("errors %d, %d scenarios, peak RSS %d; notes %q", r.Errors, len(r.Scenarios), r.ServerPeakRSS, r.Notes)
	}
	for _, row := range r.Scenarios {
		if row.Server.Rate <= 0 || row.Ceiling.Rate <= 0 || row.Fraction <= 0 || row.Server.Errors+row.Ceiling.Errors != 0 {
			t.Errorf("%s: %+v", row.Scenario, row)
		}
	}
	if strings.Contains(out+errOut, "gth_") {
		t.Errorf("a secret-shaped string reached the output:\n%s\n%s", out, errOut)
	}
	t.Logf("bench took %v", time.Since(start))
}

// TestBenchPostgres runs bench on PostgreSQL briefly: it seeds a schema of
// its own in the database --db names, and drops it afterwards.
func TestBenchPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("bench runs for seconds")
	}
	dsn := pgtest.DSN(t) // skips, or fails in CI, without a server
	useTestBinaryAsChild(t)
	code, out, errOut := runCmd(t, t.TempDir(), nil, "", "bench", "--db", dsn, "--duration", "200ms", "--connections", "2",
		"--scenarios", "client_credentials,introspect_revoked,refresh", "--server-cpu", "-1", "--client-cpu", "-1", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r bench.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	if r.Errors != 0 || len(r.Scenarios) != 3 || !strings.HasPrefix(r.Database, "PostgreSQL") {
		t.Errorf("errors %d, %d scenarios, database %q; notes %q", r.Errors, len(r.Scenarios), r.Database, r.Notes)
	}
	if strings.Contains(out+errOut, "gth_") {
		t.Errorf("a secret-shaped string reached the output")
	}
}

// TestBenchGrowth runs the growth measurement briefly: three phases, every
// check passed, the inserted tokens grow the database and the janitor
// deletes exactly them (issue 4, item 4).
func TestBenchGrowth(t *testing.T) {
	if testing.Short() {
		t.Skip("bench runs for seconds")
	}
	useTestBinaryAsChild(t)
	const n = 3000
	code, out, errOut := runCmd(t, t.TempDir(), nil, "", "bench", "--grow", fmt.Sprint(n), "--duration", "200ms", "--connections", "2",
		"--server-cpu", "-1", "--client-cpu", "-1", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var g growthReport
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	if g.Tokens != n || g.Swept != n || g.errors() != 0 || len(g.Phases) != 3 {
		t.Fatalf("tokens %d, swept %d (want %d), errors %d, %d phases", g.Tokens, g.Swept, n, g.errors(), len(g.Phases))
	}
	if g.Phases[1].DatabaseBytes <= g.Phases[0].DatabaseBytes {
		t.Errorf("database did not grow: %d then %d bytes", g.Phases[0].DatabaseBytes, g.Phases[1].DatabaseBytes)
	}
	for _, p := range g.Phases {
		if len(p.Report.Scenarios) != len(growthScenarios) || p.Report.ServerPeakRSS <= 0 {
			t.Errorf("%s: %d scenarios, peak RSS %d", p.Name, len(p.Report.Scenarios), p.Report.ServerPeakRSS)
		}
		for _, row := range p.Report.Scenarios {
			if row.Server.Rate <= 0 || row.Ceiling.Rate <= 0 {
				t.Errorf("%s, %s: %+v", p.Name, row.Scenario, row)
			}
		}
	}
	var text strings.Builder
	if err := g.writeText(&text); err != nil || !strings.Contains(text.String(), "after the janitor deleted them") {
		t.Errorf("text report (%v):\n%s", err, text.String())
	}
}

func TestBenchRefusesBadFlags(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown database", []string{"--db", "mysql://bench@localhost/gatehouse"}, []string{"--db must be"}},
		{"existing database", []string{"--db", "sqlite:" + existing}, []string{"exists"}},
		{"in-memory database", []string{"--db", "sqlite::memory:"}, []string{"file path"}},
		{"every bad flag at once", []string{"--connections", "0", "--duration", "0s", "--scenarios", "nope"},
			[]string{"--connections", "--duration", `unknown scenario "nope"`}},
		{"growth with a single-use pool", []string{"--grow", "10", "--scenarios", "client_credentials,revoke"}, []string{"revoke"}},
		{"negative growth", []string{"--grow", "-1"}, []string{"--grow"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, t.TempDir(), nil, "", append([]string{"bench"}, tt.args...)...)
			if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Fatalf("exit %d, want one error line: %q", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("%q does not say %q", errOut, w)
				}
			}
		})
	}
}
