package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

const tokenColumns = `digest, kind, app_id, user_id, grant_id, scopes, issued_at, expires_at, revoked_at`

func scanToken(r scanner) (gatehouse.Token, error) {
	var t gatehouse.Token
	var userID, grantID, issued, expires, revoked sql.NullInt64
	var scopes string
	err := r.Scan(&t.Digest, &t.Kind, &t.AppID, &userID, &grantID, &scopes, &issued, &expires, &revoked)
	t.UserID, t.GrantID, t.Scopes = userID.Int64, grantID.Int64, splitScopes(scopes)
	t.IssuedAt, t.ExpiresAt, t.RevokedAt = timeOf(issued), timeOf(expires), timeOf(revoked)
	return t, err
}

// CreateToken stores a token. A taken digest is gatehouse.ErrAlreadyExists; a
// missing app, user or grant fails a foreign key and is gatehouse.ErrNotFound.
func (s *Store) CreateToken(ctx context.Context, t gatehouse.Token) error {
	_, err := s.write.exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Digest, string(t.Kind), t.AppID, nullID(t.UserID), nullID(t.GrantID), joinScopes(t.Scopes),
		millis(t.IssuedAt), millis(t.ExpiresAt), millis(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create token: %w", mapErr(err))
	}
	return nil
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

// DeleteExpired deletes, in one transaction, at most limit tokens and at most
// limit codes whose expiry is at or before before, by rowid through the
// expires_at indexes, and returns how many it deleted.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		// SQLite reads a negative LIMIT as no limit at all.
		return 0, errors.New("sqlite: delete expired: limit must be positive")
	}
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"tokens", "codes"} {
			n, err := execTx(ctx, tx, `DELETE FROM `+table+` WHERE rowid IN
				(SELECT rowid FROM `+table+` WHERE expires_at <= ? LIMIT ?)`, millis(before), limit)
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
