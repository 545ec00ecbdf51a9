package postgres_test

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// TestMigrateConcurrently: five processes that start at once on one fresh
// schema all migrate it without an error, and the migrations are applied
// once.
func TestMigrateConcurrently(t *testing.T) {
	const n = 5
	dsn := pgtest.WithParam(pgtest.DSN(t), "pool_max_conns", "2")
	stores := make([]*postgres.Store, n)
	for i := range stores {
		s, err := postgres.Open(t.Context(), dsn)
		must(t, err)
		t.Cleanup(func() { must(t, s.Close()) })
		stores[i] = s
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, s := range stores {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	rows, err := stores[0].Pool().Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	must(t, err)
	var versions []int
	for rows.Next() {
		var v int
		must(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	must(t, rows.Err())
	files, err := os.ReadDir("migrations")
	must(t, err)
	var want []int // the numbers of the files, which follow SQLite's
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(f.Name(), "_", 2)[0])
		must(t, err)
		want = append(want, v)
	}
	if !slices.Equal(versions, want) {
		t.Fatalf("schema_migrations has versions %v, want %v (one per file of migrations/)", versions, want)
	}
	g, err := stores[n-1].Generation(t.Context())
	must(t, err)
	if g != 0 {
		t.Fatalf("generation of a fresh schema = %d, want 0", g)
	}
}

// TestMigrateRefusesNewerSchema: a schema migrated by a newer binary is an
// error, not a silent downgrade.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	s := pgtest.Open(t)
	_, err := s.Pool().Exec(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`)
	must(t, err)
	if err := s.Migrate(t.Context()); err == nil {
		t.Fatal("Migrate accepted a schema at version 9999")
	}
}
