package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// takeAttempt moves the bucket's theoretical arrival time (expires_at) one
// interval on from the later of itself and now, unless that would put it
// more than burst intervals ahead of now: then the bucket is empty and no
// row comes back. ON CONFLICT DO UPDATE locks the row and evaluates its
// WHERE against the latest committed version, so concurrent takers of one
// bucket queue on the row and each sees the others' takes.
const takeAttempt = `INSERT INTO attempts (digest, expires_at) VALUES ($1, $2::bigint + $3::bigint)
	ON CONFLICT (digest) DO UPDATE SET expires_at = GREATEST(attempts.expires_at, $2::bigint) + $3::bigint
	WHERE GREATEST(attempts.expires_at, $2::bigint) + $3::bigint <= $2::bigint + $4::bigint
	RETURNING expires_at`

// TakeAttempt takes one attempt from key's bucket; see gatehouse.Store.
func (s *Store) TakeAttempt(ctx context.Context, key []byte, now time.Time, every time.Duration, burst int) (bool, time.Duration, error) {
	if every <= 0 || burst < 1 {
		return false, 0, errors.New("postgres: take attempt: every must be positive and burst at least 1")
	}
	n, e := now.UnixMilli(), max(every.Milliseconds(), 1)
	var taken bool
	var wait time.Duration
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		taken, wait = false, 0
		var tat int64
		err := tx.QueryRow(ctx, takeAttempt, key, n, e, e*int64(burst)).Scan(&tat)
		if err == nil {
			taken = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT expires_at FROM attempts WHERE digest = $1`, key).Scan(&tat); err != nil {
			return err
		}
		// The next attempt fits when tat + e <= now + burst·e.
		wait = time.Duration(tat+e-e*int64(burst)-n) * time.Millisecond
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("postgres: take attempt: %w", mapErr(err))
	}
	if taken {
		return true, 0, nil
	}
	return false, max(wait, time.Millisecond), nil
}

// ReturnAttempt gives one attempt back to key's bucket; see gatehouse.Store.
func (s *Store) ReturnAttempt(ctx context.Context, key []byte, every time.Duration) error {
	if every <= 0 {
		return errors.New("postgres: return attempt: every must be positive")
	}
	if _, err := s.exec(ctx, `UPDATE attempts SET expires_at = expires_at - $1 WHERE digest = $2`,
		max(every.Milliseconds(), 1), key); err != nil {
		return fmt.Errorf("postgres: return attempt: %w", err)
	}
	return nil
}
