package postgres

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes that the store maps or retries.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
	codeIdleSessionTimeout   = "57P05"
)

// mapErr turns driver errors into store sentinels: no row is
// gatehouse.ErrNotFound; a unique or primary key violation is
// gatehouse.ErrAlreadyExists; a foreign key violation (a referenced record is
// missing) is gatehouse.ErrNotFound. The driver error stays in the chain.
// Other errors are returned unchanged. A PgError's text is its message and
// SQLSTATE, which name the constraint but never a key value (those are in
// its Detail, which Error does not print), so no digest reaches an error
// string.
func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return gatehouse.ErrNotFound
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case codeUniqueViolation:
		return fmt.Errorf("%w: %w", gatehouse.ErrAlreadyExists, err)
	case codeForeignKeyViolation:
		return fmt.Errorf("%w: %w", gatehouse.ErrNotFound, err)
	}
	return err
}

// millis is t in unix milliseconds, NULL (nil) for the zero time.
func millis(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

// timeOf is the inverse of millis, in UTC.
func timeOf(ms *int64) time.Time {
	if ms == nil {
		return time.Time{}
	}
	return time.UnixMilli(*ms).UTC()
}

// nullID is id, NULL (nil) for 0 (no user, no grant).
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// idOf is the inverse of nullID.
func idOf(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// nullBytes is b, NULL (nil) for nil or empty (no parent token).
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// flag is b as the 0/1 integer that SQLite stores, so that rows copy between
// the backends unchanged.
func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
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
