package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// event records an event of the given kind that mentions nothing, at t0+1m.
func (f *fixture) event(kind, detail string) gatehouse.Event {
	f.t.Helper()
	e, err := f.st.RecordEvent(f.ctx, gatehouse.Event{Kind: kind, At: at(time.Minute), Detail: detail})
	ok(f.t, err)
	return e
}

// checkEvents checks that ListEvents(limit) returns want.
func checkEvents(t *testing.T, f *fixture, limit int, want ...gatehouse.Event) {
	t.Helper()
	got, err := f.st.ListEvents(f.ctx, gatehouse.EventFilter{Limit: limit})
	ok(t, err)
	sameList(t, fmt.Sprintf("ListEvents(%d)", limit), got, want)
}

func eventCases() []testCase {
	return []testCase{
		{"Empty", func(t *testing.T, f *fixture) { checkEvents(t, f, 10) }},
		{"RoundTrip", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			want := gatehouse.Event{Kind: gatehouse.EventRefreshReuse, At: at(time.Minute), Actor: gatehouse.ActorApp,
				AppID: a.ID, UserID: u.ID, GrantID: f.grant(u, a).ID, Address: "2001:db8::7",
				Detail: `{"reason":"refresh token reused; grant revoked"}`}
			got, err := f.st.RecordEvent(f.ctx, want)
			ok(t, err)
			if got.ID == 0 {
				t.Fatal("RecordEvent returned no ID")
			}
			want.ID = got.ID
			same(t, "RecordEvent", got, want)
			checkEvents(t, f, 10, want)
		}},
		{"RoundTripNoSubjects", func(t *testing.T, f *fixture) {
			want := f.event(gatehouse.EventLoginThrottled, "")
			checkEvents(t, f, 1, want)
		}},
		{"NewestFirst", func(t *testing.T, f *fixture) {
			// Events of one millisecond: only the order of recording tells
			// which is newest.
			var recorded []gatehouse.Event
			for i := range 5 {
				recorded = append(recorded, f.event(gatehouse.EventClientThrottled, fmt.Sprint("attempt ", i)))
			}
			slices.Reverse(recorded)
			checkEvents(t, f, 10, recorded...)
			checkEvents(t, f, 5, recorded...)
			checkEvents(t, f, 2, recorded[:2]...)
			checkEvents(t, f, 1, recorded[:1]...)
		}},
		{"LimitBelowOne", func(t *testing.T, f *fixture) {
			f.event(gatehouse.EventCodeReplay, "")
			for _, limit := range []int{0, -1} {
				if _, err := f.st.ListEvents(f.ctx, gatehouse.EventFilter{Limit: limit}); err == nil {
					t.Fatalf("ListEvents(%d) accepted the limit", limit)
				}
			}
		}},
		{"FilterByAppAndSince", func(t *testing.T, f *fixture) {
			a, b := f.app("a"), f.app("b")
			record := func(app gatehouse.App, d time.Duration) gatehouse.Event {
				e, err := f.st.RecordEvent(f.ctx, gatehouse.Event{Kind: gatehouse.EventTokenRevoked, At: at(d), Actor: gatehouse.ActorOperator, AppID: app.ID, Detail: "{}"})
				ok(t, err)
				return e
			}
			a1, b1, a2, none, a3 := record(a, time.Minute), record(b, 2*time.Minute), record(a, 3*time.Minute), record(gatehouse.App{}, 4*time.Minute), record(a, 5*time.Minute)
			for _, tt := range []struct {
				name string
				f    gatehouse.EventFilter
				want []gatehouse.Event
			}{
				{"all", gatehouse.EventFilter{Limit: 10}, []gatehouse.Event{a3, none, a2, b1, a1}},
				{"app a", gatehouse.EventFilter{AppID: a.ID, Limit: 10}, []gatehouse.Event{a3, a2, a1}},
				{"app a, limit 2", gatehouse.EventFilter{AppID: a.ID, Limit: 2}, []gatehouse.Event{a3, a2}},
				{"app b", gatehouse.EventFilter{AppID: b.ID, Limit: 10}, []gatehouse.Event{b1}},
				{"since 3m (inclusive)", gatehouse.EventFilter{Since: at(3 * time.Minute), Limit: 10}, []gatehouse.Event{a3, none, a2}},
				{"app a since 3m", gatehouse.EventFilter{AppID: a.ID, Since: at(3 * time.Minute), Limit: 10}, []gatehouse.Event{a3, a2}},
				{"since after all", gatehouse.EventFilter{Since: at(time.Hour), Limit: 10}, nil},
				{"unknown app", gatehouse.EventFilter{AppID: b.ID + 1000, Limit: 10}, nil},
			} {
				got, err := f.st.ListEvents(f.ctx, tt.f)
				ok(t, err)
				sameList(t, "ListEvents("+tt.name+")", got, tt.want)
			}
		}},
		{"SurviveDeleteApp", func(t *testing.T, f *fixture) {
			u := f.user("alice")
			w := f.world("web", u)
			e, err := f.st.RecordEvent(f.ctx, gatehouse.Event{Kind: gatehouse.EventCodeReplay, At: at(time.Minute),
				AppID: w.app.ID, UserID: u.ID, GrantID: w.grant.ID, Detail: "code redeemed twice"})
			ok(t, err)
			ok(t, f.st.DeleteApp(f.ctx, w.app.ClientID))
			w.checkGone(t, f)
			checkEvents(t, f, 10, e)
		}},
	}
}
