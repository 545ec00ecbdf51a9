package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// scopeUse lists the recorded uses of the app's scopes.
func (f *fixture) scopeUse(a gatehouse.App) []gatehouse.ScopeUse {
	f.t.Helper()
	us, err := f.st.ListScopeUse(f.ctx, a.ID)
	ok(f.t, err)
	return us
}

func scopeUseCases() []testCase {
	return []testCase{
		{"TouchKeepsTheLatest", func(t *testing.T, f *fixture) {
			a, b := f.app("web"), f.app("other")
			sameList(t, "ListScopeUse of a fresh app", f.scopeUse(a), nil)
			ok(t, f.st.TouchScopes(f.ctx, a.ID, []string{"read", "write", "read"}, at(time.Hour)))
			ok(t, f.st.TouchScopes(f.ctx, a.ID, []string{"write"}, at(2*time.Hour)))
			// An earlier use recorded late (another process) changes nothing.
			ok(t, f.st.TouchScopes(f.ctx, a.ID, []string{"read"}, at(time.Minute)))
			// Unregistered scopes are kept too: the store checks no rule.
			ok(t, f.st.TouchScopes(f.ctx, a.ID, []string{"unregistered:x"}, at(3*time.Hour)))
			ok(t, f.st.TouchScopes(f.ctx, b.ID, []string{"admin"}, at(time.Minute)))
			sameList(t, "ListScopeUse", f.scopeUse(a), []gatehouse.ScopeUse{
				{AppID: a.ID, Scope: "read", LastUsedAt: at(time.Hour)},
				{AppID: a.ID, Scope: "unregistered:x", LastUsedAt: at(3 * time.Hour)},
				{AppID: a.ID, Scope: "write", LastUsedAt: at(2 * time.Hour)},
			})
			sameList(t, "ListScopeUse of the other app", f.scopeUse(b), []gatehouse.ScopeUse{{AppID: b.ID, Scope: "admin", LastUsedAt: at(time.Minute)}})
		}},
		{"NoScopesNoWrite", func(t *testing.T, f *fixture) {
			a := f.app("web")
			ok(t, f.st.TouchScopes(f.ctx, a.ID, nil, at(0)))
			sameList(t, "ListScopeUse", f.scopeUse(a), nil)
		}},
		{"Refusals", func(t *testing.T, f *fixture) {
			a := f.app("web")
			isErr(t, f.st.TouchScopes(f.ctx, a.ID+1000, []string{"read"}, at(0)), gatehouse.ErrNotFound)
			if err := f.st.TouchScopes(f.ctx, a.ID, []string{"read"}, time.Time{}); err == nil {
				t.Error("TouchScopes accepted the zero time")
			}
			us, err := f.st.ListScopeUse(f.ctx, a.ID+1000)
			ok(t, err)
			sameList(t, "ListScopeUse of an unknown app", us, nil)
		}},
		{"GoesWithTheApp", func(t *testing.T, f *fixture) {
			a := f.app("web")
			ok(t, f.st.TouchScopes(f.ctx, a.ID, []string{"read"}, at(0)))
			ok(t, f.st.DeleteApp(f.ctx, a.ClientID))
			sameList(t, "ListScopeUse of a deleted app", f.scopeUse(a), nil)
		}},
		{"LeavesTheGeneration", func(t *testing.T, f *fixture) {
			// Recording a use must not drop every cache of apps.
			a := f.app("web")
			f.changes("TouchScopes (insert)", false, func() { ok(t, f.st.TouchScopes(f.ctx, a.ID, []string{"read"}, at(0))) })
			f.changes("TouchScopes (update)", false, func() { ok(t, f.st.TouchScopes(f.ctx, a.ID, []string{"read", "write"}, at(time.Hour))) })
		}},
		{"ConcurrentTouchesKeepTheLatest", func(t *testing.T, f *fixture) {
			a := f.app("web")
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Go(func() {
					errs <- f.st.TouchScopes(f.ctx, a.ID, []string{"write", "read"}, at(time.Duration(i)*time.Minute))
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				ok(t, err)
			}
			sameList(t, "ListScopeUse", f.scopeUse(a), []gatehouse.ScopeUse{
				{AppID: a.ID, Scope: "read", LastUsedAt: at(7 * time.Minute)},
				{AppID: a.ID, Scope: "write", LastUsedAt: at(7 * time.Minute)},
			})
		}},
	}
}

func idleRefreshCases() []testCase {
	return []testCase{
		{"CountsLiveUnusedOldRefreshTokens", func(t *testing.T, f *fixture) {
			a, other := f.app("web"), f.app("other")
			u := f.user("alice")
			g, g2 := f.grant(u, a), f.grant(u, a)
			// tok stores a token of g issued at issued, expiring at t0+30d.
			tok := func(name string, kind gatehouse.TokenKind, gr gatehouse.Grant, issued time.Duration) gatehouse.Token {
				tk := f.newToken(name, kind, gr)
				tk.IssuedAt, tk.ExpiresAt = at(issued), at(30*24*time.Hour)
				ok(t, f.st.CreateToken(f.ctx, tk))
				return tk
			}
			tok("idle-1", gatehouse.RefreshToken, g, 0)
			tok("idle-2", gatehouse.RefreshToken, g2, time.Hour)
			// The successor of "used", issued at t0+2h, is idle too.
			tok("young", gatehouse.RefreshToken, g, 10*24*time.Hour)
			tok("access", gatehouse.AccessToken, g, 0)
			tok("other-app", gatehouse.RefreshToken, f.grant(u, other), 0)
			used := tok("used", gatehouse.RefreshToken, g, 0)
			_, err := f.st.RotateRefreshToken(f.ctx, used.Digest, at(2*time.Hour), false, []gatehouse.Token{tok2(f, "successor", g, used)})
			ok(t, err)
			revoked := tok("revoked", gatehouse.RefreshToken, g, 0)
			ok(t, f.st.RevokeToken(f.ctx, revoked.Digest, at(3*time.Hour)))
			expired := f.newToken("expired", gatehouse.RefreshToken, g)
			expired.IssuedAt, expired.ExpiresAt = at(0), at(4*24*time.Hour)
			ok(t, f.st.CreateToken(f.ctx, expired))

			for _, tt := range []struct {
				name              string
				issuedBefore, now time.Duration
				want              int64
			}{
				{"idle for a week", 7 * 24 * time.Hour, 8 * 24 * time.Hour, 3},
				{"the expired one while it lived", 7 * 24 * time.Hour, 3 * 24 * time.Hour, 4},
				{"issued before the first", 0, 8 * 24 * time.Hour, 0},
				{"the young one too", 11 * 24 * time.Hour, 11 * 24 * time.Hour, 4},
				{"all expired", 31 * 24 * time.Hour, 31 * 24 * time.Hour, 0},
			} {
				n, err := f.st.CountIdleRefreshTokens(f.ctx, a.ID, at(tt.issuedBefore), at(tt.now))
				ok(t, err)
				if n != tt.want {
					t.Errorf("%s: %d idle refresh tokens, want %d", tt.name, n, tt.want)
				}
			}
			ok(t, f.st.RevokeGrant(f.ctx, g.ID, at(5*time.Hour)))
			n, err := f.st.CountIdleRefreshTokens(f.ctx, a.ID, at(7*24*time.Hour), at(8*24*time.Hour))
			ok(t, err)
			if n != 1 {
				t.Errorf("after revoking a grant: %d idle refresh tokens, want 1 (the other grant's)", n)
			}
			n, err = f.st.CountIdleRefreshTokens(f.ctx, a.ID+1000, at(7*24*time.Hour), at(8*24*time.Hour))
			ok(t, err)
			if n != 0 {
				t.Errorf("an unknown app: %d idle refresh tokens", n)
			}
		}},
	}
}

// tok2 returns an unsaved refresh token of the grant whose parent is
// parent, issued at t0+2h (its exchange), expiring at t0+30d.
func tok2(f *fixture, name string, g gatehouse.Grant, parent gatehouse.Token) gatehouse.Token {
	tk := f.newToken(name, gatehouse.RefreshToken, g)
	tk.IssuedAt, tk.ExpiresAt, tk.Parent = at(2*time.Hour), at(30*24*time.Hour), parent.Digest
	return tk
}
