package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// expiringTables are the tables whose rows the janitor deletes once they
// expire; each has the primary key digest and an index on expires_at.
// Tokens, codes and device codes have a grant, which goes with the last of them.
var expiringTables = []struct {
	name     string
	hasGrant bool
}{{"tokens", true}, {"codes", true}, {"device_codes", true}, {"sessions", false}, {"devices", false}, {"attempts", false}}

// DeleteExpired deletes, in one transaction, at most limit rows of each
// expiring table whose expiry is at or before before, by digest through the
// expires_at indexes, then the grants of the deleted tokens and codes that
// no token or code refers to any more, and returns how many it deleted.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		// SQLite reads a negative LIMIT as no limit at all.
		return 0, errors.New("sqlite: delete expired: limit must be positive")
	}
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		grants := map[int64]bool{}
		for _, t := range expiringTables {
			n, err := deleteExpiredRows(ctx, tx, t.name, t.hasGrant, before, limit, grants)
			if err != nil {
				return err
			}
			total += n
		}
		n, err := deleteOrphanGrants(ctx, tx, grants)
		total += n
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired: %w", err)
	}
	return int(total), nil
}

// deleteExpiredRows deletes at most limit expired rows of table and, when
// the table has a grant, adds the grants of the deleted rows to grants.
func deleteExpiredRows(ctx context.Context, tx *sql.Tx, table string, hasGrant bool, before time.Time, limit int, grants map[int64]bool) (int64, error) {
	query := `DELETE FROM ` + table + ` WHERE digest IN
		(SELECT digest FROM ` + table + ` WHERE expires_at <= ? LIMIT ?)`
	if !hasGrant {
		return execTx(ctx, tx, query, millis(before), limit)
	}
	rows, err := tx.QueryContext(ctx, query+` RETURNING grant_id`, millis(before), limit)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var g sql.NullInt64
		if err := rows.Scan(&g); err != nil {
			return n, err
		}
		n++
		if g.Valid {
			grants[g.Int64] = true
		}
	}
	return n, rows.Err()
}

// deleteOrphanGrants deletes those of grants that no token or code refers
// to.
func deleteOrphanGrants(ctx context.Context, tx *sql.Tx, grants map[int64]bool) (int64, error) {
	if len(grants) == 0 {
		return 0, nil
	}
	args := make([]any, 0, len(grants))
	for id := range grants {
		args = append(args, id)
	}
	return execTx(ctx, tx, `DELETE FROM grants WHERE id IN (`+strings.TrimSuffix(strings.Repeat(`?, `, len(args)), `, `)+`)
		AND NOT EXISTS (SELECT 1 FROM tokens WHERE tokens.grant_id = grants.id)
		AND NOT EXISTS (SELECT 1 FROM codes WHERE codes.grant_id = grants.id)
		AND NOT EXISTS (SELECT 1 FROM device_codes WHERE device_codes.grant_id = grants.id)`, args...)
}
