package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

const codeColumns = `digest, app_id, user_id, grant_id, redirect_uri, scopes, challenge, created_at, expires_at, used_at`

func scanCode(r scanner) (gatehouse.Code, error) {
	var c gatehouse.Code
	var userID, grantID, created, expires, used sql.NullInt64
	var scopes string
	err := r.Scan(&c.Digest, &c.AppID, &userID, &grantID, &c.RedirectURI, &scopes, &c.Challenge,
		&created, &expires, &used)
	c.UserID, c.GrantID, c.Scopes = userID.Int64, grantID.Int64, splitScopes(scopes)
	c.CreatedAt, c.ExpiresAt, c.UsedAt = timeOf(created), timeOf(expires), timeOf(used)
	return c, err
}

// CreateCode stores an authorization code. A taken digest is
// gatehouse.ErrAlreadyExists; a missing app, user or grant fails a foreign key
// and is gatehouse.ErrNotFound.
func (s *Store) CreateCode(ctx context.Context, c gatehouse.Code) error {
	_, err := s.write.exec(ctx, createCodeSQL, codeArgs(c)...)
	if err != nil {
		return fmt.Errorf("sqlite: create code: %w", mapErr(err))
	}
	return nil
}

// createCodeSQL stores a code; its arguments are codeArgs.
const createCodeSQL = `INSERT INTO codes (` + codeColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func codeArgs(c gatehouse.Code) []any {
	return []any{c.Digest, c.AppID, nullID(c.UserID), nullID(c.GrantID), c.RedirectURI, joinScopes(c.Scopes),
		c.Challenge, millis(c.CreatedAt), millis(c.ExpiresAt), millis(c.UsedAt)}
}

// GetCode returns the code with that digest, or gatehouse.ErrNotFound.
func (s *Store) GetCode(ctx context.Context, digest []byte) (gatehouse.Code, error) {
	c, err := one(ctx, s.read, scanCode, `SELECT `+codeColumns+` FROM codes WHERE digest = ?`, digest)
	if err != nil {
		return gatehouse.Code{}, fmt.Errorf("sqlite: get code: %w", err)
	}
	return c, nil
}

// consumeCodeSQL marks an unused code used and returns it.
const consumeCodeSQL = `UPDATE codes SET used_at = ? WHERE digest = ? AND used_at IS NULL RETURNING ` + codeColumns

// ConsumeCode marks the code used at at and returns it; see RedeemCode.
func (s *Store) ConsumeCode(ctx context.Context, digest []byte, at time.Time) (gatehouse.Code, error) {
	return s.redeem(ctx, "consume code", digest, at, nil)
}

// RedeemCode marks the code used at at, stores next and returns the code,
// in one write transaction. The mark is one conditional UPDATE … RETURNING,
// so exactly one of many concurrent callers gets the row; the others read
// the code as stored and get gatehouse.ErrAlreadyUsed with it. An insert of
// next that fails (a revoked grant) rolls the mark back: nothing changes.
func (s *Store) RedeemCode(ctx context.Context, digest []byte, at time.Time, next []gatehouse.Token) (gatehouse.Code, error) {
	return s.redeem(ctx, "redeem code", digest, at, next)
}

// redeem is RedeemCode, with op naming the operation in its errors.
func (s *Store) redeem(ctx context.Context, op string, digest []byte, at time.Time, next []gatehouse.Token) (gatehouse.Code, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.Code{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	sts, err := s.write.prepared(ctx, consumeCodeSQL, insertToken)
	if err != nil {
		return gatehouse.Code{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	var c gatehouse.Code
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = one(ctx, stmtQuerier{tx.StmtContext(ctx, sts[0])}, scanCode, "", millis(at), digest)
		if err == nil {
			return insertTokens(ctx, tx.StmtContext(ctx, sts[1]), next)
		}
		if !errors.Is(err, gatehouse.ErrNotFound) {
			return err
		}
		c, err = one(ctx, txQuerier{tx}, scanCode, `SELECT `+codeColumns+` FROM codes WHERE digest = ?`, digest)
		if err != nil {
			return err
		}
		return gatehouse.ErrAlreadyUsed
	})
	if errors.Is(err, gatehouse.ErrAlreadyUsed) {
		return c, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err != nil {
		return gatehouse.Code{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return c, nil
}
