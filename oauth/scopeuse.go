package oauth

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
)

// scopeUseEvery bounds how often a process records an app's use of one
// scope: the first token of each (app, scope) in an hour is written, the
// rest cost nothing but a map lookup. The recorded last use is therefore at
// most an hour older than the true one (per process; several processes
// each write theirs, and the store keeps the latest). The review judges
// scopes unused by days, so an hour does not matter to it.
const scopeUseEvery = time.Hour

// scopeUse remembers, per app and scope, when this process last recorded a
// use in the store.
type scopeUse struct {
	mu       sync.Mutex
	recorded map[scopeKey]time.Time
}

type scopeKey struct {
	appID int64
	scope string
}

// due marks the scopes of scopes whose use was not recorded within
// scopeUseEvery before now as recorded at now, and returns them. Past
// maxCached entries it starts over, which costs a few writes more.
func (u *scopeUse) due(appID int64, scopes []string, now time.Time) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.recorded == nil || len(u.recorded) > maxCached {
		u.recorded = make(map[scopeKey]time.Time)
	}
	var out []string
	for _, sc := range scopes {
		k := scopeKey{appID, sc}
		if last, ok := u.recorded[k]; ok && now.Sub(last) < scopeUseEvery && !now.Before(last) {
			continue
		}
		u.recorded[k] = now
		out = append(out, sc)
	}
	return out
}

// forget undoes due's marks of scopes at now, after the write failed, so
// that the next token records them.
func (u *scopeUse) forget(appID int64, scopes []string, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, sc := range scopes {
		if k := (scopeKey{appID, sc}); u.recorded[k].Equal(now) {
			delete(u.recorded, k)
		}
	}
}

// usedScopes records, once issued tokens carry scopes, that the app used
// them: at most one small write (one statement) per app and scope an hour
// per process, and none at all for most tokens. A failure to record is
// logged and does not fail the request; the next token tries again.
func (s *Server) usedScopes(ctx context.Context, app gatehouse.App, scopes []string) {
	now := s.clock()
	due := s.scopeUse.due(app.ID, scopes, now)
	if len(due) == 0 {
		return
	}
	if err := s.store.TouchScopes(ctx, app.ID, due, now); err != nil {
		s.scopeUse.forget(app.ID, due, now)
		s.log.WarnContext(ctx, "record scope use", "client_id", app.ClientID, "err", err)
	}
}
