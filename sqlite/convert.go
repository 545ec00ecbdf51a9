package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// mapErr turns the driver's constraint errors into store sentinels, by the
// extended result code: a unique or primary key violation is
// gatehouse.ErrAlreadyExists, a foreign key violation (a referenced record is
// missing) is gatehouse.ErrNotFound. Other errors are returned unchanged.
func mapErr(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%w: %w", gatehouse.ErrAlreadyExists, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", gatehouse.ErrNotFound, err)
	}
	return err
}

// millis is t in unix milliseconds, NULL for the zero time.
func millis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// timeOf is the inverse of millis, in UTC.
func timeOf(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64).UTC()
}

// nullID is id, NULL for 0 (no user, no grant).
func nullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}

// joinScopes stores a scope list as one space-separated value; RFC 6749 §3.3
// scope tokens contain no space.
func joinScopes(scopes []string) string { return strings.Join(scopes, " ") }

// splitScopes is the inverse of joinScopes.
func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// requireTime rejects the zero time where it would be stored as "not done":
// a code consumed or a token revoked at the zero time would stay usable.
func requireTime(at time.Time) error {
	if at.IsZero() {
		return errors.New("zero time")
	}
	return nil
}

// nullBytes is b, NULL for nil or empty (no parent token).
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
