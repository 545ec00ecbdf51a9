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
	got, err := f.st.ListEvents(f.ctx, limit)
	ok(t, err)
	sameList(t, fmt.Sprintf("ListEvents(%d)", limit), got, want)
}

func eventCases() []testCase {
	return []testCase{
		{"Empty", func(t *testing.T, f *fixture) { checkEvents(t, f, 10) }},
		{"RoundTrip", func(t *testing.T, f *fixture) {
			u, a := f.user("alice"), f.app("web")
			want := gatehouse.Event{Kind: gatehouse.EventRefreshReuse, At: at(time.Minute),
				AppID: a.ID, UserID: u.ID, GrantID: f.grant(u, a).ID, Detail: "refresh token reused; grant revoked"}
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
				if _, err := f.st.ListEvents(f.ctx, limit); err == nil {
					t.Fatalf("ListEvents(%d) accepted the limit", limit)
				}
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
