package client

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// The SQLite lock's lease, renewed every sqliteLockRenew while held.
const (
	sqliteLockLease = 10 * time.Second
	sqliteLockRenew = sqliteLockLease / 4
	unlockTimeout   = 5 * time.Second
)

// Lock takes an exclusive lock on key that holds across processes and
// machines sharing the database until unlock is called (see SQLStore for
// how). It waits until the lock is free or ctx is done, and returns
// ctx.Err() in the second case.
func (s *SQLStore) Lock(ctx context.Context, key TokenKey) (unlock func(), err error) {
	h := sha256.Sum256(additionalData(key, "lock "+s.table, nil))
	if s.dialect == PostgreSQL {
		return s.lockPostgres(ctx, int64(binary.BigEndian.Uint64(h[:8])))
	}
	return s.lockSQLite(ctx, hex.EncodeToString(h[:]))
}

// lockPostgres takes pg_advisory_lock(id) on a connection of its own,
// which it keeps until unlock. A connection whose lock or unlock failed or
// was cancelled is closed, not returned to the pool: closing the session
// releases whatever it holds.
func (s *SQLStore) lockPostgres(ctx context.Context, id int64) (func(), error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, lockErr(ctx, err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
		discard(conn)
		return nil, lockErr(ctx, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
			defer cancel()
			if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, id); err != nil {
				discard(conn)
				return
			}
			conn.Close()
		})
	}, nil
}

// discard closes conn's driver connection instead of pooling it.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

func lockErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("client: lock the token: %w", err)
}

// lockSQLite takes the lock row of lockKey: it inserts the row, or takes
// it over when its lease has run out, polling while another holder has it.
// While held, a goroutine renews the lease; unlock stops it and deletes the
// row.
func (s *SQLStore) lockSQLite(ctx context.Context, lockKey string) (func(), error) {
	owner := make([]byte, 16)
	if _, err := rand.Read(owner); err != nil {
		return nil, err
	}
	wait := minLockPoll
	for {
		now := time.Now()
		res, err := s.db.ExecContext(ctx, `INSERT INTO `+s.table+`_locks (lock_key, owner, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (lock_key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
			WHERE `+s.table+`_locks.expires_at < ?`,
			lockKey, owner, now.Add(sqliteLockLease).UnixMilli(), now.UnixMilli())
		if err != nil {
			return nil, lockErr(ctx, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, maxLockPoll)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go s.renewSQLiteLock(lockKey, owner, stop, done)
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
			defer cancel()
			_, _ = s.db.ExecContext(ctx, `DELETE FROM `+s.table+`_locks WHERE lock_key = ? AND owner = ?`, lockKey, owner)
		})
	}, nil
}

func (s *SQLStore) renewSQLiteLock(lockKey string, owner []byte, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(sqliteLockRenew)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), sqliteLockRenew)
		_, _ = s.db.ExecContext(ctx, `UPDATE `+s.table+`_locks SET expires_at = ? WHERE lock_key = ? AND owner = ?`,
			time.Now().Add(sqliteLockLease).UnixMilli(), lockKey, owner)
		cancel()
	}
}
