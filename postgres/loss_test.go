package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// The load of TestConnectionLossUnderLoadLosesNothing: lossWorkers
// goroutines on a pool of as many connections, each running the store
// calls of the server's requests, while the database ends every
// connection of the pool every lossKillEvery (±50%) after the calls in
// flight at the last time have ended.
const (
	lossWorkers   = 8
	lossKillEvery = 60 * time.Millisecond
)

// TestConnectionLossUnderLoadLosesNothing: while PostgreSQL ends the
// store's connections again and again (pg_terminate_backend, as a failover
// or a restart does), the store calls of the server's requests (issuance,
// introspection, refresh rotation, revocation) fail only when the
// connection was lost with a commit in flight (ErrOutcomeUnknown), and
// rarely; every call that succeeded is in the database afterwards, and
// nothing is applied twice. The same load with the rerun after a lost
// connection switched off fails calls: the rerun is what saves them.
func TestConnectionLossUnderLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test")
	}
	on := runLossLoad(t, true, 3*time.Second)
	off := runLossLoad(t, false, 1500*time.Millisecond)
	t.Logf("rerun on:  %v", on)
	t.Logf("rerun off: %v", off)

	for _, err := range on.failed[:min(len(on.failed), 5)] {
		t.Errorf("with the rerun, a call failed: %v", err)
	}
	if on.kills == 0 || on.reruns == 0 {
		t.Errorf("with the rerun: %d connections killed, %d attempts rerun; the test killed nothing in flight", on.kills, on.reruns)
	}
	if on.unknown*100 > on.ops {
		t.Errorf("with the rerun: %d of %d calls ended with an unknown outcome; want under 1%%", on.unknown, on.ops)
	}
	if len(off.failed) == 0 {
		t.Errorf("without the rerun no call failed (%v): the test does not show what the rerun does", off)
	}
}

// lossLoad is what one run of the load measured.
type lossLoad struct {
	ops, kills, waves int
	reruns            int64          // attempts run again after a lost connection
	unknown           int            // calls that failed with ErrOutcomeUnknown
	unknownBy         map[string]int // the same, by call
	applied           int            // of the writes among them, those the database has
	failed            []error        // calls that failed otherwise
}

func (l lossLoad) String() string {
	return fmt.Sprintf("%d calls, %d connections killed in %d waves, %d attempts rerun, %d other failures, "+
		"%d unknown outcomes %v of which %d applied", l.ops, l.kills, l.waves, l.reruns, len(l.failed),
		l.unknown, l.unknownBy, l.applied)
}

// lossLedger records what the calls answered, to check the database
// against afterwards.
type lossLedger struct {
	mu        sync.Mutex
	load      lossLoad
	begun     [lossWorkers]atomic.Int64 // iterations each worker began
	ended     [lossWorkers]atomic.Int64 // and ended
	tried     map[string]bool           // every digest that a call tried to store
	stored    []gatehouse.Token         // the tokens whose call succeeded
	rotated   map[string][2][]byte      // old refresh token → successors: the rotation succeeded
	uncertain map[string][2][]byte      // the same, for rotations that ended with an unknown outcome
	maybe     [][]byte                  // tokens whose store call ended with an unknown outcome
	revoked   [][]byte                  // tokens whose revocation succeeded
}

// runLossLoad runs the load for d on a store of its own, with or without
// the rerun after a lost connection, and checks the database afterwards.
func runLossLoad(t *testing.T, rerun bool, d time.Duration) lossLoad {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d+20*time.Second)
	defer cancel()
	dsn := pgtest.WithParam(pgtest.DSN(t), "pool_max_conns", fmt.Sprint(lossWorkers))
	app := fmt.Sprintf("gatehouse-loss-%016x", rand.Uint64())
	s := openDSN(t, pgtest.WithParam(dsn, "application_name", app))
	grants := grantFixture(t, s, lossWorkers)
	if !rerun {
		s.NoLossRetry()
	}
	l := &lossLedger{load: lossLoad{unknownBy: map[string]int{}},
		tried: map[string]bool{}, rotated: map[string][2][]byte{}, uncertain: map[string][2][]byte{}}

	stop := make(chan struct{})
	var killer sync.WaitGroup
	killer.Go(func() { killLoop(ctx, t, app, stop, l) })
	var workers sync.WaitGroup
	deadline := time.Now().Add(d)
	for w, g := range grants {
		workers.Go(func() { lossWorker(ctx, s, w, g, deadline, l) })
	}
	workers.Wait()
	close(stop)
	killer.Wait()
	l.load.reruns = s.LossRetries()

	// A store of its own, whose connections were never killed.
	checkLossLedger(t, openDSN(t, dsn), l)
	return l.load
}

// killLoop ends every connection of the application app, every
// lossKillEvery ±50%, until stop closes. Before each time it waits until
// each worker ended an iteration that it began after the last time: a loss
// is rerun once, so a second loss during the rerun is a failure that the
// test does not ask the store to survive. (Without the wait it happens
// when a rerun is slower than the pause: 4 to 8 rotations failed so in
// each of our 3 s runs.)
func killLoop(ctx context.Context, t *testing.T, app string, stop <-chan struct{}, l *lossLedger) {
	conn, err := pgx.Connect(ctx, pgtest.Server())
	if err != nil {
		t.Errorf("killer: %v", err)
		return
	}
	defer conn.Close(context.Background())
	var begun [lossWorkers]int64
	for {
		for w := range begun {
			for l.ended[w].Load() <= begun[w] {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(lossKillEvery/2 + rand.N(lossKillEvery)):
		}
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`, app).Scan(&n)
		if err != nil {
			t.Errorf("killer: %v", err)
			return
		}
		for w := range begun {
			begun[w] = l.begun[w].Load()
		}
		l.mu.Lock()
		l.load.kills += n
		l.load.waves++
		l.mu.Unlock()
	}
}

// lossWorker runs, until the deadline, the store calls of the server's
// requests on a refresh token family of grant g: an access token issued at
// the current generation (read first, as every request does), introspected,
// the refresh token rotated, the access token revoked.
func lossWorker(ctx context.Context, s *postgres.Store, w int, g gatehouse.Grant, deadline time.Time, l *lossLedger) {
	var cur *gatehouse.Token // the family's live refresh token
	for i := 0; time.Now().Before(deadline); i++ {
		l.begun[w].Add(1)
		cur = lossIteration(ctx, s, fmt.Sprint(w, "-", i, "-"), g, cur, l)
		l.ended[w].Add(1)
	}
}

// lossIteration runs one iteration of lossWorker and returns the family's
// live refresh token, nil for a new family.
func lossIteration(ctx context.Context, s *postgres.Store, name string, g gatehouse.Grant, cur *gatehouse.Token, l *lossLedger) *gatehouse.Token {
	if cur == nil {
		r := token(name+"refresh", gatehouse.RefreshToken, g, nil)
		l.try(r)
		if !l.create("CreateToken", r, s.CreateToken(ctx, r)) {
			return nil
		}
		return &r
	}
	gen, err := s.Generation(ctx)
	if !l.call("Generation", err) {
		return cur
	}
	a := token(name+"access", gatehouse.AccessToken, g, nil)
	l.try(a)
	if !l.create("CreateTokenAt", a, s.CreateTokenAt(ctx, a, gen)) {
		return cur
	}
	got, _, err := s.GetTokenAt(ctx, a.Digest)
	if l.call("GetTokenAt", err) && !bytes.Equal(got.Digest, a.Digest) {
		l.fail(errors.New("the introspection of a stored token returned another token"))
	}
	next := []gatehouse.Token{
		token(name+"next-refresh", gatehouse.RefreshToken, g, cur.Digest),
		token(name+"next-access", gatehouse.AccessToken, g, cur.Digest),
	}
	l.try(next...)
	_, err = s.RotateRefreshToken(ctx, cur.Digest, t0.Add(time.Second), false, next)
	l.mu.Lock()
	switch succ := [2][]byte{next[0].Digest, next[1].Digest}; {
	case err == nil:
		l.rotated[string(cur.Digest)] = succ
	case errors.Is(err, postgres.ErrOutcomeUnknown):
		l.uncertain[string(cur.Digest)] = succ
	}
	l.mu.Unlock()
	if cur = nil; l.call("RotateRefreshToken", err) {
		l.store(next...)
		cur = &next[0]
	}
	if l.call("RevokeToken", s.RevokeToken(ctx, a.Digest, t0.Add(time.Minute))) {
		l.mu.Lock()
		l.revoked = append(l.revoked, a.Digest)
		l.mu.Unlock()
	}
	return cur
}

// create stores t with the call op, and records the outcome.
func (l *lossLedger) create(op string, t gatehouse.Token, err error) bool {
	if errors.Is(err, postgres.ErrOutcomeUnknown) {
		l.mu.Lock()
		l.maybe = append(l.maybe, t.Digest)
		l.mu.Unlock()
	}
	if !l.call(op, err) {
		return false
	}
	l.store(t)
	return true
}

// try records that a call tries to store ts.
func (l *lossLedger) try(ts ...gatehouse.Token) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range ts {
		l.tried[string(t.Digest)] = true
	}
}

// store records that the call that stores ts succeeded.
func (l *lossLedger) store(ts ...gatehouse.Token) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stored = append(l.stored, ts...)
}

// call counts a store call, op, that returned err, and reports whether it
// succeeded.
func (l *lossLedger) call(op string, err error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.load.ops++
	switch {
	case err == nil:
		return true
	case errors.Is(err, postgres.ErrOutcomeUnknown):
		l.load.unknown++
		l.load.unknownBy[op]++
	default:
		l.load.failed = append(l.load.failed, err)
	}
	return false
}

// fail records a wrong answer of a call that succeeded.
func (l *lossLedger) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.load.failed = append(l.load.failed, err)
}

// checkLossLedger checks the database against what the calls answered:
// every token stored is there as it was given; every rotation that
// succeeded marked its token used and has exactly its two successors; a
// rotation with an unknown outcome happened whole or not at all; every
// revocation holds; and no row is one that no call tried to store. (A
// token is stored once at most: its digest is the primary key, and a rerun
// of a write that had been applied would fail, with ErrAlreadyExists or
// ErrAlreadyUsed.) It counts the writes with an unknown outcome that were
// applied.
func checkLossLedger(t *testing.T, s *postgres.Store, l *lossLedger) {
	t.Helper()
	ctx := t.Context()
	for _, want := range l.stored {
		got, err := s.GetToken(ctx, want.Digest)
		if err != nil {
			t.Errorf("a token whose store call succeeded: %v", err)
			continue
		}
		if got.Kind != want.Kind || !bytes.Equal(got.Parent, want.Parent) || got.GrantID != want.GrantID {
			t.Errorf("a token whose store call succeeded is stored as %+v, want %+v", got, want)
		}
	}
	for old, succ := range l.rotated {
		if used, children := successors(t, s, []byte(old)); !used || !are(children, succ) {
			t.Errorf("a rotation that succeeded: old token used %t, %d successors (want its 2)", used, len(children))
		}
	}
	for old, succ := range l.uncertain {
		used, children := successors(t, s, []byte(old))
		whole, none := used && are(children, succ), !used && len(children) == 0
		if !whole && !none {
			t.Errorf("a rotation with an unknown outcome: old token used %t, %d successors (want all or nothing)", used, len(children))
		}
		if whole {
			l.load.applied++
		}
	}
	for _, d := range l.maybe {
		if _, err := s.GetToken(ctx, d); err == nil {
			l.load.applied++
		} else if !errors.Is(err, gatehouse.ErrNotFound) {
			t.Error(err)
		}
	}
	for _, d := range l.revoked {
		got, err := s.GetToken(ctx, d)
		if err != nil || got.RevokedAt.IsZero() {
			t.Errorf("a token whose revocation succeeded: revoked at %v, %v", got.RevokedAt, err)
		}
	}
	rows, err := s.Pool().Query(ctx, `SELECT digest FROM tokens`)
	must(t, err)
	digests, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	must(t, err)
	for _, d := range digests {
		if !l.tried[string(d)] {
			t.Errorf("a token that no call stored: %x", d)
		}
	}
}

// successors reports whether the token old is used, and returns the
// digests of the tokens whose parent it is.
func successors(t *testing.T, s *postgres.Store, old []byte) (bool, [][]byte) {
	t.Helper()
	got, err := s.GetToken(t.Context(), old)
	must(t, err)
	rows, err := s.Pool().Query(t.Context(), `SELECT digest FROM tokens WHERE parent = $1 ORDER BY digest`, old)
	must(t, err)
	children, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	must(t, err)
	return !got.UsedAt.IsZero(), children
}

// are reports whether the digests are succ, in any order.
func are(digests [][]byte, succ [2][]byte) bool {
	return len(digests) == 2 && (bytes.Equal(digests[0], succ[0]) && bytes.Equal(digests[1], succ[1]) ||
		bytes.Equal(digests[0], succ[1]) && bytes.Equal(digests[1], succ[0]))
}
