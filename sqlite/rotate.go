package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

// RotateRefreshToken exchanges the refresh token old in one write transaction:
// it marks old used (or, for a retry, revokes the successors of old) and
// stores next. If an insert of next fails, nothing changes; its error is
// mapped as CreateToken's. The transaction begins with BEGIN IMMEDIATE and
// runs on the only write connection, so no other write lands between its
// checks and its changes.
func (s *Store) RotateRefreshToken(ctx context.Context, old []byte, at time.Time, retry bool, next []gatehouse.Token) (gatehouse.Token, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.Token{}, fmt.Errorf("sqlite: rotate refresh token: %w", err)
	}
	sts, err := s.write.prepared(ctx, markUsedSQL, insertToken)
	if err != nil {
		return gatehouse.Token{}, fmt.Errorf("sqlite: rotate refresh token: %w", err)
	}
	upd, ins := sts[0], sts[1]
	var t gatehouse.Token
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if retry {
			t, err = markRetried(ctx, tx, old, at)
		} else {
			t, err = markUsed(ctx, tx, tx.StmtContext(ctx, upd), old, at)
		}
		if err != nil {
			return err
		}
		return insertTokens(ctx, tx.StmtContext(ctx, ins), next)
	})
	if errors.Is(err, gatehouse.ErrAlreadyUsed) {
		return t, fmt.Errorf("sqlite: rotate refresh token: %w", err)
	}
	if err != nil {
		return gatehouse.Token{}, fmt.Errorf("sqlite: rotate refresh token: %w", err)
	}
	return t, nil
}

// markUsed marks old used at at with one conditional UPDATE … RETURNING, so
// that of many concurrent exchanges exactly one gets the row, and a token
// revoked (or of a grant revoked) after the caller read it gets none. When
// none does, old is missing (gatehouse.ErrNotFound) or is used or revoked
// (gatehouse.ErrAlreadyUsed, with old as stored).
func markUsed(ctx context.Context, tx *sql.Tx, upd *sql.Stmt, old []byte, at time.Time) (gatehouse.Token, error) {
	t, err := one(ctx, stmtQuerier{upd}, scanToken, "", millis(at), old)
	if !errors.Is(err, gatehouse.ErrNotFound) {
		return t, err
	}
	t, err = tokenTx(ctx, tx, old)
	if err != nil {
		return gatehouse.Token{}, err
	}
	return t, gatehouse.ErrAlreadyUsed
}

// markRetried allows a retried exchange of old only if old was used and no
// successor of old (a refresh token whose parent is old) was; it then revokes
// every successor of old, refresh and access, at at, keeping earlier
// revocation times. Otherwise it returns gatehouse.ErrAlreadyUsed with old as
// stored, or gatehouse.ErrNotFound.
func markRetried(ctx context.Context, tx *sql.Tx, old []byte, at time.Time) (gatehouse.Token, error) {
	t, err := tokenTx(ctx, tx, old)
	if err != nil {
		return gatehouse.Token{}, err
	}
	var successorUsed bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM tokens
		WHERE parent = ? AND kind = ? AND used_at IS NOT NULL)`, old, string(gatehouse.RefreshToken)).Scan(&successorUsed)
	if err != nil {
		return gatehouse.Token{}, err
	}
	var grantRevoked bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM grants
		WHERE id = ? AND revoked_at IS NOT NULL)`, t.GrantID).Scan(&grantRevoked)
	if err != nil {
		return gatehouse.Token{}, err
	}
	if t.UsedAt.IsZero() || successorUsed || !t.RevokedAt.IsZero() || grantRevoked {
		return t, gatehouse.ErrAlreadyUsed
	}
	_, err = execTx(ctx, tx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE parent = ?`, millis(at), old)
	return t, err
}

// markUsedSQL marks an unused, unrevoked refresh token of a live grant used.
const markUsedSQL = `UPDATE tokens SET used_at = ?
		WHERE digest = ? AND used_at IS NULL AND revoked_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM grants WHERE grants.id = tokens.grant_id AND grants.revoked_at IS NOT NULL)
		RETURNING ` + tokenColumns

// stmtQuerier runs one prepared statement, whatever query it is asked for.
type stmtQuerier struct{ st *sql.Stmt }

func (q stmtQuerier) query(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return q.st.QueryContext(ctx, args...)
}

// tokenTx reads the token with that digest in the transaction, or returns
// gatehouse.ErrNotFound.
func tokenTx(ctx context.Context, tx *sql.Tx, digest []byte) (gatehouse.Token, error) {
	return one(ctx, txQuerier{tx}, scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE digest = ?`, digest)
}

// insertTokens stores tokens in the transaction. A taken digest is
// gatehouse.ErrAlreadyExists; a missing app, user or grant is
// gatehouse.ErrNotFound.
func insertTokens(ctx context.Context, ins *sql.Stmt, tokens []gatehouse.Token) error {
	for _, t := range tokens {
		res, err := ins.ExecContext(ctx, tokenArgs(t)...)
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(gatehouse.ErrNotFound, err) // the grant is revoked
		}
	}
	return nil
}
