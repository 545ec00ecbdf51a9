package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func scopeCases() []testCase {
	return []testCase{
		{"RoundTrip", func(t *testing.T, f *fixture) {
			for _, want := range []gatehouse.Scope{
				{Name: "openid", Description: "Sign you in", CreatedAt: at(0)},
				{Name: "urn:example:read", Description: "", CreatedAt: time.Time{}}, // zero time stays zero
			} {
				ok(t, f.st.CreateScope(f.ctx, want))
				got, err := f.st.GetScope(f.ctx, want.Name)
				ok(t, err)
				same(t, "scope", got, want)
			}
		}},
		{"CreateDuplicate", func(t *testing.T, f *fixture) {
			first := f.scope("read")
			err := f.st.CreateScope(f.ctx, gatehouse.Scope{Name: "read", Description: "other", CreatedAt: at(time.Hour)})
			isErr(t, err, gatehouse.ErrAlreadyExists)
			got, err := f.st.GetScope(f.ctx, "read")
			ok(t, err)
			same(t, "scope after a failed duplicate", got, first)
		}},
		{"GetMissing", func(t *testing.T, f *fixture) {
			f.scope("read")
			_, err := f.st.GetScope(f.ctx, "write")
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"ListEmpty", func(t *testing.T, f *fixture) {
			got, err := f.st.ListScopes(f.ctx)
			ok(t, err)
			if len(got) != 0 {
				t.Fatalf("ListScopes of an empty store = %v", got)
			}
		}},
		{"ListOrderedByName", func(t *testing.T, f *fixture) {
			var want []gatehouse.Scope
			for _, name := range []string{"write", "admin", "read", "profile"} {
				f.scope(name)
			}
			for _, name := range []string{"admin", "profile", "read", "write"} {
				want = append(want, gatehouse.Scope{Name: name, Description: "Allows " + name, CreatedAt: at(0)})
			}
			got, err := f.st.ListScopes(f.ctx)
			ok(t, err)
			sameList(t, "ListScopes", got, want)
		}},
	}
}

func userCases() []testCase {
	return []testCase{
		{"RoundTrip", func(t *testing.T, f *fixture) {
			want := f.user("alice")
			if want.ID == 0 {
				t.Fatal("CreateUser returned no ID")
			}
			got, err := f.st.GetUser(f.ctx, want.ID)
			ok(t, err)
			same(t, "GetUser", got, want)
			got, err = f.st.GetUserByUsername(f.ctx, "alice")
			ok(t, err)
			same(t, "GetUserByUsername", got, want)
		}},
		{"ZeroCreatedAt", func(t *testing.T, f *fixture) {
			want, err := f.st.CreateUser(f.ctx, gatehouse.User{Username: "bob", PasswordHash: "h"})
			ok(t, err)
			got, err := f.st.GetUser(f.ctx, want.ID)
			ok(t, err)
			same(t, "user", got, want)
		}},
		{"DistinctIDs", func(t *testing.T, f *fixture) {
			a, b := f.user("alice"), f.user("bob")
			if a.ID == b.ID {
				t.Fatalf("two users have ID %d", a.ID)
			}
		}},
		{"CreateDuplicate", func(t *testing.T, f *fixture) {
			first := f.user("alice")
			_, err := f.st.CreateUser(f.ctx, gatehouse.User{Username: "alice", PasswordHash: "other"})
			isErr(t, err, gatehouse.ErrAlreadyExists)
			got, err := f.st.GetUserByUsername(f.ctx, "alice")
			ok(t, err)
			same(t, "user after a failed duplicate", got, first)
		}},
		{"List", func(t *testing.T, f *fixture) {
			got, err := f.st.ListUsers(f.ctx)
			ok(t, err)
			if len(got) != 0 {
				t.Fatalf("ListUsers of an empty store: %v", got)
			}
			b, a := f.user("bob"), f.user("alice")
			got, err = f.st.ListUsers(f.ctx)
			ok(t, err)
			if len(got) != 2 {
				t.Fatalf("ListUsers: %d users, want 2", len(got))
			}
			same(t, "first user (by ID)", got[0], b)
			same(t, "second user (by ID)", got[1], a)
		}},
		{"GetMissing", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			_, err := f.st.GetUser(f.ctx, u.ID+1000)
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetUserByUsername(f.ctx, "bob")
			isErr(t, err, gatehouse.ErrNotFound)
		}},
	}
}
