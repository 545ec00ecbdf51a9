package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// expiringTables are the tables whose rows the janitor deletes once they
// expire; each has the primary key digest and an index on expires_at.
var expiringTables = []string{"tokens", "codes", "sessions", "attempts"}

// DeleteExpired deletes, in one transaction, at most limit tokens, at most
// limit codes, at most limit sessions and at most limit attempt buckets whose
// expiry is at or before before,
// by digest through the expires_at indexes, and returns how many it deleted.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		// SQLite reads a negative LIMIT as no limit at all.
		return 0, errors.New("sqlite: delete expired: limit must be positive")
	}
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range expiringTables {
			n, err := execTx(ctx, tx, `DELETE FROM `+table+` WHERE digest IN
				(SELECT digest FROM `+table+` WHERE expires_at <= ? LIMIT ?)`, millis(before), limit)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired: %w", err)
	}
	return int(total), nil
}
