package bench

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// ErrExhausted is returned by an Op whose scenario has run out of input (a
// pool of single-use tokens): its connection stops, and the run ends when
// every connection has.
var ErrExhausted = errors.New("bench: the pool of single-use tokens ran out")

// Op performs one unit of work on its connection — a request, or the
// requests of a flow — and checks every response. An error means a check
// failed; its message must not hold a token or a secret.
type Op func(ctx context.Context) error

// NewWorker returns the Op of connection conn, which sends its requests
// with client: one keep-alive connection that never follows redirects.
type NewWorker func(conn int, client *http.Client) Op

// Load is how hard and how long a run drives its target.
type Load struct {
	Connections int
	Duration    time.Duration
}

// Result is what one run measured.
type Result struct {
	Ops     uint64 // units that passed their checks
	Errors  uint64 // units that failed a check
	Elapsed time.Duration
	// Latency of each passing unit.
	Latency Histogram
	// Exhausted: the run ended before Duration because its input ran out.
	Exhausted bool
	// ErrorSamples are the first few distinct error messages.
	ErrorSamples []string
}

// Rate is passing units per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

const maxErrorSamples = 5

// Run keeps l.Connections connections busy for l.Duration. No unit starts
// after the deadline and none is cut short: the elapsed time runs until the
// last one in flight has finished, so that every unit counted was timed.
func Run(ctx context.Context, l Load, newWorker NewWorker) Result {
	start := time.Now()
	deadline := start.Add(l.Duration)
	results := make([]Result, l.Connections)
	var wg sync.WaitGroup
	for i := range l.Connections {
		client, closeIdle := newClient()
		op := newWorker(i, client)
		wg.Go(func() {
			defer closeIdle()
			results[i] = drive(ctx, op, deadline)
		})
	}
	wg.Wait()
	total := Result{Elapsed: time.Since(start)}
	for i := range results {
		total.add(&results[i])
	}
	return total
}

// drive runs op until the deadline, ctx's end or the input's exhaustion.
func drive(ctx context.Context, op Op, deadline time.Time) Result {
	var r Result
	for ctx.Err() == nil && time.Now().Before(deadline) {
		t0 := time.Now()
		err := op(ctx)
		d := time.Since(t0)
		switch {
		case errors.Is(err, ErrExhausted):
			r.Exhausted = true
			return r
		case err != nil && ctx.Err() != nil:
			return r // interrupted: not the server's failure
		case err != nil:
			r.Errors++
			r.sample(err.Error())
		default:
			r.Ops++
			r.Latency.Record(d)
		}
	}
	return r
}

func (r *Result) add(o *Result) {
	r.Ops += o.Ops
	r.Errors += o.Errors
	r.Exhausted = r.Exhausted || o.Exhausted
	r.Latency.Merge(&o.Latency)
	for _, s := range o.ErrorSamples {
		r.sample(s)
	}
}

func (r *Result) sample(msg string) {
	if len(r.ErrorSamples) >= maxErrorSamples {
		return
	}
	for _, s := range r.ErrorSamples {
		if s == msg {
			return
		}
	}
	r.ErrorSamples = append(r.ErrorSamples, msg)
}

// newClient returns a client with a transport of its own, so that each
// connection of a run is one TCP connection kept alive: no pooling across
// connections, no proxy, no compression, no redirect following.
func newClient() (*http.Client, func()) {
	tr := &http.Transport{
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	c := &http.Client{
		Transport: tr,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c, tr.CloseIdleConnections
}
