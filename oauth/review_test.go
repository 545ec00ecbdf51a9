package oauth_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/secret"
)

const day = oauth.Day

// reviewOf runs the review and returns the findings by check and client_id.
func reviewOf(t *testing.T, e *env) map[string]oauth.Finding {
	t.Helper()
	fs, err := e.srv.Review(t.Context(), oauth.ReviewPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]oauth.Finding{}
	for i, f := range fs {
		if i > 0 && f.Severity != fs[i-1].Severity && fs[i-1].Severity == oauth.SeverityLow {
			t.Errorf("finding %d (%s) after a low one: not sorted worst first", i, f.Severity)
		}
		out[f.Check+" "+f.ClientID] = f
	}
	return out
}

// credential stores a credential of the app, created age before now.
func credential(t *testing.T, e *env, app gatehouse.App, age time.Duration, mod func(*gatehouse.Credential)) gatehouse.Credential {
	t.Helper()
	d, _ := secret.NewDigester(serverKey)
	c := gatehouse.Credential{AppID: app.ID, Digest: d.Digest(secret.New(secret.ClientSecret)), Hint: "hint", CreatedAt: e.clock.now().Add(-age)}
	if mod != nil {
		mod(&c)
	}
	c, err := e.store.CreateCredential(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReviewCredentials: the credential checks, each beside an app that
// passes it (the positive controls).
func TestReviewCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.clock.add(400 * day)
	newApp := func(name string) gatehouse.App {
		a, _, err := e.srv.RegisterApp(ctx, oauth.AppSpec{Name: name, Type: gatehouse.Confidential, Scopes: []string{"read"}, Grants: []string{gatehouse.GrantClientCredentials}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	used := func(c *gatehouse.Credential) { c.LastUsedAt = c.CreatedAt.Add(time.Hour) }
	old, clean, unused, overlap, rotating := newApp("Old"), newApp("Clean"), newApp("Unused"), newApp("Overlap"), newApp("Rotating")
	oldCred := credential(t, e, old, 91*day, used)
	credential(t, e, clean, 89*day, used)
	unusedCred := credential(t, e, unused, 8*day, nil)
	credential(t, e, unused, 6*day, nil) // younger than the policy
	credential(t, e, overlap, 40*day, used)
	lingering := credential(t, e, overlap, 100*day, used)
	// A rotation in progress: the old one expires, the new one is young.
	credential(t, e, rotating, 200*day, func(c *gatehouse.Credential) { used(c); c.ExpiresAt = e.clock.now().Add(3 * day) })
	credential(t, e, rotating, 100*day, func(c *gatehouse.Credential) { used(c); c.ExpiresAt = e.clock.now().Add(-time.Hour) })
	// Each app's first credential would add findings of its own: go.
	for _, a := range []gatehouse.App{old, clean, unused, overlap, rotating, e.app} {
		creds, _ := e.store.ListCredentials(ctx, a.ID)
		if err := e.store.DeleteCredential(ctx, creds[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	credential(t, e, rotating, 2*day, used)

	got := reviewOf(t, e)
	for key, want := range map[string]struct {
		sev oauth.Severity
		in  []string
	}{
		"credential_age " + old.ClientID:         {oauth.SeverityMedium, []string{"gatehouse credential rotate --app " + old.ClientID + " --credential " + itoa(oldCred.ID)}},
		"credential_unused " + unused.ClientID:   {oauth.SeverityLow, []string{"gatehouse credential delete --app " + unused.ClientID + " --credential " + itoa(unusedCred.ID)}},
		"credential_overlap " + overlap.ClientID: {oauth.SeverityMedium, []string{"gatehouse credential delete --app " + overlap.ClientID + " --credential " + itoa(lingering.ID)}},
		"credential_age " + overlap.ClientID:     {oauth.SeverityMedium, []string{"--credential " + itoa(lingering.ID)}},
	} {
		f, ok := got[key]
		if !ok {
			t.Errorf("no finding %s; got %v", key, got)
			continue
		}
		delete(got, key)
		if f.Severity != want.sev {
			t.Errorf("%s: severity %s, want %s", key, f.Severity, want.sev)
		}
		for _, s := range want.in {
			if !strings.Contains(f.Fix, s) {
				t.Errorf("%s: fix %q lacks %q", key, f.Fix, s)
			}
		}
	}
	for key, f := range got {
		if strings.HasPrefix(f.Check, "credential_") { // e.app, 400 days old, has unused scopes
			t.Errorf("unexpected finding %s: %+v", key, f)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// countingStore counts TouchScopes calls.
type countingStore struct {
	gatehouse.Store
	touches atomic.Int64
}

func (c *countingStore) TouchScopes(ctx context.Context, appID int64, scopes []string, at time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchScopes(ctx, appID, scopes, at)
}

// TestScopeUseRecordedOncePerHour: issuing tokens records the scopes' use,
// with one write per app and scope an hour, not one per token; the review
// then reports only the scope left unused.
func TestScopeUseRecordedOncePerHour(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.srv.CreateScope(ctx, "write", "Write"); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: e.store}
	srv, err := oauth.NewServer(cs, serverKey, oauth.Config{Issuer: "https://as.example"}, oauth.Options{Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	app, sec, err := srv.RegisterApp(ctx, oauth.AppSpec{Name: "Svc", Type: gatehouse.Confidential, Scopes: []string{"read", "write"},
		DefaultScopes: []string{"read"}, Grants: []string{gatehouse.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	issue := func() {
		t.Helper()
		_, err := srv.Token(ctx, oauth.TokenRequest{Client: oauth.ClientAuth{Method: oauth.AuthBasic, ClientID: app.ClientID, Secret: sec},
			GrantType: gatehouse.GrantClientCredentials, Scope: "read"})
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		issue()
		e.clock.add(time.Minute)
	}
	if n := cs.touches.Load(); n != 1 {
		t.Fatalf("%d scope-use writes for 5 tokens within an hour, want 1", n)
	}
	e.clock.add(time.Hour)
	issue()
	if n := cs.touches.Load(); n != 2 {
		t.Fatalf("%d scope-use writes after an hour, want 2", n)
	}
	use, err := e.store.ListScopeUse(ctx, app.ID)
	if err != nil || len(use) != 1 || use[0].Scope != "read" || !use[0].LastUsedAt.Equal(e.clock.now().UTC()) {
		t.Fatalf("scope use %+v (%v): want read, used now", use, err)
	}

	// 100 days on, with a token for read on the last day: write is unused.
	e.clock.add(99 * day)
	issue()
	e.clock.add(day)
	fs, err := srv.Review(ctx, oauth.ReviewPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	var unused []oauth.Finding
	for _, f := range fs {
		if f.Check == oauth.CheckUnusedScope {
			unused = append(unused, f)
		}
	}
	if len(unused) != 2 {
		t.Fatalf("unused-scope findings %+v: want the service's and the first app's (no token in 100 days)", unused)
	}
	for _, f := range unused {
		switch f.ClientID {
		case app.ClientID:
			if !strings.Contains(f.Message, "write") || strings.Contains(f.Message, "read") || f.Fix != "gatehouse app update "+app.ClientID+" --scope read --default-scope read" {
				t.Errorf("the service's finding: %+v; want write unused, read kept", f)
			}
		case e.app.ClientID:
			if !strings.HasPrefix(f.Fix, "gatehouse app delete ") {
				t.Errorf("an app with no token in 100 days: %+v", f)
			}
		default:
			t.Errorf("finding of another app: %+v", f)
		}
	}
	// A younger app is not judged.
	young, _, err := srv.RegisterApp(ctx, oauth.AppSpec{Name: "Young", Type: gatehouse.Confidential, Scopes: []string{"write"}, Grants: []string{gatehouse.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.add(89 * day)
	fs, _ = srv.Review(ctx, oauth.ReviewPolicy{})
	if slices.ContainsFunc(fs, func(f oauth.Finding) bool { return f.ClientID == young.ClientID && f.Check == oauth.CheckUnusedScope }) {
		t.Error("an app younger than the policy has an unused-scope finding")
	}
}
