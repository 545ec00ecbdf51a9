package oauth

import (
	"context"
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

type scopeKey struct {
	appID int64
	scope string
}

// usedScopes records, once issued tokens carry scopes, that the app used
// them: at most one small write (one statement) per app and scope an hour
// per process, and none at all for most tokens. A failure to record is
// logged and does not fail the request; the next token tries again.
func (s *Server) usedScopes(ctx context.Context, app gatehouse.App, scopes []string) {
	now := s.clock()
	var due []string
	for _, sc := range scopes {
		if s.scopeUse.due(scopeKey{app.ID, sc}, now, scopeUseEvery) {
			due = append(due, sc)
		}
	}
	if len(due) == 0 {
		return
	}
	if err := s.store.TouchScopes(ctx, app.ID, due, now); err != nil {
		for _, sc := range due {
			s.scopeUse.undo(scopeKey{app.ID, sc}, now, scopeUseEvery)
		}
		s.log.WarnContext(ctx, "record scope use", "client_id", app.ClientID, "err", err)
	}
}
