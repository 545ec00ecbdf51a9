package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

const eventColumns = `id, kind, at, actor, app_id, user_id, grant_id, address, detail`

func scanEvent(r scanner) (gatehouse.Event, error) {
	var e gatehouse.Event
	var at, appID, userID, grantID sql.NullInt64
	err := r.Scan(&e.ID, &e.Kind, &at, &e.Actor, &appID, &userID, &grantID, &e.Address, &e.Detail)
	e.At, e.AppID, e.UserID, e.GrantID = timeOf(at), appID.Int64, userID.Int64, grantID.Int64
	return e, err
}

// RecordEvent appends an event to the audit log and returns it with its ID
// set. The log has no foreign keys, so an event may name an app, user or
// grant that is gone, or never existed.
func (s *Store) RecordEvent(ctx context.Context, e gatehouse.Event) (gatehouse.Event, error) {
	id, err := one(ctx, s.write, scanID, `INSERT INTO events (kind, at, actor, app_id, user_id, grant_id, address, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.Kind, millis(e.At), e.Actor, nullID(e.AppID), nullID(e.UserID), nullID(e.GrantID), e.Address, e.Detail)
	if err != nil {
		return gatehouse.Event{}, fmt.Errorf("sqlite: record event: %w", err)
	}
	e.ID = id
	return e, nil
}

// ListEvents returns at most f.Limit events of f.AppID (zero: any) recorded
// at or after f.Since (zero: any), the most recently recorded (the highest
// ID) first. A limit below 1 is an error.
func (s *Store) ListEvents(ctx context.Context, f gatehouse.EventFilter) ([]gatehouse.Event, error) {
	if f.Limit < 1 {
		// SQLite reads a negative LIMIT as no limit at all.
		return nil, errors.New("sqlite: list events: limit must be positive")
	}
	es, err := all(ctx, s.read, scanEvent, `SELECT `+eventColumns+` FROM events
		WHERE (?1 = 0 OR app_id = ?1) AND (?2 IS NULL OR at >= ?2)
		ORDER BY id DESC LIMIT ?3`, f.AppID, millis(f.Since), f.Limit)
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
