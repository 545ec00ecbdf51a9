package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The operator's changes: UpdateApp, DeleteScope, DeleteUser and
// SetPasswordHash.

func updateAppCases() []testCase {
	return []testCase{
		{"ReplacesNameListsAndFlag", func(t *testing.T, f *fixture) {
			a := f.app("web")
			other := f.app("other")
			f.scope("extra")
			change := gatehouse.App{
				ID: 999, ClientID: "web", Name: "Renamed", Type: gatehouse.Public, CreatedAt: at(time.Hour), // ignored
				RedirectURIs:  []string{"https://new.example/cb"},
				Scopes:        []string{"extra", "read"},
				DefaultScopes: []string{"extra"},
				Grants:        []string{gatehouse.GrantClientCredentials},
			}
			want := a
			want.Name, want.RedirectURIs, want.Scopes, want.DefaultScopes = change.Name, change.RedirectURIs, change.Scopes, change.DefaultScopes
			want.Grants, want.ResourceServer = change.Grants, false
			got, err := f.st.UpdateApp(f.ctx, change)
			ok(t, err)
			same(t, "UpdateApp", got, want)
			checkStoredApp(t, f, want)
			checkStoredApp(t, f, other)
		}},
		{"EmptiesListsAndFillsThemAgain", func(t *testing.T, f *fixture) {
			a := f.app("web")
			empty := a
			empty.RedirectURIs, empty.Scopes, empty.DefaultScopes, empty.Grants = nil, nil, nil, nil
			got, err := f.st.UpdateApp(f.ctx, empty)
			ok(t, err)
			same(t, "emptied", got, empty)
			checkStoredApp(t, f, empty)
			got, err = f.st.UpdateApp(f.ctx, a)
			ok(t, err)
			same(t, "filled again", got, a)
			checkStoredApp(t, f, a)
		}},
		{"KeepsCredentialsGrantsAndTokens", func(t *testing.T, f *fixture) {
			w := f.world("web", f.user("alice"))
			renamed := w.app
			renamed.Name = "Renamed"
			_, err := f.st.UpdateApp(f.ctx, renamed)
			ok(t, err)
			w.app = renamed
			w.checkIntact(t, f)
		}},
		{"UnknownApp", func(t *testing.T, f *fixture) {
			a := f.app("web")
			ghost := f.newApp("ghost")
			_, err := f.st.UpdateApp(f.ctx, ghost)
			isErr(t, err, gatehouse.ErrNotFound)
			checkStored(t, f, a)
		}},
		{"UnregisteredScopeChangesNothing", func(t *testing.T, f *fixture) {
			a := f.app("web")
			for _, edit := range []func(*gatehouse.App){
				func(b *gatehouse.App) { b.Scopes = append(b.Scopes, "nosuch") },
				func(b *gatehouse.App) { b.DefaultScopes = []string{"nosuch"} },
			} {
				bad := a
				bad.Name, bad.RedirectURIs = "Changed", []string{"https://changed.example/cb"}
				bad.Scopes = append([]string(nil), a.Scopes...)
				edit(&bad)
				_, err := f.st.UpdateApp(f.ctx, bad)
				isErr(t, err, gatehouse.ErrNotFound)
				checkStored(t, f, a)
			}
		}},
	}
}

func deleteScopeCases() []testCase {
	return []testCase{
		{"Deletes", func(t *testing.T, f *fixture) {
			f.scope("a")
			b := f.scope("b")
			ok(t, f.st.DeleteScope(f.ctx, "a"))
			_, err := f.st.GetScope(f.ctx, "a")
			isErr(t, err, gatehouse.ErrNotFound)
			scopes, err := f.st.ListScopes(f.ctx)
			ok(t, err)
			sameList(t, "ListScopes", scopes, []gatehouse.Scope{b})
			isErr(t, f.st.DeleteScope(f.ctx, "a"), gatehouse.ErrNotFound)
			f.scope("a") // the name is free again
		}},
		{"Unknown", func(t *testing.T, f *fixture) {
			sc := f.scope("a")
			isErr(t, f.st.DeleteScope(f.ctx, "nosuch"), gatehouse.ErrNotFound)
			got, err := f.st.GetScope(f.ctx, "a")
			ok(t, err)
			same(t, "scope", got, sc)
		}},
		{"InUseByAnApp", func(t *testing.T, f *fixture) {
			a := f.app("web") // scopes write, read, admin; defaults read, write
			onlyDefault := a
			onlyDefault.Scopes = []string{"write", "admin"} // read stays a default scope only
			_, err := f.st.UpdateApp(f.ctx, onlyDefault)
			ok(t, err)
			for _, name := range []string{"admin", "read"} {
				isErr(t, f.st.DeleteScope(f.ctx, name), gatehouse.ErrInUse)
				_, err := f.st.GetScope(f.ctx, name)
				ok(t, err)
			}
			checkStoredApp(t, f, onlyDefault)
			// Once no app lists it, it goes; grants keep its name.
			u := f.user("alice")
			g := f.grant(u, a)
			freed := onlyDefault
			freed.Scopes, freed.DefaultScopes = []string{"write"}, []string{"write"}
			_, err = f.st.UpdateApp(f.ctx, freed)
			ok(t, err)
			ok(t, f.st.DeleteScope(f.ctx, "read"))
			got, err := f.st.GetGrant(f.ctx, g.ID)
			ok(t, err)
			same(t, "grant", got, g)
		}},
	}
}

// device stores a device of the user.
func (f *fixture) device(name string, u gatehouse.User) gatehouse.Device {
	f.t.Helper()
	d := gatehouse.Device{Digest: digest(name), UserID: u.ID, CreatedAt: at(0), ExpiresAt: at(24 * time.Hour)}
	ok(f.t, f.st.CreateDevice(f.ctx, d))
	return d
}

func checkDevicesGone(t *testing.T, f *fixture, devices ...gatehouse.Device) {
	t.Helper()
	for _, d := range devices {
		_, err := f.st.GetDevice(f.ctx, d.Digest)
		isErr(t, err, gatehouse.ErrNotFound)
	}
}

func checkDevices(t *testing.T, f *fixture, devices ...gatehouse.Device) {
	t.Helper()
	for _, d := range devices {
		got, err := f.st.GetDevice(f.ctx, d.Digest)
		ok(t, err)
		same(t, "device", got, d)
	}
}

func deleteUserCases() []testCase {
	return []testCase{
		{"DeletesEverythingOfTheUser", func(t *testing.T, f *fixture) {
			alice, bob := f.user("alice"), f.user("bob")
			aliceApp, bobApp := f.world("alice-app", alice), f.world("bob-app", bob)
			// alice's grant with bob's app, too.
			g := f.grant(alice, bobApp.app)
			code := f.code("alice-at-bob-code", g)
			access := f.token("alice-at-bob-access", gatehouse.AccessToken, g)
			aSession, bSession := f.session("alice-session", alice), f.session("bob-session", bob)
			aDevice, bDevice := f.device("alice-device", alice), f.device("bob-device", bob)

			ok(t, f.st.DeleteUser(f.ctx, alice.ID))

			_, err := f.st.GetUser(f.ctx, alice.ID)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetUserByUsername(f.ctx, "alice")
			isErr(t, err, gatehouse.ErrNotFound)
			for _, id := range []int64{aliceApp.grant.ID, g.ID} {
				_, err = f.st.GetGrant(f.ctx, id)
				isErr(t, err, gatehouse.ErrNotFound)
			}
			_, err = f.st.GetConsent(f.ctx, alice.ID, aliceApp.app.ID)
			isErr(t, err, gatehouse.ErrNotFound)
			checkMissing(t, f, aliceApp.access, aliceApp.refresh, access)
			for _, c := range []gatehouse.Code{aliceApp.code, code} {
				_, err = f.st.GetCode(f.ctx, c.Digest)
				isErr(t, err, gatehouse.ErrNotFound)
			}
			checkSessionsGone(t, f, aSession)
			checkDevicesGone(t, f, aDevice)

			// The app alice used stays, with its credential and its own
			// (client credentials) token; bob keeps everything.
			checkStoredApp(t, f, aliceApp.app)
			tok, err := f.st.GetToken(f.ctx, aliceApp.creds.Digest)
			ok(t, err)
			same(t, "client credentials token", tok, aliceApp.creds)
			cred, err := f.st.GetCredentialByDigest(f.ctx, aliceApp.cred.Digest)
			ok(t, err)
			same(t, "credential", cred, aliceApp.cred)
			bobApp.checkIntact(t, f)
			checkSessions(t, f, bSession)
			checkDevices(t, f, bDevice)
			users, err := f.st.ListUsers(f.ctx)
			ok(t, err)
			sameList(t, "ListUsers", users, []gatehouse.User{bob})
			f.user("alice") // the username is free again
		}},
		{"Unknown", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			s := f.session("s", u)
			isErr(t, f.st.DeleteUser(f.ctx, u.ID+1000), gatehouse.ErrNotFound)
			got, err := f.st.GetUser(f.ctx, u.ID)
			ok(t, err)
			same(t, "user", got, u)
			checkSessions(t, f, s)
		}},
		{"Twice", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			ok(t, f.st.DeleteUser(f.ctx, u.ID))
			isErr(t, f.st.DeleteUser(f.ctx, u.ID), gatehouse.ErrNotFound)
		}},
	}
}

func setPasswordCases() []testCase {
	return []testCase{
		{"ReplacesTheHashAndEndsSessionsAndDevices", func(t *testing.T, f *fixture) {
			alice, bob := f.user("alice"), f.user("bob")
			w := f.world("web", alice)
			aSessions := []gatehouse.Session{f.session("a1", alice), f.session("a2", alice)}
			aDevice := f.device("a-device", alice)
			bSession, bDevice := f.session("b1", bob), f.device("b-device", bob)
			const hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA"
			ok(t, f.st.SetPasswordHash(f.ctx, alice.ID, hash))
			got, err := f.st.GetUser(f.ctx, alice.ID)
			ok(t, err)
			alice.PasswordHash = hash
			same(t, "user", got, alice)
			checkSessionsGone(t, f, aSessions...)
			checkDevicesGone(t, f, aDevice)
			// bob is untouched, and alice's grants live on: ending them is
			// the caller's decision (grant revoke).
			got, err = f.st.GetUser(f.ctx, bob.ID)
			ok(t, err)
			same(t, "bob", got, bob)
			checkSessions(t, f, bSession)
			checkDevices(t, f, bDevice)
			w.checkIntact(t, f)
		}},
		{"Unknown", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			isErr(t, f.st.SetPasswordHash(f.ctx, u.ID+1000, "$argon2id$x"), gatehouse.ErrNotFound)
			got, err := f.st.GetUser(f.ctx, u.ID)
			ok(t, err)
			same(t, "user", got, u)
		}},
	}
}
