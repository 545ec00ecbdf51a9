package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
)

// touchScopes upserts one row per scope of the JSON array ?2, keeping the
// later time. One constant statement, however many scopes: the statement
// cache stays bounded. (WHERE true: SQLite reads "SELECT … FROM t ON" as
// a join without it.)
const touchScopes = `INSERT INTO scope_use (app_id, scope, last_used_at)
	SELECT ?1, value, ?3 FROM json_each(?2) WHERE true
	ON CONFLICT (app_id, scope) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at)`

// TouchScopes records that the app used scopes at at, in one statement; a
// missing app fails a foreign key and is gatehouse.ErrNotFound.
func (s *Store) TouchScopes(ctx context.Context, appID int64, scopes []string, at time.Time) error {
	if err := requireTime(at); err != nil {
		return fmt.Errorf("sqlite: touch scopes: %w", err)
	}
	if len(scopes) == 0 {
		return nil
	}
	list, err := json.Marshal(slices.Compact(slices.Sorted(slices.Values(scopes))))
	if err != nil {
		return fmt.Errorf("sqlite: touch scopes: %w", err)
	}
	if _, err := s.write.exec(ctx, touchScopes, appID, string(list), millis(at)); err != nil {
		return fmt.Errorf("sqlite: touch scopes: %w", mapErr(err))
	}
	return nil
}

// ListScopeUse returns the recorded uses of the app's scopes, by scope.
func (s *Store) ListScopeUse(ctx context.Context, appID int64) ([]gatehouse.ScopeUse, error) {
	us, err := all(ctx, s.read, func(r scanner) (gatehouse.ScopeUse, error) {
		var u gatehouse.ScopeUse
		var last sql.NullInt64
		err := r.Scan(&u.AppID, &u.Scope, &last)
		u.LastUsedAt = timeOf(last)
		return u, err
	}, `SELECT app_id, scope, last_used_at FROM scope_use WHERE app_id = ? ORDER BY scope`, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list scope use: %w", err)
	}
	return us, nil
}

// CountIdleRefreshTokens counts the app's live refresh tokens that were
// never exchanged and were issued before issuedBefore.
func (s *Store) CountIdleRefreshTokens(ctx context.Context, appID int64, issuedBefore, now time.Time) (int64, error) {
	n, err := one(ctx, s.read, scanID, `SELECT count(*) FROM tokens
		WHERE app_id = ? AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL
		AND expires_at > ? AND issued_at < ?`, appID, millis(now), millis(issuedBefore))
	if err != nil {
		return 0, fmt.Errorf("sqlite: count idle refresh tokens: %w", err)
	}
	return n, nil
}
