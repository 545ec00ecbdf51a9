package oauth

import (
	"context"
	"fmt"
	"sync"

	"github.com/gatehouse/gatehouse"
)

// maxCached bounds each map of the cache; past it the cache starts over.
const maxCached = 10_000

// appCache keeps apps and credentials in memory while the store's
// generation is unchanged. Every lookup reads the generation first, so a
// change committed by any process (an app or a credential deleted from the
// command line) is seen by the very next request.
type appCache struct {
	mu         sync.Mutex
	gen        int64
	valid      bool
	byClientID map[string]gatehouse.App
	byID       map[int64]gatehouse.App
	creds      map[string]gatehouse.Credential
}

// current reads the store's generation and drops what the cache holds if it
// changed. It returns the generation that entries may be stored under.
func (s *Server) current(ctx context.Context) (int64, error) {
	g, err := s.store.Generation(ctx)
	if err != nil {
		return 0, fmt.Errorf("cache: %w", err)
	}
	s.observe(g)
	return g, nil
}

// observe makes g, a generation just read from the store, the cache's: what
// the cache holds is dropped if it was kept under another one.
func (s *Server) observe(g int64) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.gen != g || len(c.byID) > maxCached || len(c.creds) > maxCached {
		c.gen, c.valid = g, true
		c.byClientID = make(map[string]gatehouse.App)
		c.byID = make(map[int64]gatehouse.App)
		c.creds = make(map[string]gatehouse.Credential)
	}
}

// cachedGen returns the generation the cache was last valid at, without
// reading the store, for a caller whose write checks it (CreateTokenAt).
func (s *Server) cachedGen() (int64, bool) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.valid
}

// keep stores an app under generation g, unless the cache moved on.
func (s *Server) keepApp(g int64, a gatehouse.App) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.gen == g {
		c.byClientID[a.ClientID] = a
		c.byID[a.ID] = a
	}
}

// app returns the app with that client_id.
func (s *Server) app(ctx context.Context, clientID string) (gatehouse.App, error) {
	g, err := s.current(ctx)
	if err != nil {
		return gatehouse.App{}, err
	}
	return s.appAt(ctx, g, clientID)
}

// appAt is app for a generation the caller has just read, so that one
// request that looks up an app and a credential reads it once.
func (s *Server) appAt(ctx context.Context, g int64, clientID string) (gatehouse.App, error) {
	s.cache.mu.Lock()
	a, ok := s.cache.byClientID[clientID]
	s.cache.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := s.store.GetApp(ctx, clientID)
	if err == nil {
		s.keepApp(g, a)
	}
	return a, err
}

// appByID returns the app with that ID.
func (s *Server) appByID(ctx context.Context, id int64) (gatehouse.App, error) {
	g, err := s.current(ctx)
	if err != nil {
		return gatehouse.App{}, err
	}
	return s.appByIDAt(ctx, g, id)
}

// appByIDAt is appByID for a generation the caller has just read.
func (s *Server) appByIDAt(ctx context.Context, g int64, id int64) (gatehouse.App, error) {
	s.cache.mu.Lock()
	a, ok := s.cache.byID[id]
	s.cache.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := s.store.GetAppByID(ctx, id)
	if err == nil {
		s.keepApp(g, a)
	}
	return a, err
}

// credentialAt returns the credential with that digest, for a generation the
// caller has just read. Only found ones are
// kept: a wrong secret always costs a lookup, and the rate limits bound
// those.
func (s *Server) credentialAt(ctx context.Context, g int64, digest []byte) (gatehouse.Credential, error) {
	s.cache.mu.Lock()
	cr, ok := s.cache.creds[string(digest)]
	s.cache.mu.Unlock()
	if ok {
		return cr, nil
	}
	cr, err := s.store.GetCredentialByDigest(ctx, digest)
	if err == nil {
		s.keepCredential(g, cr)
	}
	return cr, err
}

func (s *Server) keepCredential(g int64, cr gatehouse.Credential) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.gen == g {
		c.creds[string(cr.Digest)] = cr
	}
}

// touched records a credential's new last use in the cache, which the
// generation does not track.
func (s *Server) touched(cr gatehouse.Credential) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.creds[string(cr.Digest)]; ok && old.ID == cr.ID {
		c.creds[string(cr.Digest)] = cr
	}
}
