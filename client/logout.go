package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"
)

// Logout ends the key's login: it revokes the refresh token and the
// access token at the server's revocation endpoint (RFC 7009, with the
// app's client authentication; a public app sends its client_id), and
// deletes the stored tokens whatever the server answered. A failed
// revocation is returned (errors.Join of each failure), not swallowed: the
// tokens may still be live at the server until they expire.
//
// Logout does its work whatever ctx says (only ctx's values are used): each
// revocation and the Delete runs under its own 30 s timeout, so that a
// caller that gives up never leaves the tokens neither revoked nor
// deleted. It waits at most 5 s for a Locker's cross-process lock and goes
// on without it. A refresh in flight, in this process or in another one
// that locks the store, does not save its tokens after Logout: it revokes
// them instead. The limit: with a store that is not a Locker (the
// KeyringStore), a refresh in another process that reads the store just
// before Logout deletes it may still save after it.
func (s *PersistentSource) Logout(ctx context.Context) error {
	var errs []error
	if l, ok := s.store.(Locker); ok {
		lctx, cancel := bounded(ctx, logoutLockWait)
		unlock, err := l.Lock(lctx, s.key)
		cancel()
		if err == nil {
			defer unlock()
		}
	}
	actx, cancel := bounded(ctx, 2*opTimeout)
	err := s.acquire(actx) // the holders are bounded: a settle or commit
	cancel()
	if err != nil {
		return fmt.Errorf("client: logout: %w", err)
	}
	defer s.release()
	s.gen++ // a refresh in flight will not save
	tok, err := s.load(ctx)
	switch {
	case errors.Is(err, ErrNoToken):
		tok = s.cur
	case err != nil:
		errs = append(errs, err)
		tok = s.cur
	}
	if tok != nil {
		errs = append(errs, s.revokeAll(ctx, tok))
	}
	s.cur = nil
	errs = append(errs, s.delete(ctx))
	return scrub(errors.Join(errs...), tok)
}

// revokeAll revokes tok's refresh and access tokens, each under its own
// timeout.
func (s *PersistentSource) revokeAll(ctx context.Context, tok *oauth2.Token) error {
	c, err := s.app.core()
	if err != nil {
		return err
	}
	revoke := func(token, hint string) error {
		rctx, cancel := bounded(ctx, opTimeout)
		defer cancel()
		return c.revoke(rctx, token, hint)
	}
	var errs []error
	// The refresh token first: revoking it ends the whole grant.
	if tok.RefreshToken != "" {
		errs = append(errs, revoke(tok.RefreshToken, "refresh_token"))
	}
	if tok.AccessToken != "" {
		errs = append(errs, revoke(tok.AccessToken, "access_token"))
	}
	return errors.Join(errs...)
}

// scrubbedError is an error whose text had token values replaced; it
// answers errors.Is as the original did, but does not unwrap to it (the
// original, a *oauth2.RetrieveError with the body, still holds them).
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string        { return e.msg }
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }

// scrub returns err with every token value of toks in its text replaced
// by "[redacted]": a token endpoint that echoes the refresh token in an
// error description must not put it in an app's logs.
func scrub(err error, toks ...*oauth2.Token) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, t := range toks {
		if t == nil {
			continue
		}
		for _, v := range []string{t.RefreshToken, t.AccessToken} {
			if len(v) >= 4 { // a short value is no token, and would redact words
				msg = strings.ReplaceAll(msg, v, redacted)
			}
		}
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}
