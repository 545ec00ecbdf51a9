package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

// RotateRefreshToken exchanges the refresh token old in one READ COMMITTED
// transaction: it locks old's grant, marks old used (or, for a retry,
// revokes the successors of old) and stores next. If an insert of next
// fails, nothing changes; its error is mapped as CreateToken's.
//
// Locks, always taken in this order, which is also RevokeGrant's (grant,
// then tokens), so that the two never deadlock:
//  1. old's grant, FOR SHARE: no revocation of the grant commits while the
//     exchange runs, so the check that the grant is live holds until the
//     commit, and the inserts of next (which lock it again) succeed;
//  2. old's row: the UPDATE that marks it used, or SELECT … FOR UPDATE for a
//     retry. Exchanges of one token queue here; each re-reads the row the
//     one before committed, so exactly one marks an unused token used;
//  3. for a retry, the successors of old, by the UPDATE that revokes them,
//     which waits for a concurrent exchange of a successor and returns the
//     successor as that exchange left it.
//
// A deadlock with another writer (DeleteApp, RevokeAppTokens) is possible;
// PostgreSQL aborts one of them and inTx runs the exchange again.
func (s *Store) RotateRefreshToken(ctx context.Context, old []byte, at time.Time, retry bool, next []gatehouse.Token) (gatehouse.Token, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.Token{}, fmt.Errorf("postgres: rotate refresh token: %w", err)
	}
	var t gatehouse.Token
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = exchange(ctx, tx, old, at, retry)
		if err != nil {
			return err
		}
		for _, n := range next {
			if err := insertToken(ctx, tx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, gatehouse.ErrAlreadyUsed) {
		return t, fmt.Errorf("postgres: rotate refresh token: %w", err)
	}
	if err != nil {
		return gatehouse.Token{}, fmt.Errorf("postgres: rotate refresh token: %w", err)
	}
	return t, nil
}

// exchange locks old's grant and marks old used, or retried.
func exchange(ctx context.Context, tx pgx.Tx, old []byte, at time.Time, retry bool) (gatehouse.Token, error) {
	grantRevoked, err := lockGrantOf(ctx, tx, old)
	if err != nil {
		return gatehouse.Token{}, err
	}
	if retry {
		return markRetried(ctx, tx, old, at, grantRevoked)
	}
	return markUsed(ctx, tx, old, at, grantRevoked)
}

// lockGrantOf locks the grant of the token old FOR SHARE and reports whether
// it is revoked. It reports false when old does not exist or has no grant,
// which the next steps tell apart.
func lockGrantOf(ctx context.Context, tx pgx.Tx, old []byte) (bool, error) {
	var revoked bool
	err := tx.QueryRow(ctx, `SELECT g.revoked_at IS NOT NULL FROM tokens t JOIN grants g ON g.id = t.grant_id
		WHERE t.digest = $1 FOR SHARE OF g`, old).Scan(&revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return revoked, err
}

// markUsedSQL marks an unused, unrevoked token used.
const markUsedSQL = `UPDATE tokens SET used_at = $1 WHERE digest = $2 AND used_at IS NULL AND revoked_at IS NULL
	RETURNING ` + tokenColumns

// markUsed marks old used at at with one conditional UPDATE … RETURNING, so
// that of many concurrent exchanges exactly one gets the row. When none
// does, or the grant is revoked, old is missing (gatehouse.ErrNotFound) or
// used or revoked (gatehouse.ErrAlreadyUsed, with old as stored, read in a
// new snapshot that has the winner's commit).
func markUsed(ctx context.Context, tx pgx.Tx, old []byte, at time.Time, grantRevoked bool) (gatehouse.Token, error) {
	if !grantRevoked {
		t, err := one(ctx, tx, scanToken, markUsedSQL, millis(at), old)
		if !errors.Is(err, gatehouse.ErrNotFound) {
			return t, err
		}
	}
	t, err := one(ctx, tx, scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE digest = $1`, old)
	if err != nil {
		return gatehouse.Token{}, err
	}
	return t, gatehouse.ErrAlreadyUsed
}

// markRetried allows a retried exchange of old only if old was used, is not
// revoked, its grant is live and no successor of old (a refresh token whose
// parent is old) was used; it then revokes every successor of old, refresh
// and access, at at, keeping earlier revocation times. Otherwise it returns
// gatehouse.ErrAlreadyUsed with old as stored, or gatehouse.ErrNotFound.
//
// old is locked FOR UPDATE first, so retries of one token run one after
// the other, and each sees (in the new snapshot of its next statement) the
// successors that the one before stored, and revokes them: one family stays
// live. The revoking UPDATE returns each successor as the last committed
// exchange of it left it; if one was used, the transaction is rolled back
// and the revocations with it.
func markRetried(ctx context.Context, tx pgx.Tx, old []byte, at time.Time, grantRevoked bool) (gatehouse.Token, error) {
	t, err := one(ctx, tx, scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE digest = $1 FOR UPDATE`, old)
	if err != nil {
		return gatehouse.Token{}, err
	}
	if t.UsedAt.IsZero() || !t.RevokedAt.IsZero() || grantRevoked {
		return t, gatehouse.ErrAlreadyUsed
	}
	rows, err := tx.Query(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE parent = $2
		RETURNING kind = $3 AND used_at IS NOT NULL`, millis(at), old, string(gatehouse.RefreshToken))
	if err != nil {
		return gatehouse.Token{}, err
	}
	used, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		return gatehouse.Token{}, err
	}
	for _, u := range used {
		if u {
			return t, gatehouse.ErrAlreadyUsed
		}
	}
	return t, nil
}
