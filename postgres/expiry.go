package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// expiringTables are the tables whose rows the janitor deletes once they
// expire; each has the primary key digest and an index on expires_at.
var expiringTables = []string{"tokens", "codes", "sessions", "attempts"}

// DeleteExpired deletes, in one transaction, at most limit tokens, at most
// limit codes, at most limit sessions and at most limit attempt buckets whose
// expiry is at or before before,
// by primary key through the expires_at indexes, and returns how many it
// deleted. The batch skips rows that another transaction has locked (an
// exchange of an expired refresh token, another janitor): the janitor never
// waits, so it never deadlocks with them, and a later call takes the rows.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, errors.New("postgres: delete expired: limit must be positive")
	}
	var total int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		total = 0
		for _, table := range expiringTables {
			tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE digest = ANY (ARRAY(
				SELECT digest FROM `+table+` WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
				millis(before), limit)
			if err != nil {
				return err
			}
			total += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired: %w", err)
	}
	return int(total), nil
}
