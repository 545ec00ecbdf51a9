package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

const deviceCanary = "dc-canary-7f3a" // the device code: never in an error or a prompt

// fakeDeviceAS is a hand-written RFC 8628 server: the device
// authorization endpoint and a token endpoint that answers from a script.
// It is an http.RoundTripper, so that the tests run in a synctest bubble,
// whose clock x/oauth2's poll ticker uses: the intervals are the server's
// (5 s and more) and the tests take no time.
type fakeDeviceAS struct {
	mu         sync.Mutex
	auth       map[string]any // the device authorization response
	answers    []string       // the token endpoint's answers in turn: an error code, or "" for tokens
	scope      string         // the scope granted ("" echoes none)
	started    time.Time      // when the device authorization was asked for
	polls      []time.Time
	authForms  []url.Values
	tokenForms []url.Values
}

func newFakeDeviceAS(answers ...string) *fakeDeviceAS {
	return &fakeDeviceAS{answers: answers, auth: map[string]any{
		"device_code":               deviceCanary,
		"user_code":                 "WDJB-MJHT",
		"verification_uri":          "https://as.example/device",
		"verification_uri_complete": "https://as.example/device?user_code=WDJB-MJHT",
		"expires_in":                600,
		"interval":                  5,
	}}
}

func (f *fakeDeviceAS) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	f.serve(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func (f *fakeDeviceAS) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/device_authorization":
		f.started = time.Now()
		f.authForms = append(f.authForms, r.PostForm)
		_ = json.NewEncoder(w).Encode(f.auth)
	case "/token":
		f.polls = append(f.polls, time.Now())
		f.tokenForms = append(f.tokenForms, r.PostForm)
		answer := "authorization_pending"
		if len(f.answers) > 0 {
			answer, f.answers = f.answers[0], f.answers[1:]
		}
		if answer == "" {
			tok := map[string]any{"access_token": "at-device", "refresh_token": "rt-device", "token_type": "Bearer", "expires_in": 3600}
			if f.scope != "" {
				tok["scope"] = f.scope
			}
			_ = json.NewEncoder(w).Encode(tok)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		if answer == "no-error-code" {
			_, _ = w.Write([]byte(`{"echo":"` + r.PostForm.Get("device_code") + `"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"error": answer})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeDeviceAS) app() *client.PublicApp {
	return &client.PublicApp{
		Provider: &client.Provider{Metadata: client.Metadata{
			Issuer:                      "https://as.example",
			AuthorizationEndpoint:       "https://as.example/authorize",
			TokenEndpoint:               "https://as.example/token",
			DeviceAuthorizationEndpoint: "https://as.example/device_authorization",
		}, HTTPClient: &http.Client{Transport: f}},
		ClientID:    "cli-1",
		RedirectURL: "http://127.0.0.1/callback",
		Scopes:      []string{"read", "write"},
	}
}

// gaps returns the time from the device authorization to the first poll
// and between the polls.
func (f *fakeDeviceAS) gaps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var g []time.Duration
	prev := f.started
	for _, p := range f.polls {
		g = append(g, p.Sub(prev))
		prev = p
	}
	return g
}

// recordPrompt returns a DevicePrompt that keeps what it was shown.
func recordPrompt(got *[]client.DeviceCode) client.DevicePrompt {
	return func(_ context.Context, dc client.DeviceCode) error {
		*got = append(*got, dc)
		return nil
	}
}

// DEV-3.5-b: the client polls no faster than the interval (5 s when the
// server names none), and adds 5 s for this and every later poll after
// each slow_down — x/oauth2's DeviceAccessToken, checked here.
func TestDEV_3_5_b_LoginDevicePollsAtInterval(t *testing.T) {
	for name, c := range map[string]struct {
		interval any // nil: not sent
		base     time.Duration
	}{
		"interval 7":    {7, 7 * time.Second},
		"interval none": {nil, 5 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				as := newFakeDeviceAS("authorization_pending", "slow_down", "authorization_pending", "slow_down", "")
				as.auth["interval"] = c.interval
				if c.interval == nil {
					delete(as.auth, "interval")
				}
				var shown []client.DeviceCode
				s, err := as.app().LoginDevice(t.Context(), recordPrompt(&shown))
				if err != nil {
					t.Fatal(err)
				}
				if s.Token.AccessToken != "at-device" || s.Token.RefreshToken != "rt-device" || len(s.Missing) != 0 {
					t.Errorf("session %+v", s)
				}
				b := c.base
				want := []time.Duration{b, b, b + 5*time.Second, b + 5*time.Second, b + 10*time.Second}
				got := as.gaps()
				if len(got) != len(want) {
					t.Fatalf("%d polls, want %d", len(got), len(want))
				}
				for i := range want {
					if got[i] < want[i] {
						t.Errorf("poll %d came %s after the last, before the %s the server asked for", i+1, got[i], want[i])
					}
				}
				t.Logf("gaps %v", got)
				// Positive controls: what the server received and the user saw.
				for _, f := range as.tokenForms {
					if f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || f.Get("device_code") != deviceCanary || f.Get("client_id") != "cli-1" || f.Has("client_secret") {
						t.Errorf("token request %v", f)
					}
				}
				if f := as.authForms[0]; f.Get("client_id") != "cli-1" || f.Get("scope") != "read write" {
					t.Errorf("device authorization request %v", f)
				}
				if len(shown) != 1 || shown[0].UserCode != "WDJB-MJHT" || shown[0].VerificationURI != "https://as.example/device" ||
					shown[0].VerificationURIComplete != "https://as.example/device?user_code=WDJB-MJHT" || shown[0].Expiry.IsZero() {
					t.Errorf("prompt %+v", shown)
				}
			})
		})
	}
}

// The outcomes of a device login other than tokens: each maps to the
// toolkit's error, and none shows the device code.
func TestLoginDeviceOutcomes(t *testing.T) {
	for name, c := range map[string]struct {
		answers   []string
		expiresIn int
		ctxAfter  time.Duration // the caller's own deadline, 0: none
		check     func(error) bool
	}{
		"access_denied": {[]string{"authorization_pending", "access_denied"}, 600, 0, func(err error) bool {
			var ae *client.AuthError
			return errors.Is(err, client.ErrAccessDenied) && errors.As(err, &ae) && ae.Code == "access_denied"
		}},
		"expired_token": {[]string{"authorization_pending", "expired_token"}, 600, 0, func(err error) bool {
			return errors.Is(err, client.ErrDeviceCodeExpired)
		}},
		"expires_in passes": {nil, 12, 0, func(err error) bool {
			return errors.Is(err, client.ErrDeviceCodeExpired)
		}},
		"the caller's deadline": {nil, 600, 7 * time.Second, func(err error) bool {
			return errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, client.ErrDeviceCodeExpired)
		}},
		"invalid_client": {[]string{"invalid_client"}, 600, 0, func(err error) bool {
			var ae *client.AuthError
			return errors.As(err, &ae) && ae.Code == "invalid_client" && !errors.Is(err, client.ErrAccessDenied)
		}},
		"an error without a code": {[]string{"no-error-code"}, 600, 0, func(err error) bool {
			var ae *client.AuthError
			return err != nil && !errors.As(err, &ae)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				as := newFakeDeviceAS(c.answers...)
				as.auth["expires_in"] = c.expiresIn
				ctx := t.Context()
				if c.ctxAfter > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, c.ctxAfter)
					defer cancel()
				}
				var shown []client.DeviceCode
				s, err := as.app().LoginDevice(ctx, recordPrompt(&shown))
				if s != nil || !c.check(err) {
					t.Fatalf("%v %v", s, err)
				}
				if strings.Contains(err.Error(), deviceCanary) {
					t.Errorf("the error shows the device code: %v", err)
				}
				if len(as.polls) == 0 || len(shown) != 1 {
					t.Errorf("positive control: %d polls, %d prompts", len(as.polls), len(shown))
				}
			})
		})
	}
}

// The granted scopes are compared with those asked for, as in Exchange.
func TestLoginDeviceScopes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		as := newFakeDeviceAS("")
		as.scope = "read admin"
		if _, err := as.app().LoginDevice(t.Context(), recordPrompt(new([]client.DeviceCode))); !errors.Is(err, client.ErrUnrequestedScope) {
			t.Errorf("an unrequested scope: %v", err)
		}
		as = newFakeDeviceAS("")
		as.scope = "read"
		s, err := as.app().LoginDevice(t.Context(), recordPrompt(new([]client.DeviceCode)))
		if err != nil || len(s.Missing) != 1 || s.Missing[0] != "write" {
			t.Errorf("a narrowed grant: %+v %v", s, err)
		}
	})
}

// A device authorization response the user should not be shown is
// refused before the prompt and before any poll.
func TestLoginDeviceBadAuthorizationResponse(t *testing.T) {
	for name, mod := range map[string]func(map[string]any){
		"no device_code":          func(m map[string]any) { delete(m, "device_code") },
		"no user_code":            func(m map[string]any) { delete(m, "user_code") },
		"terminal escape":         func(m map[string]any) { m["user_code"] = "AB\x1b[2JCD" },
		"no verification_uri":     func(m map[string]any) { delete(m, "verification_uri") },
		"http verification_uri":   func(m map[string]any) { m["verification_uri"] = "http://as.example/device" },
		"script verification":     func(m map[string]any) { m["verification_uri_complete"] = "javascript:alert(1)" },
		"no expires_in":           func(m map[string]any) { delete(m, "expires_in") },
		"an error from the start": func(m map[string]any) { clear(m); m["error"] = "invalid_scope" },
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				as := newFakeDeviceAS("")
				mod(as.auth)
				var shown []client.DeviceCode
				_, err := as.app().LoginDevice(t.Context(), recordPrompt(&shown))
				if err == nil || len(shown) != 0 || len(as.polls) != 0 {
					t.Errorf("%v; %d prompts, %d polls", err, len(shown), len(as.polls))
				}
				if err != nil && strings.Contains(err.Error(), deviceCanary) {
					t.Error("the error shows the device code")
				}
			})
		})
	}
}

// A server without the device flow: ErrNoDeviceEndpoint, and no request.
// A prompt that fails ends the login before any poll.
func TestLoginDeviceNoEndpointOrPromptError(t *testing.T) {
	as := newFakeDeviceAS("")
	app := as.app()
	app.Provider.DeviceAuthorizationEndpoint = ""
	if _, err := app.LoginDevice(t.Context(), client.PrintDeviceCode(&strings.Builder{})); !errors.Is(err, client.ErrNoDeviceEndpoint) {
		t.Errorf("no endpoint: %v", err)
	}
	if len(as.authForms) != 0 {
		t.Error("a request without an endpoint")
	}
	app.Provider.DeviceAuthorizationEndpoint = "http://as.example/device_authorization"
	if _, err := app.LoginDevice(t.Context(), client.PrintDeviceCode(&strings.Builder{})); !errors.Is(err, client.ErrConfig) {
		t.Errorf("an http endpoint: %v", err)
	}
	as = newFakeDeviceAS("")
	boom := errors.New("no terminal")
	if _, err := as.app().LoginDevice(t.Context(), func(context.Context, client.DeviceCode) error { return boom }); !errors.Is(err, boom) || len(as.polls) != 0 {
		t.Errorf("prompt error: %v, %d polls", err, len(as.polls))
	}
}

func TestPrintDeviceCode(t *testing.T) {
	var b strings.Builder
	err := client.PrintDeviceCode(&b)(t.Context(), client.DeviceCode{
		UserCode: "WDJB-MJHT", VerificationURI: "https://as.example/device",
		VerificationURIComplete: "https://as.example/device?user_code=WDJB-MJHT", Expiry: time.Now().Add(time.Minute),
	})
	out := b.String()
	if err != nil || !strings.Contains(out, "open https://as.example/device on any device and enter the code WDJB-MJHT") || !strings.Contains(out, "or open https://as.example/device?user_code=WDJB-MJHT") {
		t.Errorf("%v: %q", err, out)
	}
}

// Login falls back to the device flow when the browser cannot be opened,
// and when asked not to open one.
func TestLoginFallsBackToDevice(t *testing.T) {
	for name, opt := range map[string]client.NativeOption{
		"NoBrowser":        client.NoBrowser(),
		"the opener fails": client.WithOpener(func(context.Context, string) error { return errors.New("no display") }),
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				as := newFakeDeviceAS("")
				var shown []client.DeviceCode
				s, err := as.app().Login(t.Context(), recordPrompt(&shown), opt)
				if err != nil || s.Token.AccessToken != "at-device" || len(shown) != 1 {
					t.Errorf("%v %+v, %d prompts", err, s, len(shown))
				}
			})
		})
	}
}

// A browser login's own failure (here a timeout) is not a reason to fall
// back: the user may be about to answer in the browser.
func TestLoginNoFallbackOnTimeout(t *testing.T) {
	as := newFakeDeviceAS("")
	_, err := as.app().Login(t.Context(), recordPrompt(new([]client.DeviceCode)),
		client.WithTimeout(100*time.Millisecond), client.WithOpener(func(context.Context, string) error { return nil }))
	if !errors.Is(err, client.ErrLoginTimeout) || len(as.authForms) != 0 {
		t.Errorf("%v, %d device authorizations", err, len(as.authForms))
	}
}

// The device authorization endpoint is read from the metadata and held
// to the rule of the other endpoints.
func TestDiscoverDeviceEndpoint(t *testing.T) {
	as := newMockAS(t)
	as.md["device_authorization_endpoint"] = as.URL + "/device_authorization"
	if p := as.provider(t); p.DeviceAuthorizationEndpoint != as.URL+"/device_authorization" {
		t.Errorf("endpoint %q", p.DeviceAuthorizationEndpoint)
	}
	for _, bad := range []string{"https://other.example/device_authorization", "http://as.example/device_authorization"} {
		as.md["device_authorization_endpoint"] = bad
		if _, err := client.Discover(t.Context(), as.URL, client.AllowInsecureLoopback()); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
