package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/internal/gatehousetest"
)

// deviceE2E is a real server that polls allow every second, with a user
// and an app registered for the device grant.
type deviceE2E struct {
	s        *gatehousetest.Server
	rs       gatehousetest.App
	user, pw string
}

func newDeviceE2E(t *testing.T, serveArgs ...string) *deviceE2E {
	t.Helper()
	e := &deviceE2E{s: gatehousetest.StartArgs(t, append([]string{"--device-poll-interval", "1s"}, serveArgs...)), user: "alice"}
	e.pw = e.s.CreateUser(t, e.user)
	e.rs = e.s.CreateApp(t, "--name", "API", "--type", "confidential", "--resource-server", "--grant", "client_credentials")
	return e
}

// app registers a CLI for the device grant and returns it on a Provider
// whose transport is rt (nil: the default).
func (e *deviceE2E) app(t *testing.T, rt http.RoundTripper) *client.PublicApp {
	t.Helper()
	reg := e.s.CreateApp(t, "--name", "CLI", "--type", "public", "--redirect-uri", "http://127.0.0.1/callback", "--scope", "read",
		"--grant", "authorization_code,refresh_token,device_code")
	hc := &http.Client{Timeout: 30 * time.Second, Transport: rt}
	p, err := client.Discover(t.Context(), e.s.URL, client.AllowInsecureLoopback(), client.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return &client.PublicApp{Provider: p, ClientID: reg.ClientID, RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"read"}}
}

// user returns a prompt that plays the user on the verification page
// (verification_uri_complete) in a second client, with decision, and
// records what the device printed.
func (e *deviceE2E) approver(t *testing.T, decision string, printed *bytes.Buffer, done chan<- error) client.DevicePrompt {
	show := client.PrintDeviceCode(printed)
	return func(ctx context.Context, dc client.DeviceCode) error {
		if err := show(ctx, dc); err != nil {
			return err
		}
		go func() {
			done <- e.s.NewBrowser().Device(context.WithoutCancel(ctx), dc.VerificationURIComplete, e.user, e.pw, decision)
		}()
		return nil
	}
}

// approverAfter is approver, which waits for ready before the user
// decides.
func (e *deviceE2E) approverAfter(ready <-chan struct{}, done chan<- error) client.DevicePrompt {
	return func(ctx context.Context, dc client.DeviceCode) error {
		go func() {
			<-ready
			done <- e.s.NewBrowser().Device(context.WithoutCancel(ctx), dc.VerificationURIComplete, e.user, e.pw, "allow")
		}()
		return nil
	}
}

// pollRecorder answers x/oauth2's polls from the server, and counts them
// by the error the server gave. With slowDown, it sends the first poll
// twice at once and returns the second answer: the server's slow_down
// reaches the toolkit as a real answer.
type pollRecorder struct {
	slowDown bool
	slowed   chan struct{} // closed when the toolkit got slow_down
	mu       sync.Mutex
	errors   []string // the error of each poll the toolkit saw, "" for success
}

func (p *pollRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != "/token" {
		return http.DefaultTransport.RoundTrip(r)
	}
	body, _ := io.ReadAll(r.Body)
	send := func() (*http.Response, error) {
		req := r.Clone(r.Context())
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		return http.DefaultTransport.RoundTrip(req)
	}
	resp, err := send()
	p.mu.Lock()
	first := len(p.errors) == 0
	p.mu.Unlock()
	if err == nil && p.slowDown && first {
		resp.Body.Close()
		resp, err = send()
	}
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	code := ""
	if resp.StatusCode != 200 {
		code = string(b)
	}
	p.mu.Lock()
	p.errors = append(p.errors, code)
	p.mu.Unlock()
	if p.slowDown && first && strings.Contains(code, "slow_down") {
		close(p.slowed)
	}
	return resp, nil
}

func (p *pollRecorder) saw(fragment string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.errors {
		if strings.Contains(e, fragment) {
			return true
		}
	}
	return false
}

// DEV-3.5-a, DEV-3.5-b: the toolkit's device login against the real
// server, a second client playing the user on /device — approval (the
// tokens work), denial, expiry, and a slow_down that the toolkit honours
// (its next poll, 5 s later, is not slow_down again, and succeeds).
func TestLoginDeviceAgainstServer(t *testing.T) {
	e := newDeviceE2E(t)
	t.Run("approved", func(t *testing.T) {
		var printed bytes.Buffer
		done := make(chan error, 1)
		s, err := e.app(t, nil).LoginDevice(t.Context(), e.approver(t, "allow", &printed, done))
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !e.s.Introspect(t, e.rs, s.Token.AccessToken) || s.Token.RefreshToken == "" {
			t.Fatal("the device login's access token is not active")
		}
		if !strings.Contains(printed.String(), e.s.URL+"/device") {
			t.Errorf("the device did not print the verification URI: %q", printed.String())
		}
	})
	t.Run("denied", func(t *testing.T) {
		done := make(chan error, 1)
		_, err := e.app(t, nil).LoginDevice(t.Context(), e.approver(t, "deny", new(bytes.Buffer), done))
		var ae *client.AuthError
		if !errors.Is(err, client.ErrAccessDenied) || !errors.As(err, &ae) {
			t.Fatalf("denied: %v, want ErrAccessDenied", err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("slow_down", func(t *testing.T) {
		rec := &pollRecorder{slowDown: true, slowed: make(chan struct{})}
		done := make(chan error, 1)
		s, err := e.app(t, rec).LoginDevice(t.Context(), e.approverAfter(rec.slowed, done))
		if err != nil {
			t.Fatal(err)
		}
		<-done
		if !rec.saw("slow_down") {
			t.Fatalf("the toolkit never saw slow_down: %q", rec.errors)
		}
		rec.mu.Lock()
		last := rec.errors[len(rec.errors)-1]
		after := rec.errors[1:]
		rec.mu.Unlock()
		if last != "" || strings.Contains(strings.Join(after, ""), "slow_down") {
			t.Fatalf("polls after slow_down: %q, want none slowed down again and the last a success", after)
		}
		if !e.s.Introspect(t, e.rs, s.Token.AccessToken) {
			t.Fatal("the access token after slow_down is not active")
		}
	})
	t.Run("expired", func(t *testing.T) {
		short := newDeviceE2E(t, "--device-code-ttl", "2s")
		// Nobody answers: the request expires.
		_, err := short.app(t, nil).LoginDevice(t.Context(), client.PrintDeviceCode(io.Discard))
		if !errors.Is(err, client.ErrDeviceCodeExpired) {
			t.Fatalf("expired: %v, want ErrDeviceCodeExpired", err)
		}
	})
}
