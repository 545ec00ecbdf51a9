package oauth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// ConnectedApp is an app a user has an active grant for, as the
// connected-apps page shows it.
type ConnectedApp struct {
	App gatehouse.App
	// Scopes are the scopes of the user's active grants for the app,
	// ordered by name, with their descriptions.
	Scopes []gatehouse.Scope
	// FirstGranted and LastGranted are when the oldest and the newest of
	// those grants were made.
	FirstGranted, LastGranted time.Time
	Grants                    int
	// LastUsed is when the app last got a token in those grants (a
	// sign-in or a refresh); zero when none is stored any more.
	LastUsed time.Time
}

// ConnectedApps returns the apps the user has an active (unrevoked) grant
// for, ordered by app name.
func (s *Server) ConnectedApps(ctx context.Context, userID int64) ([]ConnectedApp, error) {
	grants, err := s.store.ListGrants(ctx, userID, 0)
	if err != nil {
		return nil, fmt.Errorf("connected apps: %w", err)
	}
	byApp := map[int64]*ConnectedApp{}
	scopeNames := map[int64][]string{}
	var order []int64
	for _, g := range grants {
		if !g.RevokedAt.IsZero() || g.UserID != userID {
			continue
		}
		c, ok := byApp[g.AppID]
		if !ok {
			c = &ConnectedApp{FirstGranted: g.CreatedAt}
			byApp[g.AppID] = c
			order = append(order, g.AppID)
		}
		c.Grants++
		c.FirstGranted = minTime(c.FirstGranted, g.CreatedAt)
		if g.CreatedAt.After(c.LastGranted) {
			c.LastGranted = g.CreatedAt
		}
		scopeNames[g.AppID] = append(scopeNames[g.AppID], g.Scopes...)
	}
	out := make([]ConnectedApp, 0, len(order))
	for _, id := range order {
		c := byApp[id]
		app, err := s.store.GetAppByID(ctx, id)
		if errors.Is(err, gatehouse.ErrNotFound) {
			continue // deleted since: nothing is left to disconnect
		}
		if err != nil {
			return nil, fmt.Errorf("connected apps: %w", err)
		}
		c.App = app
		if c.LastUsed, err = s.store.LastTokenIssued(ctx, userID, id); err != nil {
			return nil, fmt.Errorf("connected apps: %w", err)
		}
		if c.Scopes, err = s.describeScopes(ctx, scopeNames[id]); err != nil {
			return nil, fmt.Errorf("connected apps: %w", err)
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b ConnectedApp) int {
		return cmp.Or(strings.Compare(a.App.Name, b.App.Name), cmp.Compare(a.App.ID, b.App.ID))
	})
	return out, nil
}

// describeScopes returns the named scopes, each once, ordered by name; a
// scope deleted since keeps its name with no description.
func (s *Server) describeScopes(ctx context.Context, names []string) ([]gatehouse.Scope, error) {
	slices.Sort(names)
	names = slices.Compact(names)
	out := make([]gatehouse.Scope, 0, len(names))
	for _, n := range names {
		sc, err := s.store.GetScope(ctx, n)
		if errors.Is(err, gatehouse.ErrNotFound) {
			sc = gatehouse.Scope{Name: n}
		} else if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// DisconnectAll disconnects every app the user has an active grant for
// (DisconnectApp for each, so each is audited), and returns the total
// revoked.
func (s *Server) DisconnectAll(ctx context.Context, userID int64) (gatehouse.Revoked, error) {
	apps, err := s.ConnectedApps(ctx, userID)
	if err != nil {
		return gatehouse.Revoked{}, err
	}
	var total gatehouse.Revoked
	for _, c := range apps {
		r, err := s.DisconnectApp(ctx, userID, c.App.ID)
		if err != nil {
			return total, err
		}
		total.Grants += r.Grants
		total.Tokens += r.Tokens
	}
	return total, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
