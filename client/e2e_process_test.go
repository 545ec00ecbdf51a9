package client_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

// The child process of TestO21_4_3_2_a_TwoProcessesShareOneFileStore.
const envRefreshChild = "GATEHOUSE_TEST_REFRESH_CHILD"

// refreshResult is what each process reports: how many requests it sent
// to the token endpoint, and the access tokens its callers got.
type refreshResult struct {
	TokenRequests int            `json:"token_requests"`
	Access        map[string]int `json:"access"`
}

// refreshInProcess discovers the server, opens the file store in dir and
// has 50 goroutines ask one source for a token once start is closed.
func refreshInProcess(ctx context.Context, issuer, clientID, dir string, keys *client.Keys, start <-chan struct{}) (refreshResult, error) {
	counter := &pathCounter{}
	p, err := client.Discover(ctx, issuer, client.AllowInsecureLoopback(),
		client.WithHTTPClient(&http.Client{Transport: counter, Timeout: 30 * time.Second}))
	if err != nil {
		return refreshResult{}, err
	}
	store, err := client.NewFileStore(dir, keys)
	if err != nil {
		return refreshResult{}, err
	}
	app := &client.PublicApp{Provider: p, ClientID: clientID, RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"read"}}
	src := app.TokenSource(store, client.TokenKey{Issuer: issuer, ClientID: clientID, Subject: "alice"})
	<-start
	var mu sync.Mutex
	got := refreshResult{Access: map[string]int{}}
	var wg sync.WaitGroup
	var firstErr error
	for range 50 {
		wg.Go(func() {
			tok, err := src.Token(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			got.Access[tok.AccessToken]++
		})
	}
	wg.Wait()
	got.TokenRequests = counter.count(p.TokenEndpoint)
	return got, firstErr
}

// TestRefreshChild is the child's side: it does nothing unless the parent
// started it.
func TestRefreshChild(t *testing.T) {
	if os.Getenv(envRefreshChild) == "" {
		t.Skip("the child process of TestO21_4_3_2_a_TwoProcessesShareOneFileStore")
	}
	key, err := client.KeyFromEnv(envRefreshChild + "_KEY")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := client.NewKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	go func() { _, _ = os.Stdin.Read(make([]byte, 1)); close(start) }()
	os.Stdout.WriteString("\nready\n")
	r, err := refreshInProcess(context.Background(), os.Getenv(envRefreshChild+"_ISSUER"), os.Getenv(envRefreshChild+"_CLIENT"),
		os.Getenv(envRefreshChild+"_DIR"), keys, start)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	os.Stdout.WriteString("\nresult " + string(b) + "\n")
}

// O21-4.3.2-a and issue 12's acceptance: two processes share one file
// store across an expiry, 50 callers in each. Exactly one refresh reaches
// the server (the file lock, and a reload after it), every caller in both
// processes gets the same new access token, and the stored refresh token
// is the newest: it refreshes again, where a superseded one would be taken
// for a reuse and end the grant.
func TestO21_4_3_2_a_TwoProcessesShareOneFileStore(t *testing.T) {
	e := newE2E(t)
	srv, base := listen(t)
	reg := e.s.CreateApp(t, "--name", "CLI", "--type", "public", "--redirect-uri", base+"/callback", "--scope", "read")
	app := &client.PublicApp{Provider: e.p, ClientID: reg.ClientID, RedirectURL: base + "/callback", Scopes: []string{"read"}}
	s := e.login(t, startWebApp(t, srv, base, app), userAgent())

	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	keyHex := hex.EncodeToString(raw)
	t.Setenv(envRefreshChild+"_KEY", keyHex)
	key, err := client.KeyFromEnv(envRefreshChild + "_KEY")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := client.NewKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tokens")
	store, err := client.NewFileStore(dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	k := client.TokenKey{Issuer: e.p.Issuer, ClientID: reg.ClientID, Subject: "alice"}
	expire(t, store, k, s.Token)

	child := exec.Command(os.Args[0], "-test.run=^TestRefreshChild$", "-test.count=1")
	child.Env = append(os.Environ(), envRefreshChild+"=1", envRefreshChild+"_ISSUER="+e.p.Issuer,
		envRefreshChild+"_CLIENT="+reg.ClientID, envRefreshChild+"_DIR="+dir)
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(prefix string) string {
		for l := range lines {
			if strings.HasPrefix(l, prefix) {
				return strings.TrimPrefix(l, prefix)
			}
		}
		t.Fatalf("the child ended without %q", prefix)
		return ""
	}
	next("ready")
	start := make(chan struct{})
	var mine refreshResult
	var mineErr error
	done := make(chan struct{})
	go func() {
		mine, mineErr = refreshInProcess(t.Context(), e.p.Issuer, reg.ClientID, dir, keys, start)
		close(done)
	}()
	close(start)
	_, _ = stdin.Write([]byte{1})
	<-done
	result := next("result ")
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if mineErr != nil {
		t.Fatal(mineErr)
	}
	var theirs refreshResult
	if err := json.Unmarshal([]byte(result), &theirs); err != nil {
		t.Fatalf("child result %q: %v", result, err)
	}
	if total := mine.TokenRequests + theirs.TokenRequests; total != 1 {
		t.Fatalf("%d refreshes reached the server (this process %d, the other %d), want exactly 1", total, mine.TokenRequests, theirs.TokenRequests)
	}
	access := map[string]bool{}
	for a := range mine.Access {
		access[a] = true
	}
	for a := range theirs.Access {
		access[a] = true
	}
	if len(access) != 1 || access[s.Token.AccessToken] {
		t.Fatalf("the callers of both processes got %d access tokens, want one new one", len(access))
	}
	stored, err := store.Load(t.Context(), k)
	if err != nil || stored.RefreshToken == s.Token.RefreshToken {
		t.Fatalf("the stored refresh token is not the rotated one: %v", err)
	}
	// After a restart (a new store on the same directory) the stored
	// refresh token refreshes: it is the newest.
	again := *stored
	again.Expiry = time.Now().Add(-time.Minute)
	if err := store.Save(t.Context(), k, &again); err != nil {
		t.Fatal(err)
	}
	restarted, err := client.NewFileStore(dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.TokenSource(restarted, k).Token(t.Context()); err != nil {
		t.Fatalf("refresh with the stored (newest) refresh token: %v", err)
	}
}
