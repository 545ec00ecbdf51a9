package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// disconnectCases check DisconnectApp: every grant of the user for the
// app, with their tokens, and the consent; nothing of another user or
// another app.
func disconnectCases() []testCase {
	return []testCase{
		{"UserFromApp", func(t *testing.T, f *fixture) {
			alice, bob := f.user("alice"), f.user("bob")
			w := f.world("web", alice) // alice's grant, consent and tokens for web
			second := f.grant(alice, w.app)
			secondRT := f.token("second-refresh", gatehouse.RefreshToken, second)
			bobs := f.grant(bob, w.app)
			bobsAT := f.token("bob-access", gatehouse.AccessToken, bobs)
			bobConsent := gatehouse.Consent{UserID: bob.ID, AppID: w.app.ID, Scopes: []string{"read"}, UpdatedAt: at(0)}
			ok(t, f.st.PutConsent(f.ctx, bobConsent))
			other := f.world("other", alice)
			when := at(time.Hour)

			r, err := f.st.DisconnectApp(f.ctx, alice.ID, w.app.ID, when)
			ok(t, err)
			if r.Grants != 2 || r.Tokens != 3 {
				t.Errorf("DisconnectApp revoked %+v, want 2 grants and 3 tokens", r)
			}
			for _, g := range []gatehouse.Grant{w.grant, second} {
				got, err := f.st.GetGrant(f.ctx, g.ID)
				ok(t, err)
				g.RevokedAt = when
				same(t, "alice's grant", got, g)
			}
			for _, tok := range []gatehouse.Token{w.access, w.refresh, secondRT} {
				tok.RevokedAt = when
				checkTokens(t, f, tok)
			}
			_, err = f.st.GetConsent(f.ctx, alice.ID, w.app.ID)
			isErr(t, err, gatehouse.ErrNotFound)
			// The app's own token, bob's grant and consent, and alice's
			// other app are untouched.
			checkTokens(t, f, w.creds, bobsAT)
			got, err := f.st.GetGrant(f.ctx, bobs.ID)
			ok(t, err)
			same(t, "bob's grant", got, bobs)
			c, err := f.st.GetConsent(f.ctx, bob.ID, w.app.ID)
			ok(t, err)
			same(t, "bob's consent", c, bobConsent)
			other.checkIntact(t, f)
			isErr(t, f.st.CreateToken(f.ctx, f.newToken("late", gatehouse.AccessToken, second)), gatehouse.ErrNotFound)

			// Again: nothing left to revoke, no error.
			r, err = f.st.DisconnectApp(f.ctx, alice.ID, w.app.ID, at(2*time.Hour))
			ok(t, err)
			if r != (gatehouse.Revoked{}) {
				t.Errorf("a second DisconnectApp revoked %+v", r)
			}
			if _, err := f.st.DisconnectApp(f.ctx, alice.ID, w.app.ID, time.Time{}); err == nil {
				t.Error("DisconnectApp accepted a zero time")
			}
		}},
	}
}

// lastTokenCases check LastTokenIssued: the newest token of the user's
// grants for the app, and nothing of another user or app.
func lastTokenCases() []testCase {
	return []testCase{
		{"LastTokenIssued", func(t *testing.T, f *fixture) {
			alice, bob := f.user("alice"), f.user("bob")
			a, other := f.app("web"), f.app("other")
			got, err := f.st.LastTokenIssued(f.ctx, alice.ID, a.ID)
			ok(t, err)
			if !got.IsZero() {
				t.Fatalf("LastTokenIssued with no grant = %v, want zero", got)
			}
			g1, g2 := f.grant(alice, a), f.grant(alice, a)
			for _, tt := range []struct {
				name string
				g    gatehouse.Grant
				at   time.Duration
			}{{"old", g1, time.Minute}, {"newest", g2, time.Hour}, {"middle", g1, 30 * time.Minute}} {
				tok := f.newToken(tt.name, gatehouse.AccessToken, tt.g)
				tok.IssuedAt = at(tt.at)
				ok(t, f.st.CreateToken(f.ctx, tok))
			}
			// Newer tokens of bob, of alice's other app and of the app
			// itself (client credentials) do not count.
			for i, g := range []gatehouse.Grant{f.grant(bob, a), f.grant(alice, other), {AppID: a.ID}} {
				tok := f.newToken(fmt.Sprint("noise", i), gatehouse.AccessToken, g)
				tok.IssuedAt = at(2 * time.Hour)
				ok(t, f.st.CreateToken(f.ctx, tok))
			}
			got, err = f.st.LastTokenIssued(f.ctx, alice.ID, a.ID)
			ok(t, err)
			if !got.Equal(at(time.Hour).Truncate(time.Millisecond)) {
				t.Fatalf("LastTokenIssued = %v, want %v", got, at(time.Hour))
			}
		}},
	}
}
