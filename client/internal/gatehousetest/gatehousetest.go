// Package gatehousetest runs the real Gatehouse server for the client
// toolkit's tests: the gatehouse binary, built once per test process from
// this module, serving 'serve --dev' on a free loopback port in a
// temporary data directory, with its administration commands and a
// scripted browser that signs in and consents.
//
// Only tests import it.
package gatehousetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/gatehouse once per test process.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		dir, err := os.MkdirTemp("", "gatehousetest")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "gatehouse")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/gatehouse")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/gatehouse: %w: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Server is a running Gatehouse dev server.
type Server struct {
	URL string // the issuer: http://127.0.0.1:PORT
	Dir string // its data directory's parent, where commands run
	bin string
	env []string
	cmd *exec.Cmd

	mu     sync.Mutex
	stderr bytes.Buffer
}

// Start runs 'gatehouse serve --dev' and stops it when the test ends. env
// adds environment variables (KEY=VALUE), for example GATEHOUSE_DB.
func Start(t testing.TB, env ...string) *Server {
	t.Helper()
	return StartArgs(t, nil, env...)
}

// StartArgs is Start with more flags for 'gatehouse serve' (for example
// --access-token-ttl 2s).
func StartArgs(t testing.TB, args []string, env ...string) *Server {
	t.Helper()
	s := &Server{Dir: t.TempDir(), bin: binary(t), env: append(os.Environ(), env...)}
	s.cmd = exec.Command(s.bin, append([]string{"serve", "--dev", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	s.cmd.Dir, s.cmd.Env = s.Dir, s.env
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			s.mu.Unlock()
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" {
				a, _ := m["addr"].(string)
				select {
				case addr <- a:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("gatehouse serve did not start: %s", s.Log())
	}
	return s
}

// Log returns what the server wrote to stderr so far (its JSON log).
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// Run runs a gatehouse command beside the server, with stdin, and returns
// its standard output; a non-zero exit fails the test.
func (s *Server) Run(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdin = s.Dir, s.env, strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("gatehouse %v: %v: %s", args, err, errOut.String())
	}
	return out.String()
}

// App is a registered app.
type App struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// CreateApp runs 'gatehouse app create' with args.
func (s *Server) CreateApp(t testing.TB, args ...string) App {
	t.Helper()
	var a App
	out := s.Run(t, "", append([]string{"app", "create", "-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("app create: %v: %s", err, out)
	}
	return a
}

// CreateUser creates a user with a fresh random password and returns it.
func (s *Server) CreateUser(t testing.TB, username string) string {
	t.Helper()
	password := "pw-" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "") + "-" + username
	s.Run(t, password+"\n", "user", "create", "--username", username, "--password-stdin")
	return password
}

// Introspect asks the server, as a resource server rs, whether token is
// active.
func (s *Server) Introspect(t testing.TB, rs App, token string) bool {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rs.ClientID), url.QueryEscape(rs.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("introspect: %d %v", resp.StatusCode, err)
	}
	return m["active"] == true
}

// Browser is a user agent that signs in and consents on the server's
// pages. It follows the server's own redirects and stops at the redirect
// to the app.
type Browser struct {
	c    *http.Client
	base string
}

// NewBrowser returns a browser with an empty cookie jar.
func (s *Server) NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{base: s.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// Authorize walks authURL: it signs in as username when asked and answers
// the consent page with decision ("allow" or "deny"), and returns the URL
// the server redirects the app's user agent to (the callback).
func (b *Browser) Authorize(ctx context.Context, authURL, username, password, decision string) (*url.URL, error) {
	var to *url.URL
	err := b.walk(ctx, authURL, username, password, decision, "/authorize", func(resp *http.Response, _ string) (bool, error) {
		loc := resp.Header.Get("Location")
		if loc == "" || strings.HasPrefix(loc, "/") {
			return false, nil
		}
		var err error
		to, err = url.Parse(loc)
		return true, err
	})
	if err != nil {
		return nil, fmt.Errorf("the flow did not end in a redirect to the app: %w", err)
	}
	return to, nil
}

// Device plays the user of a device login (RFC 8628): it opens
// verificationURIComplete, signs in as username when asked, and answers
// the confirmation with decision ("allow" or "deny").
func (b *Browser) Device(ctx context.Context, verificationURIComplete, username, password, decision string) error {
	err := b.walk(ctx, verificationURIComplete, username, password, decision, "/device", func(resp *http.Response, body string) (bool, error) {
		return resp.StatusCode == http.StatusOK && (strings.Contains(body, "Device connected") || strings.Contains(body, "Request denied")), nil
	})
	if err != nil {
		return fmt.Errorf("the device confirmation did not end: %w", err)
	}
	return nil
}

// walk opens start and goes on until done says the page it got ends the
// walk: it follows the server's own redirects, signs in as username when
// asked, and answers a page with a decision form by posting decision to
// decisionPath.
func (b *Browser) walk(ctx context.Context, start, username, password, decision, decisionPath string, done func(*http.Response, string) (bool, error)) error {
	resp, body, err := b.do(ctx, "GET", start, nil)
	for range 6 {
		if err != nil {
			return err
		}
		if end, err := done(resp, body); end || err != nil {
			return err
		}
		loc := resp.Header.Get("Location")
		switch {
		case loc != "" && strings.HasPrefix(loc, "/"):
			resp, body, err = b.do(ctx, "GET", b.base+loc, nil)
		case strings.Contains(body, `name="password"`):
			form := hidden(body)
			form.Set("username", username)
			form.Set("password", password)
			resp, body, err = b.do(ctx, "POST", b.base+"/login", form)
		case strings.Contains(body, `name="decision"`):
			form := hidden(body)
			form.Set("decision", decision)
			resp, body, err = b.do(ctx, "POST", b.base+decisionPath, form)
		default:
			return fmt.Errorf("unexpected page %d: %.300s", resp.StatusCode, body)
		}
	}
	return errors.New("too many pages")
}

func hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

func (b *Browser) do(ctx context.Context, method, target string, form url.Values) (*http.Response, string, error) {
	var r io.Reader
	if form != nil {
		r = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}
