package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const codeColumns = `digest, app_id, user_id, grant_id, redirect_uri, scopes, challenge, created_at, expires_at, used_at`

func scanCode(r pgx.Row) (gatehouse.Code, error) {
	var c gatehouse.Code
	var userID, grantID, created, expires, used *int64
	var scopes string
	err := r.Scan(&c.Digest, &c.AppID, &userID, &grantID, &c.RedirectURI, &scopes, &c.Challenge,
		&created, &expires, &used)
	c.UserID, c.GrantID, c.Scopes = idOf(userID), idOf(grantID), splitScopes(scopes)
	c.CreatedAt, c.ExpiresAt, c.UsedAt = timeOf(created), timeOf(expires), timeOf(used)
	return c, err
}

// CreateCode stores an authorization code. A taken digest is
// gatehouse.ErrAlreadyExists; a missing app, user or grant fails a foreign key
// and is gatehouse.ErrNotFound.
func (s *Store) CreateCode(ctx context.Context, c gatehouse.Code) error {
	_, err := s.exec(ctx, createCodeSQL, codeArgs(c)...)
	if err != nil {
		return fmt.Errorf("postgres: create code: %w", err)
	}
	return nil
}

// createCodeSQL stores a code; its arguments are codeArgs.
const createCodeSQL = `INSERT INTO codes (` + codeColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

func codeArgs(c gatehouse.Code) []any {
	return []any{c.Digest, c.AppID, nullID(c.UserID), nullID(c.GrantID), c.RedirectURI, joinScopes(c.Scopes),
		c.Challenge, millis(c.CreatedAt), millis(c.ExpiresAt), millis(c.UsedAt)}
}

// GetCode returns the code with that digest, or gatehouse.ErrNotFound.
func (s *Store) GetCode(ctx context.Context, digest []byte) (gatehouse.Code, error) {
	c, err := readOne(ctx, s, scanCode, `SELECT `+codeColumns+` FROM codes WHERE digest = $1`, digest)
	if err != nil {
		return gatehouse.Code{}, fmt.Errorf("postgres: get code: %w", err)
	}
	return c, nil
}

// consumeCodeSQL marks an unused code used and returns it.
const consumeCodeSQL = `UPDATE codes SET used_at = $1 WHERE digest = $2 AND used_at IS NULL RETURNING ` + codeColumns

// ConsumeCode marks the code used at at and returns it; see RedeemCode.
func (s *Store) ConsumeCode(ctx context.Context, digest []byte, at time.Time) (gatehouse.Code, error) {
	return s.redeem(ctx, "consume code", digest, at, nil)
}

// RedeemCode marks the code used at at, stores next and returns the code,
// in one transaction. The mark is one conditional UPDATE … RETURNING:
// concurrent callers queue on the row lock, and in READ COMMITTED each one
// after the first re-checks used_at IS NULL on the row the first committed,
// finds it false and gets no row. A caller without a row then reads the
// code in a new statement (so a new snapshot, which has the winner's
// commit) and returns it with gatehouse.ErrAlreadyUsed, or
// gatehouse.ErrNotFound if there is no code. An insert of next that fails
// (a revoked grant) rolls the mark back: nothing changes.
func (s *Store) RedeemCode(ctx context.Context, digest []byte, at time.Time, next []gatehouse.Token) (gatehouse.Code, error) {
	return s.redeem(ctx, "redeem code", digest, at, next)
}

// redeem is RedeemCode, with op naming the operation in its errors.
func (s *Store) redeem(ctx context.Context, op string, digest []byte, at time.Time, next []gatehouse.Token) (gatehouse.Code, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.Code{}, fmt.Errorf("postgres: %s: %w", op, err)
	}
	var c gatehouse.Code
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = one(ctx, tx, scanCode, consumeCodeSQL, millis(at), digest)
		if err == nil {
			for _, t := range next {
				if err := insertToken(ctx, tx, t); err != nil {
					return err
				}
			}
			return nil
		}
		if !errors.Is(err, gatehouse.ErrNotFound) {
			return err
		}
		c, err = one(ctx, tx, scanCode, `SELECT `+codeColumns+` FROM codes WHERE digest = $1`, digest)
		if err != nil {
			return err
		}
		return gatehouse.ErrAlreadyUsed
	})
	if errors.Is(err, gatehouse.ErrAlreadyUsed) {
		return c, fmt.Errorf("postgres: %s: %w", op, err)
	}
	if err != nil {
		return gatehouse.Code{}, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return c, nil
}
