package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// TokenSource gives out a valid access token. It is x/oauth2's
// TokenSource with a context.
type TokenSource interface {
	Token(ctx context.Context) (*oauth2.Token, error)
}

// ErrLoginRequired: there is no usable token for the key — none was
// stored, or the server refused the refresh token (invalid_grant: it
// expired, was revoked, or the user disconnected the app), in which case
// the stored tokens were deleted. The user must sign in again.
var ErrLoginRequired = errors.New("client: the user must sign in again")

// PersistentSource is the token source of one TokenKey's tokens in a
// TokenStore. It refreshes an expired access token and, when the server
// rotates the refresh token, saves the new one before it returns the new
// access token (OAuth 2.1 §4.3.2), so that a crash never leaves the store
// holding a refresh token the server has retired. Many goroutines may
// share one PersistentSource: one refresh serves them all. When the store
// is a Locker, the refresh holds its lock and reloads first, so that
// processes sharing the store refresh once between them.
//
// A refresh the server refuses with invalid_grant deletes the stored
// tokens and returns ErrLoginRequired; a refresh that fails for any other
// reason (the network, a server error) keeps them and returns the error.
type PersistentSource struct {
	app   App
	store TokenStore
	key   TokenKey
	sem   chan struct{} // one holder: the cache, loads and refreshes
	cur   *oauth2.Token // the last token loaded or saved; guarded by sem
}

// expiryDelta: a token this close to its expiry is refreshed first, as in
// x/oauth2.
const expiryDelta = 10 * time.Second

func newPersistentSource(a App, store TokenStore, key TokenKey) *PersistentSource {
	return &PersistentSource{app: a, store: store, key: key, sem: make(chan struct{}, 1)}
}

func (s *PersistentSource) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *PersistentSource) release() { <-s.sem }

func valid(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || time.Until(t.Expiry) > expiryDelta)
}

// Token returns a valid access token, refreshing it when it has expired.
// Do not modify the token returned.
func (s *PersistentSource) Token(ctx context.Context) (*oauth2.Token, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	if valid(s.cur) {
		return s.cur, nil
	}
	tok, err := s.load(ctx)
	if err != nil || valid(tok) {
		return tok, err
	}
	if l, ok := s.store.(Locker); ok {
		unlock, err := l.Lock(ctx, s.key)
		if err != nil {
			return nil, fmt.Errorf("client: lock the stored tokens: %w", err)
		}
		defer unlock()
		// Another process may have refreshed while we waited.
		if tok, err = s.load(ctx); err != nil || valid(tok) {
			return tok, err
		}
	}
	return s.refresh(ctx, tok)
}

func (s *PersistentSource) load(ctx context.Context) (*oauth2.Token, error) {
	tok, err := s.store.Load(ctx, s.key)
	if errors.Is(err, ErrNoToken) {
		s.cur = nil
		return nil, fmt.Errorf("%w: %w", ErrLoginRequired, err)
	}
	if err != nil {
		return nil, fmt.Errorf("client: load the stored tokens: %w", err)
	}
	s.cur = tok
	return tok, nil
}

func (s *PersistentSource) refresh(ctx context.Context, old *oauth2.Token) (*oauth2.Token, error) {
	if old.RefreshToken == "" {
		return nil, fmt.Errorf("%w: the access token expired and there is no refresh token", ErrLoginRequired)
	}
	c, err := s.app.core()
	if err != nil {
		return nil, err
	}
	ts := c.config(c.redirectURL).TokenSource(c.oauth2Context(ctx), &oauth2.Token{RefreshToken: old.RefreshToken})
	tok, err := ts.Token()
	if err != nil {
		if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			// RFC 6749 §5.2: the grant is gone; so are our copies.
			s.cur = nil
			return nil, errors.Join(fmt.Errorf("%w: the server refused the refresh token (invalid_grant)", ErrLoginRequired), s.store.Delete(ctx, s.key))
		}
		return nil, fmt.Errorf("client: refresh the access token: %w", err)
	}
	// OAuth 2.1 §4.3.2: the rotated refresh token is saved before the new
	// access token is used. The server has answered, so a caller's
	// cancellation must not lose what it sent.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.store.Save(sctx, s.key, tok); err != nil {
		s.cur = nil
		return nil, fmt.Errorf("client: save the refreshed tokens: %w", err)
	}
	s.cur = tok
	return tok, nil
}

// ForContext returns s as an x/oauth2 TokenSource whose Token calls use
// ctx, for code that expects one (oauth2.NewClient and the like).
func (s *PersistentSource) ForContext(ctx context.Context) oauth2.TokenSource {
	return ctxSource{s: s, ctx: ctx}
}

type ctxSource struct {
	s   *PersistentSource
	ctx context.Context
}

func (c ctxSource) Token() (*oauth2.Token, error) { return c.s.Token(c.ctx) }

// Logout ends the key's login: it revokes the refresh token and the
// access token at the server's revocation endpoint (RFC 7009, with the
// app's client authentication; a public app sends its client_id), and
// deletes the stored tokens whatever the server answered. A failed
// revocation is returned (errors.Join of each failure), not swallowed: the
// tokens may still be live at the server until they expire.
func (s *PersistentSource) Logout(ctx context.Context) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	var errs []error
	if l, ok := s.store.(Locker); ok {
		if unlock, err := l.Lock(ctx, s.key); err != nil {
			errs = append(errs, fmt.Errorf("client: lock the stored tokens: %w", err))
		} else {
			defer unlock()
		}
	}
	tok, err := s.store.Load(ctx, s.key)
	switch {
	case errors.Is(err, ErrNoToken):
		tok = s.cur
	case err != nil:
		errs = append(errs, fmt.Errorf("client: load the stored tokens: %w", err))
		tok = s.cur
	}
	if tok != nil {
		errs = append(errs, s.revokeAll(ctx, tok))
	}
	s.cur = nil
	if err := s.store.Delete(ctx, s.key); err != nil {
		errs = append(errs, fmt.Errorf("client: delete the stored tokens: %w", err))
	}
	return errors.Join(errs...)
}

func (s *PersistentSource) revokeAll(ctx context.Context, tok *oauth2.Token) error {
	c, err := s.app.core()
	if err != nil {
		return err
	}
	var errs []error
	// The refresh token first: revoking it ends the whole grant.
	if tok.RefreshToken != "" {
		errs = append(errs, c.revoke(ctx, tok.RefreshToken, "refresh_token"))
	}
	if tok.AccessToken != "" {
		errs = append(errs, c.revoke(ctx, tok.AccessToken, "access_token"))
	}
	return errors.Join(errs...)
}
