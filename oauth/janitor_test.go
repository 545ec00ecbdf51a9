package oauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// grantsLeft counts the grants with IDs 1 to n that the store still holds.
func (e *env) grantsLeft(t *testing.T, n int64) int {
	t.Helper()
	left := 0
	for id := int64(1); id <= n; id++ {
		_, err := e.store.GetGrant(t.Context(), id)
		if err == nil {
			left++
		} else if !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatal(err)
		}
	}
	return left
}

// Issue 9 finding 7: 300 silent approvals whose codes are never redeemed
// leave no grant once the janitor has swept after the codes expired; the
// grant of a redeemed code, which has live tokens, stays (the positive
// control). Audit events older than the retention go; newer ones stay.
func TestJanitorDeletesDeadGrantsAndOldEvents(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	app, code := e.userFlow(t)
	if _, err := e.redeem(t, app, code); err != nil {
		t.Fatal(err)
	}
	u, err := e.store.GetUserByUsername(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(verifier))
	p := map[string]string{"client_id": app.ClientID, "response_type": "code", "code_challenge_method": "S256",
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:])}
	req, err := e.srv.CheckAuthorize(app, app.RedirectURIs[0], p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 300 {
		if _, err := e.srv.Approve(ctx, u.ID, req); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.RecordEvent(ctx, gatehouse.Event{Kind: gatehouse.EventCodeReplay, Detail: "old"})
	if n := e.grantsLeft(t, 400); n != 301 {
		t.Fatalf("%d grants before the sweep, want 301", n)
	}
	e.clock.add(oauth.CodeTTL + oauth.SweepGrace)
	if _, err := e.srv.Sweep(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if n := e.grantsLeft(t, 400); n != 1 {
		t.Fatalf("%d grants after the sweep, want 1: the one with live tokens", n)
	}

	e.clock.add(oauth.DefaultEventRetention)
	e.srv.RecordEvent(ctx, gatehouse.Event{Kind: gatehouse.EventCodeReplay, Detail: "new"})
	if _, err := e.srv.Sweep(ctx, 100); err != nil {
		t.Fatal(err)
	}
	events, err := e.store.ListEvents(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Detail != (oauth.Detail{"message": "new"}).String() {
		t.Fatalf("events after the retention: %+v, want only the new one", events)
	}
}
