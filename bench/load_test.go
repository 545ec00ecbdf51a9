package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func testFixture(conns int) *Fixture {
	f := &Fixture{
		Service:  Credentials{"app_svc", "gth_cs_secret"},
		Resource: Credentials{"app_rs", "gth_cs_other"},
		Web:      Credentials{"app_web", "gth_cs_web"},
		PublicID: "app_spa", RedirectURI: "https://bench.example/cb", Scope: "read",
		SessionCookie: "gatehouse_session=s",
		Valid:         []string{"v1", "v2"}, Revoked: []string{"r1"}, Revocable: []string{"x1", "x2", "x3"},
	}
	for range conns {
		f.Refresh = append(f.Refresh, "rt")
	}
	return f
}

// TestEveryScenarioPassesOnTheCeiling drives the ceiling with every
// scenario: the load generator, the scenarios' checks and the ceiling agree.
func TestEveryScenarioPassesOnTheCeiling(t *testing.T) {
	f := testFixture(4)
	srv := httptest.NewServer(NewCeiling(f.Clients()))
	defer srv.Close()
	ceil := Target{Name: "ceiling", URL: srv.URL, Ceiling: true}
	for _, sc := range Scenarios {
		r := Run(t.Context(), Load{Connections: 4, Duration: 50 * time.Millisecond}, sc.start(ceil, f))
		if r.Errors != 0 || r.Ops == 0 || r.Rate() <= 0 || r.Latency.Count() != r.Ops {
			t.Errorf("%s: %d ops, %d errors %v, rate %.0f", sc.Name, r.Ops, r.Errors, r.ErrorSamples, r.Rate())
		}
	}
}

// TestServerChecksAreStrict: the checks of a real server's answers are not
// the ceiling's shape-only ones — the ceiling says every token is active,
// which fails introspect_revoked.
func TestServerChecksAreStrict(t *testing.T) {
	f := testFixture(1)
	srv := httptest.NewServer(NewCeiling(f.Clients()))
	defer srv.Close()
	sc, _ := find("introspect_revoked")
	r := Run(t.Context(), Load{Connections: 1, Duration: 20 * time.Millisecond}, sc.start(Target{URL: srv.URL}, f))
	if r.Ops != 0 || r.Errors == 0 || len(r.ErrorSamples) != 1 {
		t.Errorf("%d ops, %d errors, samples %q", r.Ops, r.Errors, r.ErrorSamples)
	}
}

func TestSingleUsePoolEndsTheRun(t *testing.T) {
	f := testFixture(2)
	srv := httptest.NewServer(NewCeiling(f.Clients()))
	defer srv.Close()
	sc, _ := find("revoke")
	r := Run(t.Context(), Load{Connections: 2, Duration: 10 * time.Second}, sc.start(Target{URL: srv.URL}, f))
	if !r.Exhausted || r.Ops != uint64(len(f.Revocable)) || r.Elapsed > 5*time.Second {
		t.Errorf("exhausted %t after %d ops in %v", r.Exhausted, r.Ops, r.Elapsed)
	}
}

func TestRunCountsFailuresAndKeepsDistinctSamples(t *testing.T) {
	calls := 0
	worker := func(int, *http.Client) Op {
		return func(context.Context) error {
			calls++
			if calls%2 == 0 {
				return errors.New("bad answer")
			}
			return nil
		}
	}
	r := Run(t.Context(), Load{Connections: 1, Duration: 10 * time.Millisecond}, worker)
	if r.Errors == 0 || r.Ops == 0 || r.Ops+r.Errors != uint64(calls) || len(r.ErrorSamples) != 1 {
		t.Errorf("%d ops %d errors of %d calls, samples %q", r.Ops, r.Errors, calls, r.ErrorSamples)
	}
}

func TestSelect(t *testing.T) {
	got, err := Select([]string{"revoke", "client_credentials"})
	if err != nil || len(got) != 2 || got[0].Name != "client_credentials" || got[1].Name != "revoke" {
		t.Errorf("Select = %v, %v", got, err)
	}
	if all, _ := Select(nil); len(all) != len(Scenarios) {
		t.Errorf("Select(nil) has %d scenarios", len(all))
	}
	if _, err := Select([]string{"nope"}); err == nil {
		t.Error("an unknown scenario is accepted")
	}
}
