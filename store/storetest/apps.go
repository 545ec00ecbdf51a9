package storetest

import (
	"cmp"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func appCases() []testCase {
	cases := []testCase{
		{"RoundTrip", func(t *testing.T, f *fixture) {
			want := f.newApp("web")
			got := f.app("web")
			if got.ID == 0 {
				t.Fatal("CreateApp returned no ID")
			}
			want.ID = got.ID
			same(t, "CreateApp", got, want)
			checkStored(t, f, want)
		}},
		{"RoundTripMinimal", func(t *testing.T, f *fixture) {
			// A public app with empty lists, no flags and a zero creation time.
			got, err := f.st.CreateApp(f.ctx, gatehouse.App{ClientID: "cli", Name: "CLI", Type: gatehouse.Public})
			ok(t, err)
			checkStored(t, f, got)
		}},
		{"GetMissing", func(t *testing.T, f *fixture) {
			a := f.app("web")
			_, err := f.st.GetApp(f.ctx, "web2")
			isErr(t, err, gatehouse.ErrNotFound)
			_, err = f.st.GetAppByID(f.ctx, a.ID+1000)
			isErr(t, err, gatehouse.ErrNotFound)
		}},
		{"ListEmpty", func(t *testing.T, f *fixture) {
			got, err := f.st.ListApps(f.ctx)
			ok(t, err)
			if len(got) != 0 {
				t.Fatalf("ListApps of an empty store = %v", got)
			}
		}},
		{"ListOrderedByID", func(t *testing.T, f *fixture) {
			// Each app has lists of its own, so that items attached to the
			// wrong app show.
			var want []gatehouse.App
			for i, id := range []string{"zeta", "alpha", "mid"} {
				a := f.newApp(id)
				a.Scopes = a.Scopes[i:]
				a.DefaultScopes = a.Scopes[:1]
				a.RedirectURIs = a.RedirectURIs[:i+1]
				a.Grants = a.Grants[:i%2+1]
				created, err := f.st.CreateApp(f.ctx, a)
				ok(t, err)
				want = append(want, created)
			}
			slices.SortFunc(want, func(a, b gatehouse.App) int { return cmp.Compare(a.ID, b.ID) })
			got, err := f.st.ListApps(f.ctx)
			ok(t, err)
			sameList(t, "ListApps", got, want)
		}},
	}
	return append(cases, createAppErrorCases()...)
}

// checkStored checks that GetApp, GetAppByID and ListApps return want.
func checkStored(t *testing.T, f *fixture, want gatehouse.App) {
	t.Helper()
	checkStoredApp(t, f, want)
	list, err := f.st.ListApps(f.ctx)
	ok(t, err)
	sameList(t, "ListApps", list, []gatehouse.App{want})
}

// createAppErrorCases check that a failed CreateApp stores nothing.
func createAppErrorCases() []testCase {
	tests := []struct {
		name  string
		setup func(f *fixture) []gatehouse.App // returns the apps stored before
		edit  func(a *gatehouse.App)
		want  error
		retry bool // the same client_id can be registered after the failure
	}{
		{
			name:  "DuplicateClientID",
			setup: func(f *fixture) []gatehouse.App { return []gatehouse.App{f.app("web")} },
			edit:  func(a *gatehouse.App) { a.Name, a.RedirectURIs = "Other", []string{"https://other.example/cb"} },
			want:  gatehouse.ErrAlreadyExists,
		},
		{
			name:  "UnknownScope",
			edit:  func(a *gatehouse.App) { a.Scopes = append(a.Scopes, "unregistered") },
			want:  gatehouse.ErrNotFound,
			retry: true,
		},
		{
			name:  "UnknownFirstScope",
			edit:  func(a *gatehouse.App) { a.Scopes = append([]string{"unregistered"}, a.Scopes...) },
			want:  gatehouse.ErrNotFound,
			retry: true,
		},
		{
			name:  "UnknownDefaultScope",
			edit:  func(a *gatehouse.App) { a.DefaultScopes = []string{"unregistered"} },
			want:  gatehouse.ErrNotFound,
			retry: true,
		},
	}
	var cases []testCase
	for _, tt := range tests {
		cases = append(cases, testCase{"CreateError/" + tt.name, func(t *testing.T, f *fixture) {
			var before []gatehouse.App
			if tt.setup != nil {
				before = tt.setup(f)
			}
			a := f.newApp("web")
			tt.edit(&a)
			_, err := f.st.CreateApp(f.ctx, a)
			isErr(t, err, tt.want)
			list, err := f.st.ListApps(f.ctx)
			ok(t, err)
			sameList(t, "ListApps after a failed CreateApp", list, before)
			if tt.retry {
				checkStored(t, f, f.app("web"))
			}
		}})
	}
	return cases
}
