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
// stored, the server refused the refresh token (invalid_grant: it
// expired, was revoked, or the user disconnected the app), in which case
// the stored tokens were deleted, or a Logout ran while a refresh was in
// flight. The user must sign in again.
var ErrLoginRequired = errors.New("client: the user must sign in again")

// PersistentSource is the token source of one TokenKey's tokens in a
// TokenStore. It refreshes an expired access token and, when the server
// rotates the refresh token, saves the new one before it returns the new
// access token (OAuth 2.1 §4.3.2), so that a crash never leaves the store
// holding a refresh token the server has retired. An app's TokenSource
// returns one PersistentSource per store and key, so that all the
// goroutines of a process share it: one refresh serves them all. When the
// store is a Locker, the refresh holds its lock and reloads first, so that
// processes sharing the store refresh once between them.
//
// The refresh runs on its own, under a 30 s timeout, whatever the
// context of the caller that started it: a caller whose context ends
// stops waiting, and the refresh still saves what the server sent (the
// server has already retired the old refresh token).
//
// A refresh the server refuses with invalid_grant deletes the stored
// tokens and returns ErrLoginRequired; a refresh that fails for any other
// reason (the network, a server error) keeps them and returns the error.
// No error it returns contains one of the key's tokens.
type PersistentSource struct {
	app   App
	store TokenStore
	key   TokenKey
	sem   chan struct{} // one holder: guards cur, gen and flight
	cur   *oauth2.Token // the last token loaded or saved
	gen   uint64        // how many Logouts ran: a refresh begun before one does not save
	fl    *flight       // the refresh in progress, if any
}

// flight is one refresh, which every caller that needs a token waits for.
type flight struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

const (
	// expiryDelta: a token this close to its expiry is refreshed first, as
	// in x/oauth2.
	expiryDelta = 10 * time.Second
	// opTimeout bounds each step that runs whatever the caller's context
	// says: the refresh request, a load, save or delete, a revocation.
	opTimeout = 30 * time.Second
	// lockWait bounds the wait for a Locker's cross-process lock.
	lockWait = 30 * time.Second
	// logoutLockWait bounds Logout's wait for the lock: a refresh that
	// holds it and ends after the Logout finds the tokens deleted and does
	// not save (see commit), so Logout may go on without it.
	logoutLockWait = 5 * time.Second
)

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

// bounded returns a context of ctx's values that ends after d only.
func bounded(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// Token returns a valid access token, refreshing it when it has expired.
// Do not modify the token returned.
func (s *PersistentSource) Token(ctx context.Context) (*oauth2.Token, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	if tok := s.cur; valid(tok) {
		s.release()
		return tok, nil
	}
	f := s.fl
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.fl = f
		go s.run(context.WithoutCancel(ctx), f, s.gen)
	}
	s.release()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run loads, and if need be refreshes, the tokens for every caller
// waiting on f; ctx has no deadline of a caller.
func (s *PersistentSource) run(ctx context.Context, f *flight, gen uint64) {
	defer close(f.done)
	var seen []*oauth2.Token
	f.tok, f.err = s.obtain(ctx, gen, &seen)
	f.err = scrub(f.err, seen...)
}

func (s *PersistentSource) obtain(ctx context.Context, gen uint64, seen *[]*oauth2.Token) (*oauth2.Token, error) {
	tok, err := s.load(ctx)
	*seen = append(*seen, tok)
	if err != nil || valid(tok) {
		return s.settle(gen, tok, err)
	}
	if l, ok := s.store.(Locker); ok {
		lctx, cancel := bounded(ctx, lockWait)
		unlock, err := l.Lock(lctx, s.key)
		cancel()
		if err != nil {
			return s.settle(gen, nil, fmt.Errorf("client: lock the stored tokens: %w", err))
		}
		defer unlock()
		// Another process may have refreshed while we waited.
		tok, err = s.load(ctx)
		*seen = append(*seen, tok)
		if err != nil || valid(tok) {
			return s.settle(gen, tok, err)
		}
	}
	return s.refresh(ctx, gen, tok, seen)
}

func (s *PersistentSource) load(ctx context.Context) (*oauth2.Token, error) {
	lctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	tok, err := s.store.Load(lctx, s.key)
	if errors.Is(err, ErrNoToken) {
		return nil, fmt.Errorf("%w: %w", ErrLoginRequired, err)
	}
	if err != nil {
		return nil, fmt.Errorf("client: load the stored tokens: %w", err)
	}
	return tok, nil
}

// settle ends the flight with tok or err, kept as the current token
// unless a Logout ran since the flight began.
func (s *PersistentSource) settle(gen uint64, tok *oauth2.Token, err error) (*oauth2.Token, error) {
	s.sem <- struct{}{} // every holder is bounded
	defer s.release()
	s.fl = nil
	if s.gen != gen {
		return nil, fmt.Errorf("%w: the app logged out", ErrLoginRequired)
	}
	s.cur = nil
	if err == nil {
		s.cur = tok
	}
	return tok, err
}

func (s *PersistentSource) refresh(ctx context.Context, gen uint64, old *oauth2.Token, seen *[]*oauth2.Token) (*oauth2.Token, error) {
	if old.RefreshToken == "" {
		return s.settle(gen, nil, fmt.Errorf("%w: the access token expired and there is no refresh token", ErrLoginRequired))
	}
	c, err := s.app.core()
	if err != nil {
		return s.settle(gen, nil, err)
	}
	rctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	ts := c.config(c.redirectURL).TokenSource(c.oauth2Context(rctx), &oauth2.Token{RefreshToken: old.RefreshToken})
	tok, err := ts.Token()
	*seen = append(*seen, tok)
	if err != nil {
		if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			// RFC 6749 §5.2: the grant is gone; so are our copies.
			return s.settle(gen, nil, errors.Join(fmt.Errorf("%w: the server refused the refresh token (invalid_grant)", ErrLoginRequired), s.delete(ctx)))
		}
		return s.settle(gen, nil, fmt.Errorf("client: refresh the access token: %w", err))
	}
	tok, drop, err := s.commit(ctx, gen, old, tok)
	if drop != nil {
		_ = s.revokeAll(ctx, drop) // best effort: the user logged out
	}
	return tok, err
}

// commit saves the refreshed tok, under the semaphore so that a Logout of
// this source comes wholly before or after it. It does not save, and
// returns the tokens to revoke, when a Logout ran meanwhile: one of this
// source (the generation changed) or one elsewhere (the store no longer
// holds the refresh token that was used), so that a Logout never sees
// its tokens come back.
func (s *PersistentSource) commit(ctx context.Context, gen uint64, old, tok *oauth2.Token) (*oauth2.Token, *oauth2.Token, error) {
	s.sem <- struct{}{} // every holder is bounded
	defer s.release()
	s.fl = nil
	s.cur = nil
	loggedOut := fmt.Errorf("%w: the app logged out while the tokens were refreshed; the new ones were revoked", ErrLoginRequired)
	if s.gen != gen {
		return nil, tok, loggedOut
	}
	lctx, cancel := bounded(ctx, opTimeout)
	stored, err := s.store.Load(lctx, s.key)
	cancel()
	if errors.Is(err, ErrNoToken) || (err == nil && stored.RefreshToken != old.RefreshToken) {
		return nil, tok, loggedOut
	}
	// OAuth 2.1 §4.3.2: the rotated refresh token is saved before the new
	// access token is used. The server has answered, so no caller's
	// cancellation may lose what it sent.
	sctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	if err := s.store.Save(sctx, s.key, tok); err != nil {
		return nil, nil, fmt.Errorf("client: save the refreshed tokens: %w", err)
	}
	s.cur = tok
	return tok, nil, nil
}

func (s *PersistentSource) delete(ctx context.Context) error {
	dctx, cancel := bounded(ctx, opTimeout)
	defer cancel()
	if err := s.store.Delete(dctx, s.key); err != nil {
		return fmt.Errorf("client: delete the stored tokens: %w", err)
	}
	return nil
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
