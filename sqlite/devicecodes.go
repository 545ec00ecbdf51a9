package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

const deviceCodeColumns = `digest, user_code, app_id, scopes, created_at, expires_at, interval_ms, polled_at,
	user_id, decided_at, grant_id, used_at`

func scanDeviceCode(r scanner) (gatehouse.DeviceCode, error) {
	var d gatehouse.DeviceCode
	var created, expires, polled, decided, used, userID, grantID sql.NullInt64
	var interval int64
	var scopes string
	err := r.Scan(&d.Digest, &d.UserCode, &d.AppID, &scopes, &created, &expires, &interval, &polled,
		&userID, &decided, &grantID, &used)
	d.Scopes, d.Interval = splitScopes(scopes), time.Duration(interval)*time.Millisecond
	d.CreatedAt, d.ExpiresAt, d.PolledAt, d.DecidedAt, d.UsedAt = timeOf(created), timeOf(expires), timeOf(polled), timeOf(decided), timeOf(used)
	d.UserID, d.GrantID = userID.Int64, grantID.Int64
	return d, err
}

// CreateDeviceCode stores a device authorization request. A taken digest
// or user code is gatehouse.ErrAlreadyExists; a missing app fails the
// foreign key and is gatehouse.ErrNotFound.
func (s *Store) CreateDeviceCode(ctx context.Context, d gatehouse.DeviceCode) error {
	_, err := s.write.exec(ctx, `INSERT INTO device_codes (`+deviceCodeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Digest, d.UserCode, d.AppID, joinScopes(d.Scopes), millis(d.CreatedAt), millis(d.ExpiresAt), d.Interval.Milliseconds(),
		millis(d.PolledAt), nullID(d.UserID), millis(d.DecidedAt), nullID(d.GrantID), millis(d.UsedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create device code: %w", mapErr(err))
	}
	return nil
}

// GetDeviceCode returns the request with that digest, or
// gatehouse.ErrNotFound.
func (s *Store) GetDeviceCode(ctx context.Context, digest []byte) (gatehouse.DeviceCode, error) {
	d, err := one(ctx, s.read, scanDeviceCode, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE digest = ?`, digest)
	if err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("sqlite: get device code: %w", err)
	}
	return d, nil
}

// GetDeviceCodeByUserCode returns the request with that user code digest,
// or gatehouse.ErrNotFound.
func (s *Store) GetDeviceCodeByUserCode(ctx context.Context, userCode []byte) (gatehouse.DeviceCode, error) {
	d, err := one(ctx, s.read, scanDeviceCode, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE user_code = ?`, userCode)
	if err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("sqlite: get device code: %w", err)
	}
	return d, nil
}

// PollDeviceCode records a poll and the interval.
func (s *Store) PollDeviceCode(ctx context.Context, digest []byte, at time.Time, interval time.Duration) error {
	if err := requireTime(at); err != nil {
		return fmt.Errorf("sqlite: poll device code: %w", err)
	}
	n, err := s.write.exec(ctx, `UPDATE device_codes SET polled_at = ?, interval_ms = ? WHERE digest = ?`,
		millis(at), interval.Milliseconds(), digest)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: poll device code: %w", err)
	}
	return nil
}

// DecideDeviceCode records a decision, with the grant of an approval, in
// one write transaction. The mark is one conditional UPDATE … RETURNING
// on the single write connection, so of concurrent deciders one wins.
func (s *Store) DecideDeviceCode(ctx context.Context, userCode []byte, at time.Time, userID int64, g *gatehouse.Grant) (gatehouse.DeviceCode, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("sqlite: decide device code: %w", err)
	}
	var d gatehouse.DeviceCode
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := txQuerier{tx}
		var err error
		if d, err = one(ctx, q, scanDeviceCode, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE user_code = ?`, userCode); err != nil {
			return err
		}
		if d.Decided() {
			return gatehouse.ErrAlreadyUsed
		}
		var grantID int64
		if g != nil {
			stored, err := insertGrant(ctx, q, *g)
			if err != nil {
				return err
			}
			grantID = stored.ID
		}
		d, err = one(ctx, q, scanDeviceCode, `UPDATE device_codes SET user_id = ?, decided_at = ?, grant_id = ?
			WHERE user_code = ? AND decided_at IS NULL RETURNING `+deviceCodeColumns, userID, millis(at), nullID(grantID), userCode)
		return err
	})
	if errors.Is(err, gatehouse.ErrAlreadyUsed) {
		return d, fmt.Errorf("sqlite: decide device code: %w", err)
	}
	if err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("sqlite: decide device code: %w", mapErr(err))
	}
	return d, nil
}

// RedeemDeviceCode marks an approved, unused request used and stores
// next, in one write transaction; see RedeemCode.
func (s *Store) RedeemDeviceCode(ctx context.Context, digest []byte, at time.Time, next []gatehouse.Token) (gatehouse.DeviceCode, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("sqlite: redeem device code: %w", err)
	}
	sts, err := s.write.prepared(ctx, insertToken)
	if err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("sqlite: redeem device code: %w", err)
	}
	var d gatehouse.DeviceCode
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		q := txQuerier{tx}
		var err error
		d, err = one(ctx, q, scanDeviceCode, `UPDATE device_codes SET used_at = ?
			WHERE digest = ? AND grant_id IS NOT NULL AND used_at IS NULL RETURNING `+deviceCodeColumns, millis(at), digest)
		if err == nil {
			return insertTokens(ctx, tx.StmtContext(ctx, sts[0]), next)
		}
		if !errors.Is(err, gatehouse.ErrNotFound) {
			return err
		}
		if d, err = one(ctx, q, scanDeviceCode, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE digest = ?`, digest); err != nil {
			return err
		}
		return gatehouse.ErrAlreadyUsed
	})
	if errors.Is(err, gatehouse.ErrAlreadyUsed) {
		return d, fmt.Errorf("sqlite: redeem device code: %w", err)
	}
	if err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("sqlite: redeem device code: %w", err)
	}
	return d, nil
}
