package bench

import (
	"context"
	"time"
)

// Suite runs scenarios against a server and against the ceiling, side by
// side: each scenario's ceiling run comes right before its server run, so
// that the machine's drift touches both alike.
type Suite struct {
	Load      Load
	Scenarios []Scenario
	Server    Target
	Ceiling   Target
	Fixture   *Fixture
	// Progress, when set, is told what runs next.
	Progress func(scenario, target string)
}

// Measure is one run of one scenario against one target.
type Measure struct {
	Rate      float64 `json:"rate"`
	Count     uint64  `json:"count"`
	Errors    uint64  `json:"errors"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	Elapsed   float64 `json:"elapsed_s"`
	TargetCPU float64 `json:"server_cpu"` // cores the target process used; -1 when unknown
	ClientCPU float64 `json:"client_cpu"` // cores the load generator used; -1 when unknown
	// Exhausted: the run ended early because its pool of single-use tokens
	// ran out; Rate is over the time it did run.
	Exhausted    bool     `json:"exhausted,omitempty"`
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// Row is one scenario's result.
type Row struct {
	Scenario string  `json:"scenario"`
	Unit     string  `json:"unit"`
	Server   Measure `json:"server"`
	// Ceiling is the ceiling's run of the same scenario.
	Ceiling Measure `json:"ceiling"`
	// Fraction is Server.Rate over the rate of the Baseline scenario on
	// the ceiling.
	Baseline     string  `json:"baseline"`
	BaselineRate float64 `json:"baseline_rate"`
	Fraction     float64 `json:"fraction_of_ceiling"`
}

// Run runs every scenario and returns a row for each, stopping early if ctx
// ends.
func (s *Suite) Run(ctx context.Context) []Row {
	ceilings := map[string]Measure{}
	var rows []Row
	for _, sc := range s.Scenarios {
		if ctx.Err() != nil {
			break
		}
		ceilings[sc.Name] = s.measure(ctx, sc, s.Ceiling)
		row := Row{Scenario: sc.Name, Unit: sc.Unit, Ceiling: ceilings[sc.Name], Baseline: sc.Baseline}
		row.Server = s.measure(ctx, sc, s.Server)
		base, ok := ceilings[sc.Baseline]
		if !ok {
			b, _ := find(sc.Baseline)
			base = s.measure(ctx, b, s.Ceiling)
			ceilings[sc.Baseline] = base
		}
		row.BaselineRate = base.Rate
		if base.Rate > 0 {
			row.Fraction = row.Server.Rate / base.Rate
		}
		rows = append(rows, row)
	}
	return rows
}

func (s *Suite) measure(ctx context.Context, sc Scenario, t Target) Measure {
	if s.Progress != nil {
		s.Progress(sc.Name, t.Name)
	}
	target := func(time.Duration) float64 { return -1 }
	if t.PID > 0 {
		target = startCPU(t.PID)
	}
	client := startCPU(0)
	r := Run(ctx, s.Load, sc.start(t, s.Fixture))
	return Measure{
		Rate: r.Rate(), Count: r.Ops, Errors: r.Errors,
		P50ms: ms(r.Latency.Quantile(0.5)), P99ms: ms(r.Latency.Quantile(0.99)), MaxMs: ms(r.Latency.Max()),
		Elapsed:   r.Elapsed.Seconds(),
		TargetCPU: target(r.Elapsed), ClientCPU: client(r.Elapsed),
		Exhausted: r.Exhausted, ErrorSamples: r.ErrorSamples,
	}
}

// startCPU notes the CPU time of process pid (0: this process) and returns
// a function that gives the cores it used since, over elapsed; -1 when it
// cannot tell.
func startCPU(pid int) func(elapsed time.Duration) float64 {
	t0, err := CPUTime(pid)
	if err != nil {
		return func(time.Duration) float64 { return -1 }
	}
	return func(elapsed time.Duration) float64 {
		t1, err := CPUTime(pid)
		if err != nil || elapsed <= 0 {
			return -1
		}
		return (t1 - t0).Seconds() / elapsed.Seconds()
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
