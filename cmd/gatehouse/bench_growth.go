package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/bench"
	"github.com/gatehouse/gatehouse/oauth"
)

// growthScenarios are the scenarios a growth run measures by default:
// issuance (an insert) and introspection (a lookup). Single-use pools
// (revoke) cannot be measured three times.
var growthScenarios = []string{"client_credentials", "introspect_valid"}

// growthPhase is one measurement of a growth run.
type growthPhase struct {
	Name string `json:"name"`
	// DatabaseBytes is the size of the database file and its WAL.
	DatabaseBytes int64        `json:"database_bytes"`
	Report        bench.Report `json:"report"`
}

// growthReport is the outcome of 'gatehouse bench --grow N'.
type growthReport struct {
	Tokens int `json:"tokens"`
	// FillSeconds is how long inserting the tokens took (through the
	// store, one transaction each, as the server would).
	FillSeconds float64 `json:"fill_s"`
	// Swept and SweepSeconds are what the janitor deleted, and how long it
	// took, once the tokens had expired.
	Swept        int           `json:"swept"`
	SweepSeconds float64       `json:"sweep_s"`
	Phases       []growthPhase `json:"phases"`
	Notes        []string      `json:"notes,omitempty"`
}

// grow runs the growth measurement: the scenarios on the seeded database,
// again after the store holds --grow more tokens, and again after the
// janitor has deleted them. The tokens are inserted already expired (as if
// issued a while ago) so that the janitor, run at a moment of the bench's
// choosing, deletes exactly them; an expired row costs the table and its
// indexes what a live one does. The server restarts for each phase, so that
// each peak RSS is that phase's.
func (r *benchRun) grow(ctx context.Context, serverAddr string) (growthReport, error) {
	g := growthReport{Tokens: r.cfg.grow}
	phase := func(name string) error {
		rep := r.measure(ctx)
		rep.ServerPeakRSS, rep.CeilingPeakRSS = r.server.PeakRSS(), r.ceiling.PeakRSS()
		if err := r.server.Stop(15 * time.Second); err != nil {
			return err
		}
		r.server = nil
		rep.Database = fmt.Sprintf("%s, %s", r.db.kind(), name)
		rep.Finish()
		g.Phases = append(g.Phases, growthPhase{Name: name, DatabaseBytes: r.db.size(ctx), Report: rep})
		return ctx.Err()
	}
	if err := phase("seeded database"); err != nil {
		return g, err
	}

	r.progress("inserting %d expired tokens", r.cfg.grow)
	start := time.Now()
	if err := r.fill(ctx, r.cfg.grow); err != nil {
		return g, err
	}
	g.FillSeconds = time.Since(start).Seconds()
	if err := r.startServer(ctx, serverAddr); err != nil {
		return g, err
	}
	if err := phase(fmt.Sprintf("after %d more tokens", r.cfg.grow)); err != nil {
		return g, err
	}

	r.progress("running the janitor")
	start = time.Now()
	n, err := r.sweep(ctx)
	if err != nil {
		return g, err
	}
	g.Swept, g.SweepSeconds = n, time.Since(start).Seconds()
	if err := r.startServer(ctx, serverAddr); err != nil {
		return g, err
	}
	if err := phase("after the janitor deleted them"); err != nil {
		return g, err
	}
	g.Notes = r.notes
	return g, nil
}

// fill inserts n expired access tokens of the service app, a transaction
// each, from a few goroutines.
func (r *benchRun) fill(ctx context.Context, n int) error {
	store, err := openStore(ctx, r.db.dsn(), false)
	if err != nil {
		return err
	}
	defer store.Close()
	app, err := store.GetApp(ctx, r.fixture.Service.ID)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	issued := time.Now().Add(-time.Hour).UTC()
	const workers = 4
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil && ctx.Err() == nil; i += workers {
				t := gatehouse.Token{Digest: make([]byte, 32), Kind: gatehouse.AccessToken, AppID: app.ID,
					Scopes: []string{"read"}, IssuedAt: issued, ExpiresAt: issued.Add(10 * time.Minute)}
				_, _ = rand.Read(t.Digest)
				if err := store.CreateToken(ctx, t); err != nil {
					errs[w] = fmt.Errorf("fill: %w", err)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(append(errs, ctx.Err())...)
}

// sweep runs the janitor's sweep (the server's own code, with its batch
// size) on the stopped server's database.
func (r *benchRun) sweep(ctx context.Context) (int, error) {
	store, err := openStore(ctx, r.db.dsn(), false)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	key, err := decodeKey(r.key)
	if err != nil {
		return 0, err
	}
	srv, err := oauth.NewServer(store, key, oauth.Config{Issuer: r.serverURL}, oauth.Options{})
	if err != nil {
		return 0, err
	}
	return srv.Sweep(ctx, janitorBatch)
}

// writeText writes the growth report: one line per phase and scenario, with
// the change against the first phase.
func (g growthReport) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "growth: %d expired access tokens inserted in %.1f s (%.0f/s, one transaction each); the janitor deleted %d records in %.1f s\n",
		g.Tokens, g.FillSeconds, float64(g.Tokens)/max(g.FillSeconds, 1e-9), g.Swept, g.SweepSeconds)
	if len(g.Phases) > 0 {
		rep := g.Phases[0].Report
		m := rep.Machine
		fmt.Fprintf(&b, "machine: %s, %d CPUs, %s; server %s; load generator %s; %d connections, %s s per run\n\n",
			m.CPUModel, m.NumCPU, m.GoVersion, m.ServerPinning, m.ClientPinning, rep.Connections, fmt.Sprint(rep.Duration))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tdatabase\tserver RSS\tscenario\trate/s\tof ceiling\tp50\tp99\tCPU/unit\tΔ of ceiling\tΔ CPU/unit\terrors\t")
	first := map[string]bench.Row{}
	for i, p := range g.Phases {
		for _, row := range p.Report.Scenarios {
			dFrac, dCPU := "—", "—"
			if i == 0 {
				first[row.Scenario] = row
			} else if f := first[row.Scenario]; f.Fraction > 0 {
				dFrac = fmt.Sprintf("%+.1f %%", 100*(row.Fraction/f.Fraction-1))
				if c0, c1 := cpuPerUnit(f), cpuPerUnit(row); c0 > 0 && c1 > 0 {
					dCPU = fmt.Sprintf("%+.1f %%", 100*(c1/c0-1))
				}
			}
			cpu := "?"
			if c := cpuPerUnit(row); c > 0 {
				cpu = fmt.Sprintf("%.0f µs", c)
			}
			fmt.Fprintf(tw, "%s\t%.1f MiB\t%.1f MiB\t%s\t%.0f\t%.1f %%\t%.2f ms\t%.2f ms\t%s\t%s\t%s\t%d\t\n",
				p.Name, float64(p.DatabaseBytes)/(1<<20), float64(p.Report.ServerPeakRSS)/(1<<20), row.Scenario,
				row.Server.Rate, 100*row.Fraction, row.Server.P50ms, row.Server.P99ms, cpu, dFrac, dCPU, row.Server.Errors+row.Ceiling.Errors)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	b.WriteString("\nΔ: change against the first phase, of the fraction of the ceiling (each measured beside its own\nceiling run) and of the server CPU time per request (lower is cheaper).\n")
	for _, n := range g.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, p := range g.Phases {
		for _, n := range p.Report.Notes {
			fmt.Fprintf(&b, "note (%s): %s\n", p.Name, n)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// cpuPerUnit is the server's CPU time per unit of a row, in µs; 0 if
// unknown.
func cpuPerUnit(row bench.Row) float64 {
	if row.Server.TargetCPU < 0 || row.Server.Rate <= 0 {
		return 0
	}
	return 1e6 * row.Server.TargetCPU / row.Server.Rate
}

// errors counts the failed checks of every phase.
func (g growthReport) errors() uint64 {
	var n uint64
	for _, p := range g.Phases {
		n += p.Report.Errors
	}
	return n
}
