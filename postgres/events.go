package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const eventColumns = `id, kind, at, actor, app_id, user_id, grant_id, address, detail`

func scanEvent(r pgx.Row) (gatehouse.Event, error) {
	var e gatehouse.Event
	var at, appID, userID, grantID *int64
	err := r.Scan(&e.ID, &e.Kind, &at, &e.Actor, &appID, &userID, &grantID, &e.Address, &e.Detail)
	e.At, e.AppID, e.UserID, e.GrantID = timeOf(at), idOf(appID), idOf(userID), idOf(grantID)
	return e, err
}

// RecordEvent appends an event to the audit log and returns it with its ID
// set. The log has no foreign keys, so an event may name an app, user or
// grant that is gone, or never existed.
func (s *Store) RecordEvent(ctx context.Context, e gatehouse.Event) (gatehouse.Event, error) {
	id, err := s.insertID(ctx, `INSERT INTO events (kind, at, actor, app_id, user_id, grant_id, address, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		e.Kind, millis(e.At), e.Actor, nullID(e.AppID), nullID(e.UserID), nullID(e.GrantID), e.Address, e.Detail)
	if err != nil {
		return gatehouse.Event{}, fmt.Errorf("postgres: record event: %w", err)
	}
	e.ID = id
	return e, nil
}

// ListEvents returns at most f.Limit events of f.AppID (zero: any) recorded
// at or after f.Since (zero: any), the most recently recorded (the highest
// ID) first. A limit below 1 is an error.
func (s *Store) ListEvents(ctx context.Context, f gatehouse.EventFilter) ([]gatehouse.Event, error) {
	if f.Limit < 1 {
		return nil, errors.New("postgres: list events: limit must be positive")
	}
	es, err := readAll(ctx, s, scanEvent, `SELECT `+eventColumns+` FROM events
		WHERE ($1::bigint = 0 OR app_id = $1) AND ($2::bigint IS NULL OR at >= $2)
		ORDER BY id DESC LIMIT $3`, f.AppID, millis(f.Since), f.Limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list events: %w", err)
	}
	return es, nil
}

// DeleteEvents deletes at most limit events recorded before before, the
// oldest first, through the index on at.
func (s *Store) DeleteEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, errors.New("postgres: delete events: limit must be positive")
	}
	n, err := s.exec(ctx, `DELETE FROM events WHERE id = ANY (ARRAY(
		SELECT id FROM events WHERE at < $1 ORDER BY at LIMIT $2))`, millis(before), limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete events: %w", err)
	}
	return int(n), nil
}
