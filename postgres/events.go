package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const eventColumns = `id, kind, at, app_id, user_id, grant_id, detail`

func scanEvent(r pgx.Row) (gatehouse.Event, error) {
	var e gatehouse.Event
	var at, appID, userID, grantID *int64
	err := r.Scan(&e.ID, &e.Kind, &at, &appID, &userID, &grantID, &e.Detail)
	e.At, e.AppID, e.UserID, e.GrantID = timeOf(at), idOf(appID), idOf(userID), idOf(grantID)
	return e, err
}

// RecordEvent appends an event to the audit log and returns it with its ID
// set. The log has no foreign keys, so an event may name an app, user or
// grant that is gone, or never existed.
func (s *Store) RecordEvent(ctx context.Context, e gatehouse.Event) (gatehouse.Event, error) {
	id, err := s.insertID(ctx, `INSERT INTO events (kind, at, app_id, user_id, grant_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		e.Kind, millis(e.At), nullID(e.AppID), nullID(e.UserID), nullID(e.GrantID), e.Detail)
	if err != nil {
		return gatehouse.Event{}, fmt.Errorf("postgres: record event: %w", err)
	}
	e.ID = id
	return e, nil
}

// ListEvents returns at most limit events, the most recently recorded (the
// highest ID) first. A limit below 1 is an error.
func (s *Store) ListEvents(ctx context.Context, limit int) ([]gatehouse.Event, error) {
	if limit < 1 {
		return nil, errors.New("postgres: list events: limit must be positive")
	}
	es, err := readAll(ctx, s, scanEvent, `SELECT `+eventColumns+` FROM events ORDER BY id DESC LIMIT $1`, limit)
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
