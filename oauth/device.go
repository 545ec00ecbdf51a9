package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// A device cookie marks a browser that its user has signed in from before
// (OWASP "Slow Down Online Guessing Attacks with Device Cookies"). A
// sign-in from such a browser is not subject to the per-account and
// per-address limits that strangers can exhaust, only to a limit of its
// own, so that nobody can lock a user out of their account from elsewhere
// (DESIGN invariant 11). The cookie value is a 256-bit secret; the store
// keeps only its keyed digest.

// KnownDevice reports whether id (a device cookie) is a live device of the
// account named username. A malformed, unknown or expired cookie, one of
// another account, or a name no account has is simply not known.
func (s *Server) KnownDevice(ctx context.Context, id, username string) (bool, error) {
	if k, err := secret.Parse(id); err != nil || k != secret.Device || !validUsername(username) {
		return false, nil
	}
	d, err := s.store.GetDevice(ctx, s.digest.Digest(id))
	if errors.Is(err, gatehouse.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("device: %w", err)
	}
	if !s.clock().Before(d.ExpiresAt) {
		return false, nil
	}
	u, err := s.store.GetUserByUsername(ctx, username)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("device: %w", err)
	}
	return u.ID == d.UserID, nil
}
