package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// ownedApp returns an unsaved app of newApp(clientID) owned by owner, with
// every profile field set.
func (f *fixture) ownedApp(clientID string, owner gatehouse.User) gatehouse.App {
	f.t.Helper()
	a := f.newApp(clientID)
	a.OwnerID = owner.ID
	a.Description = "The " + clientID + " app: «syncs» your notes."
	a.HomepageURL = "https://" + clientID + ".example/"
	a.PrivacyURL = "https://" + clientID + ".example/privacy"
	a.TermsURL = "https://" + clientID + ".example/terms?lang=en"
	return a
}

// developer stores a user marked as a developer.
func (f *fixture) developer(username string) gatehouse.User {
	f.t.Helper()
	u, err := f.st.CreateUser(f.ctx, gatehouse.User{
		Username: username, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: at(time.Second), Developer: true,
	})
	ok(f.t, err)
	return u
}

// checkUser checks that every read of the user returns want.
func checkUser(t *testing.T, f *fixture, want gatehouse.User) {
	t.Helper()
	got, err := f.st.GetUser(f.ctx, want.ID)
	ok(t, err)
	same(t, "GetUser", got, want)
	got, err = f.st.GetUserByUsername(f.ctx, want.Username)
	ok(t, err)
	same(t, "GetUserByUsername", got, want)
	users, err := f.st.ListUsers(f.ctx)
	ok(t, err)
	for _, u := range users {
		if u.ID == want.ID {
			same(t, "ListUsers", u, want)
			return
		}
	}
	t.Fatalf("ListUsers lacks user %d", want.ID)
}

// listByOwner checks that ListAppsByOwner(owner) returns want.
func listByOwner(t *testing.T, f *fixture, owner int64, want ...gatehouse.App) {
	t.Helper()
	got, err := f.st.ListAppsByOwner(f.ctx, owner)
	ok(t, err)
	sameList(t, "ListAppsByOwner", got, want)
}

func portalCases() []testCase {
	return []testCase{
		{"DeveloperRoundTrip", func(t *testing.T, f *fixture) {
			dev := f.developer("dev")
			plain := f.user("plain")
			if !dev.Developer || plain.Developer {
				t.Fatalf("CreateUser returned developer = %v and %v", dev.Developer, plain.Developer)
			}
			checkUser(t, f, dev)
			checkUser(t, f, plain)
			ok(t, f.st.SetUserDeveloper(f.ctx, dev.ID, false))
			dev.Developer = false
			checkUser(t, f, dev)
			ok(t, f.st.SetUserDeveloper(f.ctx, plain.ID, true))
			plain.Developer = true
			checkUser(t, f, plain)
			checkUser(t, f, dev) // only the one user changed
			ok(t, f.st.SetUserDeveloper(f.ctx, plain.ID, true))
			checkUser(t, f, plain)
			isErr(t, f.st.SetUserDeveloper(f.ctx, plain.ID+1000, true), gatehouse.ErrNotFound)
		}},
		{"OwnerAndProfileRoundTrip", func(t *testing.T, f *fixture) {
			dev := f.developer("dev")
			want := f.ownedApp("web", dev)
			got, err := f.st.CreateApp(f.ctx, want)
			ok(t, err)
			want.ID = got.ID
			same(t, "CreateApp", got, want)
			checkStored(t, f, want)
		}},
		{"OwnerAndProfileWithCredential", func(t *testing.T, f *fixture) {
			dev := f.developer("dev")
			want := f.ownedApp("web", dev)
			got, err := f.st.CreateAppWithCredential(f.ctx, want, gatehouse.Credential{
				Name: "initial", Digest: digest("cred"), Hint: "abcd", CreatedAt: at(0),
			})
			ok(t, err)
			want.ID = got.ID
			checkStored(t, f, want)
		}},
		{"UnknownOwnerStoresNothing", func(t *testing.T, f *fixture) {
			a := f.newApp("web")
			a.OwnerID = 4242
			_, err := f.st.CreateApp(f.ctx, a)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.CreateAppWithCredential(f.ctx, a, gatehouse.Credential{Name: "initial", Digest: digest("c"), Hint: "abcd", CreatedAt: at(0)})
			isErr(t, err, gatehouse.ErrNotFound)
			apps, err := f.st.ListApps(f.ctx)
			ok(t, err)
			if len(apps) != 0 {
				t.Fatalf("a failed CreateApp stored %v", apps)
			}
		}},
		{"UpdateOwnerAndProfile", func(t *testing.T, f *fixture) {
			dev, other := f.developer("dev"), f.developer("other")
			a, err := f.st.CreateApp(f.ctx, f.ownedApp("web", dev))
			ok(t, err)
			next := a
			next.OwnerID = other.ID
			next.Description, next.HomepageURL, next.PrivacyURL, next.TermsURL = "Changed.", "https://new.example/", "", "https://new.example/t"
			var got gatehouse.App
			f.changes("UpdateApp of the owner and profile", true, func() {
				got, err = f.st.UpdateApp(f.ctx, next)
				ok(t, err)
			})
			same(t, "UpdateApp", got, next)
			checkStored(t, f, next)
			listByOwner(t, f, dev.ID)
			listByOwner(t, f, other.ID, next)

			// An unknown owner changes nothing.
			bad := next
			bad.OwnerID, bad.Description = other.ID+1000, "Not stored."
			_, err = f.st.UpdateApp(f.ctx, bad)
			isErr(t, err, gatehouse.ErrNotFound)
			checkStored(t, f, next)

			// Zero clears the owner.
			next.OwnerID = 0
			got, err = f.st.UpdateApp(f.ctx, next)
			ok(t, err)
			same(t, "UpdateApp clearing the owner", got, next)
			checkStored(t, f, next)
			listByOwner(t, f, other.ID)
		}},
		{"DeletedOwnerLeavesAppOwnerless", func(t *testing.T, f *fixture) {
			dev, keep := f.developer("dev"), f.developer("keep")
			a, err := f.st.CreateApp(f.ctx, f.ownedApp("web", dev))
			ok(t, err)
			b, err := f.st.CreateApp(f.ctx, f.ownedApp("other", keep))
			ok(t, err)
			g := f.grant(dev, b) // the owner is also a user of another app
			f.token("at", gatehouse.AccessToken, g)
			f.changes("DeleteUser of an app's owner", true, func() { ok(t, f.st.DeleteUser(f.ctx, dev.ID)) })
			a.OwnerID = 0
			checkStoredApp(t, f, a)
			checkStoredApp(t, f, b)
			listByOwner(t, f, dev.ID)
			listByOwner(t, f, keep.ID, b)
			_, err = f.st.GetUser(f.ctx, dev.ID)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetToken(f.ctx, digest("at"))
			isErr(t, err, gatehouse.ErrNotFound)
			// The app can be given a new owner.
			a.OwnerID = keep.ID
			_, err = f.st.UpdateApp(f.ctx, a)
			ok(t, err)
			listByOwner(t, f, keep.ID, a, b)
		}},
		{"ListAppsByOwner", func(t *testing.T, f *fixture) {
			ann, bob := f.developer("ann"), f.developer("bob")
			var anns, bobs []gatehouse.App
			for i, id := range []string{"zeta", "alpha", "mid", "beta", "omega"} {
				owner, list := ann, &anns
				if i%2 == 1 {
					owner, list = bob, &bobs
				}
				a := f.ownedApp(id, owner)
				a.RedirectURIs = a.RedirectURIs[:i%3+1] // lists of their own
				created, err := f.st.CreateApp(f.ctx, a)
				ok(t, err)
				*list = append(*list, created)
			}
			ownerless, err := f.st.CreateApp(f.ctx, f.newApp("nobody"))
			ok(t, err)
			listByOwner(t, f, ann.ID, anns...)
			listByOwner(t, f, bob.ID, bobs...)
			listByOwner(t, f, 0)
			listByOwner(t, f, bob.ID+1000)
			// Deleting an app takes it off its owner's list.
			ok(t, f.st.DeleteApp(f.ctx, anns[1].ClientID))
			listByOwner(t, f, ann.ID, anns[0], anns[2])
			all, err := f.st.ListApps(f.ctx)
			ok(t, err)
			if len(all) != 5 || all[len(all)-1].ID != ownerless.ID || all[len(all)-1].OwnerID != 0 {
				t.Fatalf("ListApps = %v, want the 4 owned apps left and the ownerless one last", all)
			}
		}},
	}
}
