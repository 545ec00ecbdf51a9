package oauth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// ErrLoginFailed is the one answer to a failed login, whether the user is
// unknown or the password wrong.
var ErrLoginFailed = errors.New("the username or password is wrong")

// ErrBusy: too many password verifications are running; try again soon.
var ErrBusy = errors.New("too many logins at once")

// hashSlots bounds the argon2id verifications running at once: each takes
// 19 MiB, so a burst of logins must not exhaust memory.
var hashSlots = make(chan struct{}, 2*runtime.GOMAXPROCS(0))

// maxHashWait is how long a login waits for a verification slot.
const maxHashWait = 2 * time.Second

// Login checks a username and password. An unknown user costs the same
// argon2id verification as a known one, so that timing does not tell them
// apart.
func (s *Server) Login(ctx context.Context, username, password string) (gatehouse.User, error) {
	// A name no account can have is not looked up: it answers as a wrong
	// password would, and never reaches the database (where PostgreSQL
	// refuses a NUL byte or invalid UTF-8 with an error, not a miss).
	if len(password) > MaxPasswordLen || !validUsername(username) {
		return gatehouse.User{}, ErrLoginFailed
	}
	u, err := s.store.GetUserByUsername(ctx, username)
	hash := u.PasswordHash
	if errors.Is(err, gatehouse.ErrNotFound) {
		hash = s.dummyHash
	} else if err != nil {
		return gatehouse.User{}, fmt.Errorf("login: %w", err)
	}
	select {
	case hashSlots <- struct{}{}:
		defer func() { <-hashSlots }()
	case <-time.After(maxHashWait):
		return gatehouse.User{}, ErrBusy
	case <-ctx.Done():
		return gatehouse.User{}, ctx.Err()
	}
	ok, verr := VerifyPassword(hash, password)
	if verr != nil {
		return gatehouse.User{}, fmt.Errorf("login: %w", verr)
	}
	if !ok || err != nil {
		return gatehouse.User{}, ErrLoginFailed
	}
	return u, nil
}

// SignIn opens a login session for u, whom Login has just verified, and,
// when rememberDevice is set, remembers the browser as u's device; it
// returns the session id and the device id (empty when not remembered),
// the cookie values. It fails with ErrLoginFailed when u's password was
// changed, or u deleted, since Login read it: a sign-in that raced
// 'gatehouse user set-password' opens no session.
func (s *Server) SignIn(ctx context.Context, u gatehouse.User, rememberDevice bool) (string, string, error) {
	now := s.clock()
	sessID := secret.New(secret.Session)
	sess := gatehouse.Session{Digest: s.digest.Digest(sessID), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	var d *gatehouse.Device
	var devID string
	if rememberDevice {
		devID = secret.New(secret.Device)
		d = &gatehouse.Device{Digest: s.digest.Digest(devID), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.DeviceTTL)}
	}
	err := s.store.OpenSession(ctx, sess, d, u.PasswordHash)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return "", "", ErrLoginFailed
	}
	if err != nil {
		return "", "", fmt.Errorf("sign in: %w", err)
	}
	return sessID, devID, nil
}

// SessionUser returns the user of a live session. A malformed, unknown or
// expired session id is ErrNotFound.
func (s *Server) SessionUser(ctx context.Context, id string) (gatehouse.User, error) {
	if k, err := secret.Parse(id); err != nil || k != secret.Session {
		return gatehouse.User{}, gatehouse.ErrNotFound
	}
	sess, err := s.store.GetSession(ctx, s.digest.Digest(id))
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("session: %w", err)
	}
	if !s.clock().Before(sess.ExpiresAt) {
		return gatehouse.User{}, gatehouse.ErrNotFound
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("session: %w", err)
	}
	return u, nil
}

// EndSession deletes a session; an unknown one is not an error.
func (s *Server) EndSession(ctx context.Context, id string) error {
	if k, err := secret.Parse(id); err != nil || k != secret.Session {
		return nil
	}
	err := s.store.DeleteSession(ctx, s.digest.Digest(id))
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// Bearer resolves an access token presented to a protected endpoint
// (RFC 6750). Anything but a live access token is invalid_token.
func (s *Server) Bearer(ctx context.Context, token string) (Introspection, error) {
	t, err := s.lookup(ctx, token)
	if err != nil {
		return inactive, err
	}
	if t.Kind != gatehouse.AccessToken || !t.Active(s.clock()) {
		return inactive, Errorf(CodeInvalidToken, "the access token is invalid, expired or revoked")
	}
	return s.describe(ctx, t, nil)
}
