package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

const eventColumns = `id, kind, at, app_id, user_id, grant_id, detail`

func scanEvent(r scanner) (gatehouse.Event, error) {
	var e gatehouse.Event
	var at, appID, userID, grantID sql.NullInt64
	err := r.Scan(&e.ID, &e.Kind, &at, &appID, &userID, &grantID, &e.Detail)
	e.At, e.AppID, e.UserID, e.GrantID = timeOf(at), appID.Int64, userID.Int64, grantID.Int64
	return e, err
}

// RecordEvent appends an event to the audit log and returns it with its ID
// set. The log has no foreign keys, so an event may name an app, user or
// grant that is gone, or never existed.
func (s *Store) RecordEvent(ctx context.Context, e gatehouse.Event) (gatehouse.Event, error) {
	id, err := one(ctx, s.write, scanID, `INSERT INTO events (kind, at, app_id, user_id, grant_id, detail)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		e.Kind, millis(e.At), nullID(e.AppID), nullID(e.UserID), nullID(e.GrantID), e.Detail)
	if err != nil {
		return gatehouse.Event{}, fmt.Errorf("sqlite: record event: %w", err)
	}
	e.ID = id
	return e, nil
}

// ListEvents returns at most limit events, the most recently recorded (the
// highest ID) first. A limit below 1 is an error.
func (s *Store) ListEvents(ctx context.Context, limit int) ([]gatehouse.Event, error) {
	if limit < 1 {
		// SQLite reads a negative LIMIT as no limit at all.
		return nil, errors.New("sqlite: list events: limit must be positive")
	}
	es, err := all(ctx, s.read, scanEvent, `SELECT `+eventColumns+` FROM events ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list events: %w", err)
	}
	return es, nil
}

// DeleteEvents deletes at most limit events recorded before before, the
// oldest first, through the index on at.
func (s *Store) DeleteEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, errors.New("sqlite: delete events: limit must be positive")
	}
	n, err := s.write.exec(ctx, `DELETE FROM events WHERE id IN
		(SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)`, millis(before), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete events: %w", err)
	}
	return int(n), nil
}
