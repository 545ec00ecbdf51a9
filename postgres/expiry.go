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
// Tokens, codes and device codes have a grant, which goes with the last of them.
var expiringTables = []struct {
	name     string
	hasGrant bool
}{{"tokens", true}, {"codes", true}, {"device_codes", true}, {"sessions", false}, {"devices", false}, {"attempts", false}}

// DeleteExpired deletes, in one transaction, at most limit rows of each
// expiring table whose expiry is at or before before, by primary key through
// the expires_at indexes, then the grants of the deleted tokens and codes
// that no token or code refers to any more, and returns how many it
// deleted. The batch skips rows that another transaction has locked (an
// exchange of an expired refresh token, another janitor): the janitor never
// waits, so it never deadlocks with them, and a later call takes the rows.
//
// A grant is deleted only when its every token and code expired (a grace
// before before, see oauth.SweepGrace), and nothing writes a token into
// such a grant: a code is redeemed and a refresh token exchanged only while
// unexpired, so no insert can race the delete. A grant whose row is locked
// (a revocation of that very grant at that moment) is skipped, as a token
// row is, and then stays: harmless, as it has no token left. One janitor
// runs at a time (Exclusive), so two never split a grant's last tokens.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, errors.New("postgres: delete expired: limit must be positive")
	}
	var total int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		total = 0
		var grants []int64
		for _, t := range expiringTables {
			query := `DELETE FROM ` + t.name + ` WHERE digest = ANY (ARRAY(
				SELECT digest FROM ` + t.name + ` WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`
			if !t.hasGrant {
				tag, err := tx.Exec(ctx, query, millis(before), limit)
				if err != nil {
					return err
				}
				total += tag.RowsAffected()
				continue
			}
			rows, err := tx.Query(ctx, query+` RETURNING grant_id`, millis(before), limit)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[*int64])
			if err != nil {
				return err
			}
			total += int64(len(ids))
			for _, id := range ids {
				if id != nil {
					grants = append(grants, *id)
				}
			}
		}
		if len(grants) == 0 {
			return nil
		}
		tag, err := tx.Exec(ctx, `DELETE FROM grants WHERE id = ANY (ARRAY(
			SELECT id FROM grants WHERE id = ANY ($1)
			AND NOT EXISTS (SELECT 1 FROM tokens WHERE tokens.grant_id = grants.id)
			AND NOT EXISTS (SELECT 1 FROM codes WHERE codes.grant_id = grants.id)
			AND NOT EXISTS (SELECT 1 FROM device_codes WHERE device_codes.grant_id = grants.id)
			FOR UPDATE SKIP LOCKED))`, grants)
		total += tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired: %w", err)
	}
	return int(total), nil
}
