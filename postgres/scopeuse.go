package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

// TouchScopes records that the app used scopes at at, in one statement: an
// upsert of one row per scope that keeps the later time (GREATEST), so
// concurrent touches leave the latest. The scopes are deduplicated first:
// one INSERT … ON CONFLICT may not update a row twice. A missing app fails
// a foreign key and is gatehouse.ErrNotFound. It is idempotent, so it runs
// again after a lost connection.
func (s *Store) TouchScopes(ctx context.Context, appID int64, scopes []string, at time.Time) error {
	err := requireTime(at)
	if err == nil && len(scopes) > 0 {
		_, err = s.execIdempotent(ctx, `INSERT INTO scope_use (app_id, scope, last_used_at)
			SELECT $1, sc, $3 FROM unnest($2::text[]) AS sc
			ON CONFLICT (app_id, scope) DO UPDATE SET last_used_at = GREATEST(scope_use.last_used_at, EXCLUDED.last_used_at)`,
			appID, slices.Compact(slices.Sorted(slices.Values(scopes))), millis(at))
	}
	if err != nil {
		return fmt.Errorf("postgres: touch scopes: %w", err)
	}
	return nil
}

// ListScopeUse returns the recorded uses of the app's scopes, by scope
// (byte order, as SQLite sorts).
func (s *Store) ListScopeUse(ctx context.Context, appID int64) ([]gatehouse.ScopeUse, error) {
	us, err := readAll(ctx, s, func(r pgx.Row) (gatehouse.ScopeUse, error) {
		var u gatehouse.ScopeUse
		var last *int64
		err := r.Scan(&u.AppID, &u.Scope, &last)
		u.LastUsedAt = timeOf(last)
		return u, err
	}, `SELECT app_id, scope, last_used_at FROM scope_use WHERE app_id = $1 ORDER BY scope COLLATE "C"`, appID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list scope use: %w", err)
	}
	return us, nil
}

// CountIdleRefreshTokens counts the app's live refresh tokens that were
// never exchanged and were issued before issuedBefore.
func (s *Store) CountIdleRefreshTokens(ctx context.Context, appID int64, issuedBefore, now time.Time) (int64, error) {
	n, err := readOne(ctx, s, func(r pgx.Row) (int64, error) {
		var n int64
		err := r.Scan(&n)
		return n, err
	}, `SELECT count(*) FROM tokens
		WHERE app_id = $1 AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL
		AND expires_at > $2 AND issued_at < $3`, appID, millis(now), millis(issuedBefore))
	if err != nil {
		return 0, fmt.Errorf("postgres: count idle refresh tokens: %w", err)
	}
	return n, nil
}
