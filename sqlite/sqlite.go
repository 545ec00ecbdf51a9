package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gatehouse/gatehouse"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Memory is the DSN of an in-memory database. Each Open of it creates a
// distinct database, which lives until the Store is closed.
const Memory = ":memory:"

// busyTimeoutMS bounds how long a connection waits for a lock held by another
// process (or by a checkpoint) before it fails with SQLITE_BUSY. Writers of
// this process never wait on each other in SQLite: they queue in Go for the
// single write connection.
const busyTimeoutMS = "5000"

// Store is a gatehouse.Store on SQLite. It is safe for concurrent use.
type Store struct {
	// write has one connection: every write, and every read that decides a
	// write, runs on it, so writers never contend for SQLite's lock.
	write *pool
	// read serves plain reads. For a file it is a separate pool of read-only
	// connections, which WAL lets run beside the writer; for an in-memory
	// database it is the write pool.
	read *pool
	// cp checkpoints the WAL off the request path; nil in memory.
	cp *checkpointer
	// keep holds an in-memory database open: memdb frees it with its last
	// connection, and database/sql may discard a pooled connection. Nil for a
	// file.
	keep *sql.DB
}

var _ gatehouse.Store = (*Store)(nil)

// Open opens the database dsn: the path of a file, which is created if it does
// not exist, or Memory. It does not migrate the schema; call Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	switch {
	case dsn == "":
		return nil, errors.New("sqlite: open: empty dsn")
	case dsn == Memory:
		return openMemory(ctx)
	}
	return openFile(ctx, dsn)
}

// connParams are the settings of every connection. foreign_keys is off by
// default in SQLite and must be set on each connection.
func connParams() url.Values {
	return url.Values{
		"_foreign_keys": {"1"},
		"_busy_timeout": {busyTimeoutMS},
	}
}

// openFile opens a file database with one write connection and a pool of
// read-only connections.
//
// Durability: WAL mode with synchronous=NORMAL syncs the WAL at checkpoints,
// not at every commit. A committed transaction is in the WAL file (in the OS
// page cache) when the commit returns, so it survives a crash of the process,
// SIGKILL included; only a power loss or an OS crash can roll back the last
// commits, and it never corrupts the database.
func openFile(ctx context.Context, path string) (*Store, error) {
	wp := connParams()
	wp.Set("_journal_mode", "WAL")
	wp.Set("_synchronous", "NORMAL")
	wp.Set("_txlock", "immediate")             // BEGIN IMMEDIATE: take the write lock up front
	wp.Add("_pragma", "wal_autocheckpoint(0)") // the checkpointer does it, off the request path
	wp.Add("_pragma", "cache_size(-32768)")    // 32 MiB: the B-trees' inner pages stay cached
	write, err := openPool(ctx, fileURI(path, wp), 1)
	if err != nil {
		return nil, err
	}
	if err := checkWAL(ctx, write); err != nil {
		return nil, errors.Join(err, write.Close())
	}
	rp := connParams()
	rp.Set("_synchronous", "NORMAL")
	rp.Set("_query_only", "1")
	rp.Add("_pragma", "cache_size(-8192)")
	read, err := openPool(ctx, fileURI(path, rp), max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		return nil, errors.Join(err, write.Close())
	}
	cp, err := openPool(ctx, fileURI(path, connParams()), 1)
	if err != nil {
		return nil, errors.Join(err, read.Close(), write.Close())
	}
	return &Store{write: newPool(write), read: newPool(read), cp: newCheckpointer(cp, write, path+"-wal")}, nil
}

// openMemory opens a new in-memory database on the memdb VFS, where every
// connection to the same name shares one database. It uses one connection for
// reads and writes: memdb has no WAL, so a separate reader would block the
// writer.
func openMemory(ctx context.Context) (*Store, error) {
	p := connParams()
	p.Set("vfs", "memdb")
	p.Set("_txlock", "immediate")
	uri := "file:/gatehouse-" + rand.Text() + "?" + p.Encode()
	keep, err := openPool(ctx, uri, 1)
	if err != nil {
		return nil, err
	}
	db, err := openPool(ctx, uri, 1)
	if err != nil {
		return nil, errors.Join(err, keep.Close())
	}
	p1 := newPool(db)
	return &Store{write: p1, read: p1, keep: keep}, nil
}

// fileURI returns the SQLite URI of a file path with the given parameters.
func fileURI(path string, params url.Values) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	path = filepath.ToSlash(path)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // a Windows drive letter
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: params.Encode()}
	return u.String()
}

// openPool opens a pool of at most n connections that are never closed for
// age or idleness, and checks that it connects.
func openPool(ctx context.Context, uri string, n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open: %w", err), db.Close())
	}
	return db, nil
}

// checkWAL fails if the database is not in WAL mode, on which the read pool
// and the durability argument of openFile rely.
func checkWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open: journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: open: journal mode is %q, not wal", mode)
	}
	return nil
}

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.read.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the pools. The read pool closes first, so that the write
// connection is the last one and checkpoints the WAL.
func (s *Store) Close() error {
	var errs []error
	if s.cp != nil {
		errs = append(errs, s.cp.close())
	}
	if s.read != s.write {
		errs = append(errs, s.read.close())
	}
	errs = append(errs, s.write.close())
	if s.keep != nil {
		errs = append(errs, s.keep.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}
