package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/store/storetest"
)

func TestStoreFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.Store {
		return open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	})
}

func TestStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.Store { return open(t, sqlite.Memory) })
}

// open opens and migrates a store that is closed when the test ends.
func open(t testing.TB, dsn string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}
