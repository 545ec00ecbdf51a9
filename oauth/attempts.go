package oauth

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/ratelimit"
)

// AttemptLimit throttles attempts (failed logins) per key in buckets kept
// by the store, so that one limit holds across every instance on the
// database: N instances do not give an attacker N times the guesses. Keys
// are stored as HMAC digests under the server key, never in the clear (a
// key holds a username or an address).
type AttemptLimit struct {
	s     *Server
	scope string
	limit ratelimit.Limit
}

// AttemptLimit returns the limit l for keys of scope (a name that keeps
// the buckets of different limits apart).
func (s *Server) AttemptLimit(scope string, l ratelimit.Limit) *AttemptLimit {
	return &AttemptLimit{s: s, scope: scope, limit: l}
}

func (l *AttemptLimit) digest(key string) []byte {
	return l.s.digest.Digest("attempt\x00" + l.scope + "\x00" + key)
}

// Reserve takes one attempt of key before the attempt is made, so that
// concurrent attempts cannot all pass; it reports false, and how long to
// wait, when key has none left.
func (l *AttemptLimit) Reserve(ctx context.Context, key string) (bool, time.Duration, error) {
	ok, wait, err := l.s.store.TakeAttempt(ctx, l.digest(key), l.s.clock(), l.limit.Every, l.limit.Burst)
	if err != nil {
		return false, 0, fmt.Errorf("%s limit: %w", l.scope, err)
	}
	return ok, wait, nil
}

// Refund gives back an attempt that succeeded: only failures count.
func (l *AttemptLimit) Refund(ctx context.Context, key string) error {
	if err := l.s.store.ReturnAttempt(ctx, l.digest(key), l.limit.Every); err != nil {
		return fmt.Errorf("%s limit: %w", l.scope, err)
	}
	return nil
}
