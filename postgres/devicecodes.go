package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const deviceCodeColumns = `digest, user_code, app_id, scopes, created_at, expires_at, interval_ms, polled_at,
	user_id, decided_at, grant_id, used_at`

func scanDeviceCode(r pgx.Row) (gatehouse.DeviceCode, error) {
	var d gatehouse.DeviceCode
	var created, expires, polled, decided, used, userID, grantID *int64
	var interval int64
	var scopes string
	err := r.Scan(&d.Digest, &d.UserCode, &d.AppID, &scopes, &created, &expires, &interval, &polled,
		&userID, &decided, &grantID, &used)
	d.Scopes, d.Interval = splitScopes(scopes), time.Duration(interval)*time.Millisecond
	d.CreatedAt, d.ExpiresAt, d.PolledAt, d.DecidedAt, d.UsedAt = timeOf(created), timeOf(expires), timeOf(polled), timeOf(decided), timeOf(used)
	d.UserID, d.GrantID = idOf(userID), idOf(grantID)
	return d, err
}

// CreateDeviceCode stores a device authorization request. A taken digest
// or user code is gatehouse.ErrAlreadyExists; a missing app fails the
// foreign key and is gatehouse.ErrNotFound.
func (s *Store) CreateDeviceCode(ctx context.Context, d gatehouse.DeviceCode) error {
	_, err := s.exec(ctx, `INSERT INTO device_codes (`+deviceCodeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		d.Digest, d.UserCode, d.AppID, joinScopes(d.Scopes), millis(d.CreatedAt), millis(d.ExpiresAt), d.Interval.Milliseconds(),
		millis(d.PolledAt), nullID(d.UserID), millis(d.DecidedAt), nullID(d.GrantID), millis(d.UsedAt))
	if err != nil {
		return fmt.Errorf("postgres: create device code: %w", err)
	}
	return nil
}

// GetDeviceCode returns the request with that digest, or
// gatehouse.ErrNotFound.
func (s *Store) GetDeviceCode(ctx context.Context, digest []byte) (gatehouse.DeviceCode, error) {
	d, err := readOne(ctx, s, scanDeviceCode, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE digest = $1`, digest)
	if err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("postgres: get device code: %w", err)
	}
	return d, nil
}

// GetDeviceCodeByUserCode returns the request with that user code digest,
// or gatehouse.ErrNotFound.
func (s *Store) GetDeviceCodeByUserCode(ctx context.Context, userCode []byte) (gatehouse.DeviceCode, error) {
	d, err := readOne(ctx, s, scanDeviceCode, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE user_code = $1`, userCode)
	if err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("postgres: get device code: %w", err)
	}
	return d, nil
}

// PollDeviceCode records a poll and the interval. Run again, it writes the
// same values.
func (s *Store) PollDeviceCode(ctx context.Context, digest []byte, at time.Time, interval time.Duration) error {
	if err := requireTime(at); err != nil {
		return fmt.Errorf("postgres: poll device code: %w", err)
	}
	n, err := s.execIdempotent(ctx, `UPDATE device_codes SET polled_at = $1, interval_ms = $2 WHERE digest = $3`,
		millis(at), interval.Milliseconds(), digest)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: poll device code: %w", err)
	}
	return nil
}

// DecideDeviceCode records a decision, with the grant of an approval, in
// one transaction. The request's row is locked first (FOR UPDATE), so a
// concurrent decider waits, then reads the decision that won.
func (s *Store) DecideDeviceCode(ctx context.Context, userCode []byte, at time.Time, userID int64, g *gatehouse.Grant) (gatehouse.DeviceCode, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("postgres: decide device code: %w", err)
	}
	var d gatehouse.DeviceCode
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = one(ctx, tx, scanDeviceCode, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE user_code = $1 FOR UPDATE`, userCode)
		if err != nil {
			return err
		}
		if d.Decided() {
			return gatehouse.ErrAlreadyUsed
		}
		var grantID int64
		if g != nil {
			if err := tx.QueryRow(ctx, createGrantSQL, grantArgs(*g)...).Scan(&grantID); err != nil {
				return mapErr(err)
			}
		}
		d, err = one(ctx, tx, scanDeviceCode, `UPDATE device_codes SET user_id = $1, decided_at = $2, grant_id = $3
			WHERE user_code = $4 RETURNING `+deviceCodeColumns, userID, millis(at), nullID(grantID), userCode)
		return err
	})
	if errors.Is(err, gatehouse.ErrAlreadyUsed) {
		return d, fmt.Errorf("postgres: decide device code: %w", err)
	}
	if err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("postgres: decide device code: %w", mapErr(err))
	}
	return d, nil
}

// RedeemDeviceCode marks an approved, unused request used and stores
// next, in one transaction; see RedeemCode for how concurrent callers
// queue on the row.
func (s *Store) RedeemDeviceCode(ctx context.Context, digest []byte, at time.Time, next []gatehouse.Token) (gatehouse.DeviceCode, error) {
	if err := requireTime(at); err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("postgres: redeem device code: %w", err)
	}
	var d gatehouse.DeviceCode
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = one(ctx, tx, scanDeviceCode, `UPDATE device_codes SET used_at = $1
			WHERE digest = $2 AND grant_id IS NOT NULL AND used_at IS NULL RETURNING `+deviceCodeColumns, millis(at), digest)
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
		if d, err = one(ctx, tx, scanDeviceCode, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE digest = $1`, digest); err != nil {
			return err
		}
		return gatehouse.ErrAlreadyUsed
	})
	if errors.Is(err, gatehouse.ErrAlreadyUsed) {
		return d, fmt.Errorf("postgres: redeem device code: %w", err)
	}
	if err != nil {
		return gatehouse.DeviceCode{}, fmt.Errorf("postgres: redeem device code: %w", err)
	}
	return d, nil
}
