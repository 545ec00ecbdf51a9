package main

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/bench"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// instance is one 'gatehouse serve' process of a multi-instance test.
type instance struct {
	name  string
	url   string
	child *bench.Child
}

// startInstances starts n serve processes (this test binary, turned into
// gatehouse by TestBenchHelperProcess) on one database, behind one issuer
// as behind a load balancer.
func startInstances(t *testing.T, n int, dsn, key string) []*instance {
	t.Helper()
	useTestBinaryAsChild(t)
	exe, lead, err := benchChild()
	if err != nil {
		t.Fatal(err)
	}
	var out []*instance
	for i := range n {
		addr, err := bench.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		c, err := bench.StartChild(bench.ChildSpec{
			Path: exe, CPU: -1,
			Env: slices.Concat(bench.Environ("GATEHOUSE_"), []string{"GATEHOUSE_SECRET_KEY=" + key, "GATEHOUSE_DB=" + dsn, benchHelperEnv + "=1"}),
			Args: slices.Concat(lead, []string{"serve", "--addr", addr, "--issuer", "https://id.example",
				"--data-dir", t.TempDir(), "--log-level", "warn"}),
		})
		if err != nil {
			t.Fatal(err)
		}
		in := &instance{name: string(rune('A' + i)), url: "http://" + addr, child: c}
		t.Cleanup(func() { _ = c.Stop(10 * time.Second) })
		if err := c.WaitHealthy(t.Context(), in.url+"/healthz", 30*time.Second); err != nil {
			t.Fatalf("instance %s: %v", in.name, err)
		}
		out = append(out, in)
	}
	return out
}

// post sends a form with c's Basic authentication to in's path.
func post(ctx context.Context, base, path string, c createdApp, form url.Values) (int, map[string]any, error) {
	return sendForm(ctx, base+path, c.ClientID, c.ClientSecret, form)
}

func issue(t *testing.T, in *instance, c createdApp) string {
	t.Helper()
	code, body, err := post(t.Context(), in.url, "/token", c, url.Values{"grant_type": {"client_credentials"}})
	if err != nil || code != http.StatusOK {
		t.Fatalf("token on %s: %d %v %v", in.name, code, body, err)
	}
	return body["access_token"].(string)
}

func active(t *testing.T, in *instance, rs createdApp, token string) bool {
	t.Helper()
	code, body, err := post(t.Context(), in.url, "/introspect", rs, url.Values{"token": {token}})
	if err != nil || code != http.StatusOK {
		t.Fatalf("introspect on %s: %d %v %v", in.name, code, body, err)
	}
	return body["active"] == true
}

// TestMultiInstancePostgres is issue 5's acceptance test: three serve
// processes on one PostgreSQL database agree at once on issuance,
// revocation and app deletion, and one killed with SIGKILL mid-load loses no
// token it answered 200 for.
func TestMultiInstancePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	dsn := pgtest.DSN(t)
	key := randomHexKey(t)
	vars := map[string]string{"GATEHOUSE_SECRET_KEY": key, "GATEHOUSE_DB": dsn}
	if code, _, errOut := runCmd(t, t.TempDir(), vars, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	if code, _, errOut := runCmd(t, t.TempDir(), vars, "", "scope", "create", "read", "--description", "Read"); code != 0 {
		t.Fatalf("scope: %s", errOut)
	}
	service := createAppWith(t, t.TempDir(), vars, "--name", "Service", "--type", "confidential", "--scope", "read", "--grant", "client_credentials")
	doomed := createAppWith(t, t.TempDir(), vars, "--name", "Doomed", "--type", "confidential", "--scope", "read", "--grant", "client_credentials")
	rs := createAppWith(t, t.TempDir(), vars, "--name", "API", "--type", "confidential", "--grant", "client_credentials", "--resource-server")

	ins := startInstances(t, 3, dsn, key)
	a, b, c := ins[0], ins[1], ins[2]

	t.Run("issued on A, active on B and C", func(t *testing.T) {
		tok := issue(t, a, service)
		for _, in := range []*instance{a, b, c} {
			if !active(t, in, rs, tok) {
				t.Errorf("a token issued on A is inactive on %s", in.name)
			}
		}
	})

	t.Run("revoked on B, inactive on A and C at once", func(t *testing.T) {
		tok := issue(t, a, service)
		for _, in := range []*instance{a, c} { // warm every cache first
			if !active(t, in, rs, tok) {
				t.Fatalf("inactive on %s before the revocation", in.name)
			}
		}
		code, body, err := post(t.Context(), b.url, "/revoke", service, url.Values{"token": {tok}})
		if err != nil || code != http.StatusOK {
			t.Fatalf("revoke on B: %d %v %v", code, body, err)
		}
		for _, in := range []*instance{a, c} {
			if active(t, in, rs, tok) {
				t.Errorf("a token revoked on B (200) is still active on %s", in.name)
			}
		}
	})

	t.Run("app deleted elsewhere stops authenticating on A at once", func(t *testing.T) {
		tok := issue(t, a, doomed) // A has the app and its credential cached now
		if !active(t, c, rs, tok) {
			t.Fatal("inactive before the deletion")
		}
		if code, _, errOut := runCmd(t, t.TempDir(), vars, "", "app", "delete", doomed.ClientID, "--yes"); code != 0 {
			t.Fatalf("app delete: %s", errOut)
		}
		code, body, err := post(t.Context(), a.url, "/token", doomed, url.Values{"grant_type": {"client_credentials"}})
		if err != nil || code != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("token for a deleted app on A: %d %v %v, want 401 invalid_client", code, body, err)
		}
		for _, in := range []*instance{a, b, c} {
			if active(t, in, rs, tok) {
				t.Errorf("a deleted app's token is active on %s", in.name)
			}
		}
	})

	// O21-2.4.1-a across instances: the login limits live in the database,
	// so wrong passwords spread over three instances count as one: the
	// account-and-address limit (5) refuses the sixth wherever it lands.
	t.Run("failed logins counted across instances", func(t *testing.T) {
		password := rand.Text()
		if code, _, errOut := runCmd(t, t.TempDir(), vars, password+"\n", "user", "create", "--username", "mallory-target", "--password-stdin"); code != 0 {
			t.Fatalf("user create: %s", errOut)
		}
		var statuses []int
		for i := range 7 {
			in := ins[i%3]
			p := newBrowser(t, in.url).post("/login", url.Values{"username": {"mallory-target"}, "password": {"wrong " + password}})
			statuses = append(statuses, p.status)
		}
		want := []int{401, 401, 401, 401, 401, 429, 429}
		if !slices.Equal(statuses, want) {
			t.Fatalf("wrong passwords on A, B, C, A, …: %v, want %v", statuses, want)
		}
		// The limit counts failures only, and the right password is refused
		// too while the bucket is empty.
		if p := newBrowser(t, c.url).post("/login", url.Values{"username": {"mallory-target"}, "password": {password}}); p.status != 429 {
			t.Errorf("the right password while throttled: %d, want 429", p.status)
		}
	})

	// Invariant 10 on PostgreSQL, which refuses a NUL byte or invalid UTF-8
	// in text with an error: such a client_id or username is a client or
	// account that does not exist (4xx), never a 500 (review M2).
	t.Run("bytes PostgreSQL refuses are 4xx, not 5xx", func(t *testing.T) {
		for _, id := range []string{"%00", "app%FF", "a%00b"} {
			resp, err := http.Get(a.url + "/authorize?response_type=code&client_id=" + id)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("authorize with client_id=%s: %d, want 400", id, resp.StatusCode)
			}
			req, _ := http.NewRequest("POST", a.url+"/token", strings.NewReader("grant_type=client_credentials&client_id="+id+"&client_secret=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("token with client_id=%s: %d, want 401", id, resp.StatusCode)
			}
		}
		for _, name := range []string{"a\x00", "b\xff"} {
			if p := newBrowser(t, b.url).post("/login", url.Values{"username": {name}, "password": {"x"}}); p.status != http.StatusUnauthorized {
				t.Errorf("login as %q: %d, want 401", name, p.status)
			}
		}
	})

	t.Run("SIGKILL mid-load loses no answered token", func(t *testing.T) {
		answered := killMidLoad(t, a, service)
		if len(answered) < 20 {
			t.Fatalf("only %d tokens answered before the kill; the load did not run", len(answered))
		}
		var lost int
		for _, tok := range answered {
			if !active(t, b, rs, tok) {
				lost++
			}
		}
		if lost > 0 {
			t.Errorf("%d of %d tokens answered 200 by the killed instance are not active on B", lost, len(answered))
		}
		t.Logf("%d tokens answered before SIGKILL, all active on B", len(answered))
	})
}

// killMidLoad issues tokens on in from 8 connections and kills it with
// SIGKILL while they run; it returns every token it answered 200 for.
func killMidLoad(t *testing.T, in *instance, c createdApp) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var (
		mu       sync.Mutex
		answered []string
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				code, body, err := post(ctx, in.url, "/token", c, url.Values{"grant_type": {"client_credentials"}})
				if err != nil {
					return // the server is gone
				}
				if code == http.StatusOK {
					mu.Lock()
					answered = append(answered, body["access_token"].(string))
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(700 * time.Millisecond)
	if err := syscall.Kill(in.child.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !in.child.Exited() {
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(answered)
}
