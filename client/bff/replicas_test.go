package bff_test

import (
	"database/sql"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/internal/redistest"
	"github.com/gatehouse/gatehouse/client/redisstore"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// accessTTL is the server's access-token lifetime in these tests: longer
// than the token source's 10 s early-refresh margin, so that a fresh token
// is used for a few seconds before it counts as expired.
const accessTTL = "15s"

// TestReplicasRefreshOnceRedis: two BFF replicas (two servers, two bff
// instances, two app values, two Redis connections: nothing shared in
// memory) serve one session from Redis. A login started on one completes
// on the other. Twenty concurrent API calls spread over both, after the
// access token expired, cause exactly one refresh at the authorization
// server, all succeed, and the session survives: the rotated refresh
// token was used by both replicas (O21-4.3.2-a, BCP-4.14.2-b: a second
// refresh with the old token would have killed the grant; oauth2-proxy
// #1006/#1992).
func TestReplicasRefreshOnceRedis(t *testing.T) {
	w := newWorld(t, 2, "--access-token-ttl", accessTTL)
	var stores []client.TokenStore
	for range 2 {
		rdb, prefix := redistest.Client(t)
		if len(stores) > 0 {
			prefix = stores[0].(*redisstore.Store).Prefix()
		}
		s, err := redisstore.New(rdb, w.keys, redisstore.WithPrefix(prefix), redisstore.WithTTL(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	refreshOnce(t, w, stores)
}

// TestReplicasRefreshOncePostgres is the same on a client.SQLStore in
// PostgreSQL (127.0.0.1:5432, database test), two connection pools; its
// Lock is pg_advisory_lock.
func TestReplicasRefreshOncePostgres(t *testing.T) {
	dsn := os.Getenv("BFF_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	table := "bff_test_" + randomHex(t)[:12]
	var stores []client.TokenStore
	w := (*world)(nil)
	for i := range 2 {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.PingContext(t.Context()); err != nil {
			msg := "no PostgreSQL at " + dsn + ": " + err.Error()
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		if w == nil {
			w = newWorld(t, 2, "--access-token-ttl", accessTTL)
		}
		s, err := client.NewSQLStore(db, client.PostgreSQL, w.keys, client.WithTable(table))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _, _ = db.Exec(`DROP TABLE IF EXISTS ` + table) })
		}
		stores = append(stores, s)
	}
	refreshOnce(t, w, stores)
}

func refreshOnce(t *testing.T, w *world, stores []client.TokenStore) {
	a, b := w.start(t, 0, stores[0]), w.start(t, 1, stores[1])
	session := w.login(t, a, b)
	key := sessionKey(a.app, session)
	before, err := stores[0].Load(t.Context(), key)
	if err != nil {
		t.Fatalf("the session is not in the shared store: %v", err)
	}
	for _, r := range []*replica{a, b} {
		if code, body := call(t, r, session); code != 200 || !strings.Contains(body, `"subject"`) || !strings.Contains(body, `"cookies":0`) {
			t.Fatalf("first call through %s: %d %s", r.URL, code, body)
		}
	}
	// Wait for the access token to expire (the server's real clock).
	time.Sleep(time.Until(before.Expiry) + 500*time.Millisecond)
	n0 := w.counter.refreshes()

	var wg sync.WaitGroup
	codes := make([]int, 20)
	start := make(chan struct{})
	for i := range codes {
		r := []*replica{a, b}[i%2]
		wg.Go(func() {
			<-start
			codes[i], _ = call(t, r, session)
		})
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("call %d: status %d", i, c)
		}
	}
	if n := w.counter.refreshes() - n0; n != 1 {
		t.Fatalf("%d refreshes reached the server for 20 calls on 2 replicas, want exactly 1", n)
	}
	after, err := stores[1].Load(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if after.RefreshToken == before.RefreshToken || after.AccessToken == before.AccessToken {
		t.Fatal("the stored tokens were not rotated")
	}
	// The session survives: later calls on both replicas work.
	for _, r := range []*replica{b, a} {
		if code, body := call(t, r, session); code != 200 {
			t.Fatalf("later call through %s: %d %s", r.URL, code, body)
		}
	}
	if !w.s.Introspect(t, w.rsApp, after.AccessToken) {
		t.Fatal("the refreshed access token is not active")
	}
}
