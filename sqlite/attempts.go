package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// takeAttempt moves the bucket's theoretical arrival time (expires_at) one
// interval on from the later of itself and now, unless that would put it
// more than burst intervals ahead of now: then the bucket is empty and the
// row is left as it is (no row comes back).
const takeAttempt = `INSERT INTO attempts (digest, expires_at) VALUES (?1, ?2 + ?3)
	ON CONFLICT (digest) DO UPDATE SET expires_at = max(expires_at, ?2) + ?3
	WHERE max(expires_at, ?2) + ?3 <= ?2 + ?4
	RETURNING expires_at`

// TakeAttempt takes one attempt from key's bucket; see gatehouse.Store.
func (s *Store) TakeAttempt(ctx context.Context, key []byte, now time.Time, every time.Duration, burst int) (bool, time.Duration, error) {
	if every <= 0 || burst < 1 {
		return false, 0, errors.New("sqlite: take attempt: every must be positive and burst at least 1")
	}
	n, e := now.UnixMilli(), max(every.Milliseconds(), 1)
	var taken bool
	var wait time.Duration
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var tat int64
		err := tx.QueryRowContext(ctx, takeAttempt, key, n, e, e*int64(burst)).Scan(&tat)
		if err == nil {
			taken = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT expires_at FROM attempts WHERE digest = ?`, key).Scan(&tat); err != nil {
			return err
		}
		// The next attempt fits when tat + e <= now + burst·e.
		wait = time.Duration(tat+e-e*int64(burst)-n) * time.Millisecond
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("sqlite: take attempt: %w", mapErr(err))
	}
	if taken {
		return true, 0, nil
	}
	return false, max(wait, time.Millisecond), nil
}

// ReturnAttempt gives one attempt back to key's bucket; see gatehouse.Store.
func (s *Store) ReturnAttempt(ctx context.Context, key []byte, every time.Duration) error {
	if every <= 0 {
		return errors.New("sqlite: return attempt: every must be positive")
	}
	if _, err := s.write.exec(ctx, `UPDATE attempts SET expires_at = expires_at - ? WHERE digest = ?`,
		max(every.Milliseconds(), 1), key); err != nil {
		return fmt.Errorf("sqlite: return attempt: %w", mapErr(err))
	}
	return nil
}
