package client_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client/internal/gatehousetest"
)

// goTool runs the go command in the module's root and returns its
// combined output; a failure fails the test.
func goTool(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// freeAddr returns a loopback address no one listens on (for a moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var completeURI = regexp.MustCompile(`or open (\S+/device\?user_code=\S+)`)

// The examples under examples/ build and vet, and the README's walkthrough
// runs: the CLI signs in with the device flow (--no-browser) while a
// second client plays the user, keeps its tokens in the encrypted file
// store (no token in plain text on disk), calls the example API (on the
// resource-server middleware) with them, and 'logout' revokes the grant
// at the server; a call after it is refused locally.
func TestExamplesRun(t *testing.T) {
	goTool(t, "vet", "./examples/...")
	bin := t.TempDir()
	goTool(t, "build", "-o", bin+string(os.PathSeparator), "./examples/...")
	for _, name := range []string{"cli", "api", "webapp"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			t.Fatalf("example %s was not built: %v", name, err)
		}
	}

	s := gatehousetest.StartArgs(t, []string{"--device-poll-interval", "1s"})
	password := s.CreateUser(t, "alice")
	work := t.TempDir()
	register := func(file string, args ...string) {
		out := s.Run(t, "", append([]string{"app", "create", "--output", "json"}, args...)...)
		if err := os.WriteFile(filepath.Join(work, file), []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	register("api.json", "--name", "Example API", "--type", "confidential", "--resource-server", "--grant", "client_credentials")
	register("cli.json", "--name", "Example CLI", "--type", "public", "--scope", "read", "--redirect-uri", "http://127.0.0.1/callback",
		"--grant", "authorization_code,refresh_token,device_code")

	apiAddr := freeAddr(t)
	api := exec.Command(filepath.Join(bin, "api"), "--issuer", s.URL, "--app-file", "api.json", "--addr", apiAddr)
	api.Dir = work
	var apiLog bytes.Buffer
	api.Stdout, api.Stderr = &apiLog, &apiLog
	if err := api.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Process.Signal(os.Interrupt); _ = api.Wait() })
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", apiAddr); err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("the example API did not start: %s", apiLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	store := filepath.Join(work, "cli-store")
	cli := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(t.Context(), filepath.Join(bin, "cli"), append([]string{"--issuer", s.URL, "--app-file", "cli.json", "--store", "file", "--dir", store}, args...)...)
		cmd.Dir = work
		return cmd
	}

	// login --no-browser: the device flow, the user approving elsewhere.
	login := cli("login", "--no-browser")
	stderr, err := login.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	login.Stdout = &stdout
	if err := login.Start(); err != nil {
		t.Fatal(err)
	}
	approved := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := completeURI.FindStringSubmatch(sc.Text()); m != nil {
				approved <- s.NewBrowser().Device(context.WithoutCancel(t.Context()), m[1], "alice", password, "allow")
			}
		}
	}()
	select {
	case err := <-approved:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the CLI printed no verification URI")
	}
	if err := login.Wait(); err != nil || !strings.Contains(stdout.String(), "signed in") {
		t.Fatalf("cli login: %v: %s", err, stdout.String())
	}

	// The tokens are on disk, encrypted.
	var stored int
	_ = filepath.WalkDir(store, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte("gth_at_")) || bytes.Contains(b, []byte("gth_rt_")) {
			t.Errorf("%s holds a token in plain text", path)
		}
		stored++
		return nil
	})
	if stored < 2 {
		t.Fatalf("the file store holds %d files, want the key and the tokens", stored)
	}

	out, err := cli("call", "http://"+apiAddr+"/hello").Output()
	if err != nil || !strings.Contains(string(out), `"hello":"alice"`) {
		t.Fatalf("cli call: %v: %s", err, out)
	}

	cliID := appID(t, filepath.Join(work, "cli.json"))
	if out, err := cli("logout").CombinedOutput(); err != nil || !strings.Contains(string(out), "signed out") {
		t.Fatalf("cli logout: %v: %s", err, out)
	}
	var grants []struct {
		RevokedAt string `json:"revoked_at"`
	}
	if err := json.Unmarshal([]byte(s.Run(t, "", "grant", "list", "--app", cliID, "-o", "json")), &grants); err != nil || len(grants) != 1 || grants[0].RevokedAt == "" {
		t.Fatalf("after logout the CLI's grant is %+v (%v), want revoked", grants, err)
	}
	if out, err := cli("call", "http://"+apiAddr+"/hello").CombinedOutput(); err == nil || !strings.Contains(string(out), "not signed in") {
		t.Fatalf("cli call after logout: %v: %s", err, out)
	}
}

func appID(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var a gatehousetest.App
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a.ClientID
}
