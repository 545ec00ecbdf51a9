package sqlite

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The write connection never checkpoints (wal_autocheckpoint is off, so no
// request pays for a checkpoint's fsync); the checkpointer does, in the
// background: after 20,000 commits, which without any checkpoint would
// leave some 160 MiB of WAL, the WAL stays small and the pages reached the
// database file.
func TestCheckpointsRunOffTheRequestPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	app, err := s.CreateApp(t.Context(), gatehouse.App{ClientID: "svc", Name: "Svc", Type: gatehouse.Confidential})
	if err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := s.write.db.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("the write connection's wal_autocheckpoint is %d (%v), want 0", auto, err)
	}
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size(path)
	var maxWAL int64
	for i := range 20_000 {
		d := make([]byte, 32)
		_, _ = rand.Read(d)
		err := s.CreateToken(t.Context(), gatehouse.Token{Digest: d, Kind: gatehouse.AccessToken, AppID: app.ID,
			IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 {
			maxWAL = max(maxWAL, size(path+"-wal"))
		}
	}
	time.Sleep(2 * checkpointEvery)
	maxWAL = max(maxWAL, size(path+"-wal"))
	if maxWAL > 32<<20 {
		t.Errorf("the WAL grew to %d MiB: the checkpointer did not keep up", maxWAL>>20)
	}
	if after := size(path); after < before+(1<<20) {
		t.Errorf("the database file grew from %d to %d bytes: no checkpoint copied the pages", before, after)
	}
	t.Logf("WAL at most %.1f MiB; database file %.1f MiB", float64(maxWAL)/(1<<20), float64(size(path))/(1<<20))
}
