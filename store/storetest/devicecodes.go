package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// newDeviceCode returns an unsaved, undecided device authorization
// request of the app, expiring at t0+10m.
func newDeviceCode(name string, a gatehouse.App) gatehouse.DeviceCode {
	return gatehouse.DeviceCode{
		Digest: digest(name), UserCode: digest("user code " + name), AppID: a.ID, Scopes: []string{"read", "write"},
		CreatedAt: at(0), ExpiresAt: at(10 * time.Minute), Interval: 5 * time.Second,
	}
}

func (f *fixture) deviceCode(name string, a gatehouse.App) gatehouse.DeviceCode {
	f.t.Helper()
	d := newDeviceCode(name, a)
	ok(f.t, f.st.CreateDeviceCode(f.ctx, d))
	return d
}

// approval returns the grant an approval of d by u opens.
func approval(u gatehouse.User, d gatehouse.DeviceCode) *gatehouse.Grant {
	return &gatehouse.Grant{UserID: u.ID, AppID: d.AppID, Scopes: d.Scopes, CreatedAt: at(time.Minute)}
}

func deviceCodeCases() []testCase {
	return []testCase{
		{"RoundTrip", func(t *testing.T, f *fixture) {
			want := f.deviceCode("dc", f.app("tv"))
			got, err := f.st.GetDeviceCode(f.ctx, want.Digest)
			ok(t, err)
			same(t, "device code", got, want)
			got, err = f.st.GetDeviceCodeByUserCode(f.ctx, want.UserCode)
			ok(t, err)
			same(t, "device code by user code", got, want)
			_, err = f.st.GetDeviceCode(f.ctx, want.UserCode)
			isErr(t, err, gatehouse.ErrNotFound) // the two digests are not interchangeable
			_, err = f.st.GetDeviceCodeByUserCode(f.ctx, want.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"CreateErrors", func(t *testing.T, f *fixture) {
			a := f.app("tv")
			d := f.deviceCode("dc", a)
			again := newDeviceCode("other", a)
			again.Digest = d.Digest
			isErr(t, f.st.CreateDeviceCode(f.ctx, again), gatehouse.ErrAlreadyExists)
			again = newDeviceCode("other", a)
			again.UserCode = d.UserCode
			isErr(t, f.st.CreateDeviceCode(f.ctx, again), gatehouse.ErrAlreadyExists)
			orphan := newDeviceCode("orphan", gatehouse.App{ID: a.ID + 100})
			isErr(t, f.st.CreateDeviceCode(f.ctx, orphan), gatehouse.ErrNotFound)
			// Positive control: a distinct request of the app is stored.
			ok(t, f.st.CreateDeviceCode(f.ctx, newDeviceCode("other", a)))
		}},
		{"Poll", func(t *testing.T, f *fixture) {
			d := f.deviceCode("dc", f.app("tv"))
			ok(t, f.st.PollDeviceCode(f.ctx, d.Digest, at(7*time.Second), 10*time.Second))
			got, err := f.st.GetDeviceCode(f.ctx, d.Digest)
			ok(t, err)
			d.PolledAt, d.Interval = at(7*time.Second), 10*time.Second
			same(t, "polled device code", got, d)
			isErr(t, f.st.PollDeviceCode(f.ctx, digest("missing"), at(time.Second), time.Second), gatehouse.ErrNotFound)
		}},
		{"Approve", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := f.deviceCode("dc", f.app("tv"))
			got, err := f.st.DecideDeviceCode(f.ctx, d.UserCode, at(time.Minute), u.ID, approval(u, d))
			ok(t, err)
			if got.GrantID == 0 || !got.Approved() {
				t.Fatalf("approved request = %+v, want a grant", got)
			}
			d.UserID, d.DecidedAt, d.GrantID = u.ID, at(time.Minute), got.GrantID
			same(t, "approved device code", got, d)
			g, err := f.st.GetGrant(f.ctx, got.GrantID)
			ok(t, err)
			same(t, "grant opened by the approval", g, gatehouse.Grant{ID: got.GrantID, UserID: u.ID, AppID: d.AppID, Scopes: d.Scopes, CreatedAt: at(time.Minute)})
		}},
		{"Deny", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := f.deviceCode("dc", f.app("tv"))
			got, err := f.st.DecideDeviceCode(f.ctx, d.UserCode, at(time.Minute), u.ID, nil)
			ok(t, err)
			d.UserID, d.DecidedAt = u.ID, at(time.Minute)
			same(t, "denied device code", got, d)
			if !got.Decided() || got.Approved() {
				t.Fatalf("denied request = %+v", got)
			}
			grants, err := f.st.ListGrants(f.ctx, u.ID, 0)
			ok(t, err)
			if len(grants) != 0 {
				t.Fatalf("a denial opened %d grants", len(grants))
			}
		}},
		{"DecideOnce", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := f.deviceCode("dc", f.app("tv"))
			first, err := f.st.DecideDeviceCode(f.ctx, d.UserCode, at(time.Minute), u.ID, nil)
			ok(t, err)
			got, err := f.st.DecideDeviceCode(f.ctx, d.UserCode, at(2*time.Minute), u.ID, approval(u, d))
			isErr(t, err, gatehouse.ErrAlreadyUsed)
			same(t, "request returned with ErrAlreadyUsed", got, first)
			grants, err := f.st.ListGrants(f.ctx, u.ID, 0)
			ok(t, err)
			if len(grants) != 0 {
				t.Fatalf("a refused approval left %d grants", len(grants))
			}
		}},
		{"DecideErrors", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := f.deviceCode("dc", f.app("tv"))
			_, err := f.st.DecideDeviceCode(f.ctx, digest("missing"), at(time.Minute), u.ID, nil)
			isErr(t, err, gatehouse.ErrNotFound)
			ghost := gatehouse.User{ID: u.ID + 100}
			_, err = f.st.DecideDeviceCode(f.ctx, d.UserCode, at(time.Minute), ghost.ID, approval(ghost, d))
			isErr(t, err, gatehouse.ErrNotFound)
			got, err := f.st.GetDeviceCode(f.ctx, d.Digest)
			ok(t, err)
			same(t, "request after a failed approval", got, d) // nothing half-written
		}},
		{"Redeem", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := f.deviceCode("dc", f.app("tv"))
			d, err := f.st.DecideDeviceCode(f.ctx, d.UserCode, at(time.Minute), u.ID, approval(u, d))
			ok(t, err)
			g := gatehouse.Grant{ID: d.GrantID, UserID: u.ID, AppID: d.AppID}
			next := []gatehouse.Token{f.newToken("access", gatehouse.AccessToken, g), f.newToken("refresh", gatehouse.RefreshToken, g)}
			got, err := f.st.RedeemDeviceCode(f.ctx, d.Digest, at(2*time.Minute), next)
			ok(t, err)
			d.UsedAt = at(2 * time.Minute)
			same(t, "redeemed device code", got, d)
			for _, tok := range next {
				_, err := f.st.GetToken(f.ctx, tok.Digest)
				ok(t, err)
			}
			again, err := f.st.RedeemDeviceCode(f.ctx, d.Digest, at(3*time.Minute), []gatehouse.Token{f.newToken("access2", gatehouse.AccessToken, g)})
			isErr(t, err, gatehouse.ErrAlreadyUsed)
			same(t, "request redeemed twice", again, d)
			_, err = f.st.GetToken(f.ctx, digest("access2"))
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"RedeemUndecidedOrDenied", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			a := f.app("tv")
			pending, denied := f.deviceCode("pending", a), f.deviceCode("denied", a)
			denied, err := f.st.DecideDeviceCode(f.ctx, denied.UserCode, at(time.Minute), u.ID, nil)
			ok(t, err)
			tok := f.newToken("access", gatehouse.AccessToken, f.grant(u, a))
			for _, d := range []gatehouse.DeviceCode{pending, denied} {
				got, err := f.st.RedeemDeviceCode(f.ctx, d.Digest, at(2*time.Minute), []gatehouse.Token{tok})
				isErr(t, err, gatehouse.ErrAlreadyUsed)
				same(t, "request refused", got, d)
			}
			_, err = f.st.GetToken(f.ctx, tok.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.RedeemDeviceCode(f.ctx, digest("missing"), at(time.Minute), nil)
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"RedeemIntoRevokedGrant", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := f.deviceCode("dc", f.app("tv"))
			d, err := f.st.DecideDeviceCode(f.ctx, d.UserCode, at(time.Minute), u.ID, approval(u, d))
			ok(t, err)
			ok(t, f.st.RevokeGrant(f.ctx, d.GrantID, at(90*time.Second)))
			g := gatehouse.Grant{ID: d.GrantID, UserID: u.ID, AppID: d.AppID}
			_, err = f.st.RedeemDeviceCode(f.ctx, d.Digest, at(2*time.Minute), []gatehouse.Token{f.newToken("access", gatehouse.AccessToken, g)})
			isErr(t, err, gatehouse.ErrNotFound)
			got, err := f.st.GetDeviceCode(f.ctx, d.Digest)
			ok(t, err)
			same(t, "request after a refused redemption", got, d) // still unused
		}},
		{"DecideRace", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := f.deviceCode("dc", f.app("tv"))
			errs := make([]error, goroutines)
			race(goroutines, func(i int) {
				var g *gatehouse.Grant
				if i%2 == 0 {
					g = approval(u, d)
				}
				_, errs[i] = f.st.DecideDeviceCode(f.ctx, d.UserCode, at(time.Minute), u.ID, g)
			})
			won := winner(t, errs, gatehouse.ErrAlreadyUsed)
			grants, err := f.st.ListGrants(f.ctx, u.ID, 0)
			ok(t, err)
			if want := 1 - won%2; len(grants) != want {
				t.Fatalf("goroutine %d won and %d grants are stored, want %d", won, len(grants), want)
			}
		}},
		{"RedeemRace", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := f.deviceCode("dc", f.app("tv"))
			d, err := f.st.DecideDeviceCode(f.ctx, d.UserCode, at(time.Minute), u.ID, approval(u, d))
			ok(t, err)
			g := gatehouse.Grant{ID: d.GrantID, UserID: u.ID, AppID: d.AppID}
			next, errs := make([]gatehouse.Token, goroutines), make([]error, goroutines)
			for i := range next {
				next[i] = f.newToken(fmt.Sprint("access", i), gatehouse.AccessToken, g)
			}
			race(goroutines, func(i int) { _, errs[i] = f.st.RedeemDeviceCode(f.ctx, d.Digest, at(2*time.Minute), next[i:i+1]) })
			won := winner(t, errs, gatehouse.ErrAlreadyUsed)
			for i, tok := range next {
				_, err := f.st.GetToken(f.ctx, tok.Digest)
				if i == won {
					ok(t, err)
				} else {
					isErr(t, err, gatehouse.ErrNotFound)
				}
			}
		}},
		{"DeletedWithAppAndUser", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			a, b := f.app("tv"), f.app("radio")
			approved, denied, other := f.deviceCode("approved", a), f.deviceCode("denied", a), f.deviceCode("other", b)
			_, err := f.st.DecideDeviceCode(f.ctx, approved.UserCode, at(time.Minute), u.ID, approval(u, approved))
			ok(t, err)
			_, err = f.st.DecideDeviceCode(f.ctx, denied.UserCode, at(time.Minute), u.ID, nil)
			ok(t, err)
			ok(t, f.st.DeleteUser(f.ctx, u.ID))
			for _, d := range []gatehouse.DeviceCode{approved, denied} {
				_, err := f.st.GetDeviceCode(f.ctx, d.Digest)
				isErr(t, err, gatehouse.ErrNotFound)
			}
			_, err = f.st.GetDeviceCode(f.ctx, other.Digest) // undecided, another app's: kept
			ok(t, err)
			ok(t, f.st.DeleteApp(f.ctx, b.ClientID))
			_, err = f.st.GetDeviceCode(f.ctx, other.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"DeleteExpired", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			a := f.app("tv")
			expired, live := f.deviceCode("expired", a), newDeviceCode("live", a)
			live.ExpiresAt = at(time.Hour)
			ok(t, f.st.CreateDeviceCode(f.ctx, live))
			// Approved and never redeemed: its grant has no token, and goes
			// with it.
			expired, err := f.st.DecideDeviceCode(f.ctx, expired.UserCode, at(time.Minute), u.ID, approval(u, expired))
			ok(t, err)
			n, err := f.st.DeleteExpired(f.ctx, at(30*time.Minute), 100)
			ok(t, err)
			if n < 2 {
				t.Fatalf("DeleteExpired deleted %d records, want the device code and its grant", n)
			}
			_, err = f.st.GetDeviceCode(f.ctx, expired.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetGrant(f.ctx, expired.GrantID)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetDeviceCode(f.ctx, live.Digest)
			ok(t, err)
		}},
		{"DeleteExpiredKeepsUsedGrant", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			d := f.deviceCode("dc", f.app("tv"))
			d, err := f.st.DecideDeviceCode(f.ctx, d.UserCode, at(time.Minute), u.ID, approval(u, d))
			ok(t, err)
			g := gatehouse.Grant{ID: d.GrantID, UserID: u.ID, AppID: d.AppID}
			rt := f.newToken("refresh", gatehouse.RefreshToken, g)
			rt.ExpiresAt = at(48 * time.Hour)
			_, err = f.st.RedeemDeviceCode(f.ctx, d.Digest, at(2*time.Minute), []gatehouse.Token{rt})
			ok(t, err)
			_, err = f.st.DeleteExpired(f.ctx, at(time.Hour), 100)
			ok(t, err)
			_, err = f.st.GetDeviceCode(f.ctx, d.Digest)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetGrant(f.ctx, d.GrantID) // its refresh token lives on
			ok(t, err)
		}},
	}
}
