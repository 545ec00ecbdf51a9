package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

const tokenColumns = `digest, kind, app_id, user_id, grant_id, scopes, issued_at, expires_at, revoked_at,
	parent, used_at`

// insertToken stores the token of tokenArgs, unless its grant is revoked:
// no token is ever written into a dead grant, even by a request that read
// the grant just before a concurrent revocation committed (writes are
// serialized, so the check and the insert see the same state).
const insertToken = `INSERT INTO tokens (` + tokenColumns + `) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
	WHERE NOT EXISTS (SELECT 1 FROM grants WHERE id = ? AND revoked_at IS NOT NULL)`

func scanToken(r scanner) (gatehouse.Token, error) {
	var t gatehouse.Token
	var userID, grantID, issued, expires, revoked, used sql.NullInt64
	var scopes string
	err := r.Scan(&t.Digest, &t.Kind, &t.AppID, &userID, &grantID, &scopes, &issued, &expires, &revoked,
		&t.Parent, &used)
	t.UserID, t.GrantID, t.Scopes = userID.Int64, grantID.Int64, splitScopes(scopes)
	t.IssuedAt, t.ExpiresAt, t.RevokedAt, t.UsedAt = timeOf(issued), timeOf(expires), timeOf(revoked), timeOf(used)
	return t, err
}

// tokenArgs are the values of insertToken for t.
func tokenArgs(t gatehouse.Token) []any {
	return []any{t.Digest, string(t.Kind), t.AppID, nullID(t.UserID), nullID(t.GrantID), joinScopes(t.Scopes),
		millis(t.IssuedAt), millis(t.ExpiresAt), millis(t.RevokedAt), nullBytes(t.Parent), millis(t.UsedAt), nullID(t.GrantID)}
}

// CreateToken stores a token. A taken digest is gatehouse.ErrAlreadyExists; a
// missing app, user or grant fails a foreign key and is gatehouse.ErrNotFound,
// and so is a revoked grant.
func (s *Store) CreateToken(ctx context.Context, t gatehouse.Token) error {
	n, err := s.write.exec(ctx, insertToken, tokenArgs(t)...)
	if err != nil {
		return fmt.Errorf("sqlite: create token: %w", mapErr(err))
	}
	if n == 0 {
		return fmt.Errorf("sqlite: create token: grant revoked: %w", gatehouse.ErrNotFound)
	}
	return nil
}

// insertTokenAt is insertToken, provided the generation is the one given
// after the token's values.
const insertTokenAt = insertToken + ` AND (SELECT value FROM generation) = ?`

// CreateTokenAt stores a token if the generation is still gen; see
// gatehouse.Store. It is one statement on the single write connection, so
// the check and the insert see the same state.
func (s *Store) CreateTokenAt(ctx context.Context, t gatehouse.Token, gen int64) error {
	n, err := s.write.exec(ctx, insertTokenAt, append(tokenArgs(t), gen)...)
	if err != nil {
		return fmt.Errorf("sqlite: create token: %w", mapErr(err))
	}
	if n == 1 {
		return nil
	}
	// Nothing was inserted: a revoked grant, or a newer generation. The
	// generation only grows, so if it is gen now, it was gen then.
	now, err := s.Generation(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("sqlite: create token: %w", err)
	case now != gen:
		return fmt.Errorf("sqlite: create token: %w", gatehouse.ErrStale)
	}
	return fmt.Errorf("sqlite: create token: grant revoked: %w", gatehouse.ErrNotFound)
}

// GetTokenAt returns the token with that digest and the generation, in one
// statement (one read snapshot); see gatehouse.Store.
func (s *Store) GetTokenAt(ctx context.Context, digest []byte) (gatehouse.Token, int64, error) {
	var gen int64
	var found sql.NullBool
	t, err := one(ctx, s.read, func(r scanner) (gatehouse.Token, error) {
		return scanTokenOrNull(r, &gen, &found)
	}, getTokenAt, digest)
	if err != nil {
		return gatehouse.Token{}, 0, fmt.Errorf("sqlite: get token: %w", err)
	}
	if !found.Bool {
		return gatehouse.Token{}, gen, fmt.Errorf("sqlite: get token: %w", gatehouse.ErrNotFound)
	}
	return t, gen, nil
}

// getTokenAt reads the generation and the token, if any, in one statement:
// generation has exactly one row.
var getTokenAt = `SELECT g.value, t.digest IS NOT NULL, ` + prefixed("t.", tokenColumns) +
	` FROM generation g LEFT JOIN tokens t ON t.digest = ?`

// scanTokenOrNull scans the generation, whether a token was found, and the
// token's columns, which are NULL when it was not.
func scanTokenOrNull(r scanner, gen *int64, found *sql.NullBool) (gatehouse.Token, error) {
	var t gatehouse.Token
	var kind sql.NullString
	var appID, userID, grantID, issued, expires, revoked, used sql.NullInt64
	var scopes sql.NullString
	err := r.Scan(gen, found, &t.Digest, &kind, &appID, &userID, &grantID, &scopes, &issued, &expires, &revoked,
		&t.Parent, &used)
	t.Kind, t.AppID = gatehouse.TokenKind(kind.String), appID.Int64
	t.UserID, t.GrantID, t.Scopes = userID.Int64, grantID.Int64, splitScopes(scopes.String)
	t.IssuedAt, t.ExpiresAt, t.RevokedAt, t.UsedAt = timeOf(issued), timeOf(expires), timeOf(revoked), timeOf(used)
	return t, err
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// GetToken returns the token with that digest, revoked and expired ones
// included, or gatehouse.ErrNotFound.
func (s *Store) GetToken(ctx context.Context, digest []byte) (gatehouse.Token, error) {
	t, err := one(ctx, s.read, scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE digest = ?`, digest)
	if err != nil {
		return gatehouse.Token{}, fmt.Errorf("sqlite: get token: %w", err)
	}
	return t, nil
}

// RevokeToken marks the token revoked at at unless it was revoked before, or
// returns gatehouse.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, digest []byte, at time.Time) error {
	err := requireTime(at)
	if err == nil {
		var n int64
		n, err = s.write.exec(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE digest = ?`,
			millis(at), digest)
		if err == nil && n == 0 {
			err = gatehouse.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: revoke token: %w", err)
	}
	return nil
}

// RevokeAppTokens marks every unrevoked token of the app revoked at at and
// returns how many it revoked.
func (s *Store) RevokeAppTokens(ctx context.Context, appID int64, at time.Time) (int64, error) {
	if err := requireTime(at); err != nil {
		return 0, fmt.Errorf("sqlite: revoke app tokens: %w", err)
	}
	n, err := s.write.exec(ctx, `UPDATE tokens SET revoked_at = ? WHERE app_id = ? AND revoked_at IS NULL`,
		millis(at), appID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: revoke app tokens: %w", err)
	}
	return n, nil
}
