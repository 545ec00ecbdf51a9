package sqlite

import (
	"database/sql"
	"os"
	"sync"
	"time"
)

// The checkpointer copies the WAL into the database file off the request
// path. SQLite's own checkpoint runs inside the commit that crosses
// wal_autocheckpoint pages, and its fsync of the database file is then
// that request's latency; the write connection runs with autocheckpoint
// off, and this goroutine checkpoints on a connection of its own instead:
// PASSIVE (never waits for readers or the writer) every checkpointEvery,
// which copies the bulk of the pages; and TRUNCATE (waits for the writer,
// blocking it briefly, then empties the file) once the WAL passes
// walLimitPages frames. Under a steady stream of writes a PASSIVE
// checkpoint never catches up with the last frame, so the WAL never starts
// over by itself; the TRUNCATE then has little left to copy, and its fsync
// is the only pause a writer sees, once per walLimitPages frames instead of
// SQLite's once per 1,000.

const (
	// checkpointEvery is how often the WAL's size is looked at (a stat).
	checkpointEvery = 10 * time.Millisecond
	// passiveBytes of new WAL start a PASSIVE checkpoint.
	passiveBytes = 1000 * 4096
	// walLimitBytes of WAL start a TRUNCATE.
	walLimitBytes = 4096 * 4096 // 16 MiB
)

// checkpointer checkpoints db's WAL until quit is closed.
type checkpointer struct {
	db    *sql.DB // a connection of its own, for PASSIVE
	write *sql.DB // the write pool's one connection, for TRUNCATE
	wal   string  // the WAL file's path
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func newCheckpointer(db, write *sql.DB, wal string) *checkpointer {
	c := &checkpointer{db: db, write: write, wal: wal, quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var last int64 // the WAL's size at the last checkpoint
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
		}
		fi, err := os.Stat(c.wal)
		if err != nil {
			continue
		}
		size := fi.Size()
		mode := ""
		switch {
		case size >= walLimitBytes:
			mode = "TRUNCATE"
		case size >= last+passiveBytes:
			mode = "PASSIVE"
		default:
			continue
		}
		// TRUNCATE runs on the write connection, between two writes: on a
		// connection of its own it would wait for the write lock, which a
		// busy writer takes again at once after every commit.
		db := c.db
		if mode == "TRUNCATE" {
			db = c.write
		}
		var busy, log, done int
		// A failure (SQLITE_BUSY) is tried again at the next tick.
		err = db.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &log, &done)
		if err == nil {
			last = size
			if mode == "TRUNCATE" && busy == 0 {
				last = 0
			}
		}
	}
}

func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.quit); <-c.done })
	return c.db.Close()
}
