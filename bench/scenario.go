package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// Credentials are a confidential app's client_id and secret.
type Credentials struct {
	ID, Secret string
}

// basic is the Authorization header of client_secret_basic: the id and the
// secret form-urlencoded, then base64 (RFC 6749 §2.3.1).
func (c Credentials) basic() string {
	pair := url.QueryEscape(c.ID) + ":" + url.QueryEscape(c.Secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(pair))
}

// Fixture is what the database was seeded with. It holds secrets and live
// tokens: never print or log it.
type Fixture struct {
	// Service is a confidential app with client_credentials. The token
	// pools below were issued to it, and it revokes them.
	Service Credentials
	// Resource is a confidential resource server: it introspects.
	Resource Credentials
	// Web is a confidential app whose refresh tokens are rotated.
	Web Credentials
	// PublicID is the public app of the code flow, RedirectURI its https
	// redirect URI, and Scope what it asks for; the user consented to it.
	PublicID, RedirectURI, Scope string
	// SessionCookie is the Cookie header of the user's live session.
	SessionCookie string
	// Valid and Revoked are live and revoked access tokens to introspect;
	// each is introspected many times.
	Valid, Revoked []string
	// Revocable are live access tokens, each revoked once.
	Revocable []string
	// Refresh holds a refresh token of Web per connection, the head of that
	// connection's rotation chain; each is used once.
	Refresh []string
}

// Target is a server under load.
type Target struct {
	Name string // "gatehouse" or "ceiling"
	URL  string // http://host:port
	// Ceiling keeps no state, so it cannot tell a revoked token from a live
	// one: its answers are checked for their shape only.
	Ceiling bool
	// PID is the process whose CPU time is measured; 0 when unknown.
	PID int
}

// Scenario is one kind of load.
type Scenario struct {
	Name string
	// Unit is what the rate counts: "req/s", or "flows/s" for the code flow.
	Unit string
	// Baseline is the ceiling scenario whose rate this one's is a fraction
	// of: the same request shape, or the token endpoint's for the code flow
	// (issue 4 sets its target as flows/s against requests/s).
	Baseline string
	// start prepares one run against t and returns its workers.
	start func(t Target, f *Fixture) NewWorker
}

// Scenarios are all the scenarios, in the order a run takes them:
// revocation last, as it is the one that consumes most of the seed.
var Scenarios = []Scenario{
	{Name: "client_credentials", Unit: "req/s", Baseline: "client_credentials", start: clientCredentials},
	{Name: "introspect_valid", Unit: "req/s", Baseline: "introspect_valid", start: introspect(true)},
	{Name: "introspect_revoked", Unit: "req/s", Baseline: "introspect_revoked", start: introspect(false)},
	{Name: "refresh", Unit: "req/s", Baseline: "refresh", start: refresh},
	{Name: "code_flow", Unit: "flows/s", Baseline: "client_credentials", start: codeFlow},
	{Name: "revoke", Unit: "req/s", Baseline: "revoke", start: revoke},
}

// Select returns the scenarios named, in the order of Scenarios; no names
// means all of them.
func Select(names []string) ([]Scenario, error) {
	if len(names) == 0 {
		return Scenarios, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		if _, ok := find(n); !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", n, strings.Join(Names(), ", "))
		}
		want[n] = true
	}
	var out []Scenario
	for _, s := range Scenarios {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out, nil
}

func find(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Names lists the scenarios' names, in the order they run.
func Names() []string {
	var out []string
	for _, s := range Scenarios {
		out = append(out, s.Name)
	}
	return out
}

// pool hands out tokens: each once, or round and round when cycle is set.
type pool struct {
	items []string
	next  atomic.Uint64
	cycle bool
}

func (p *pool) take() (string, bool) {
	if len(p.items) == 0 {
		return "", false
	}
	i := p.next.Add(1) - 1
	if p.cycle {
		i %= uint64(len(p.items))
	}
	if i >= uint64(len(p.items)) {
		return "", false
	}
	return p.items[i], true
}

func clientCredentials(t Target, f *Fixture) NewWorker {
	endpoint, auth := t.URL+"/token", f.Service.basic()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {f.Scope}}.Encode()
	return func(_ int, c *http.Client) Op {
		return func(ctx context.Context) error {
			a, err := postForm(ctx, c, endpoint, auth, form)
			if err != nil {
				return err
			}
			_, err = checkToken(a, "client_credentials", false)
			return err
		}
	}
}

// introspect introspects the live tokens (active) or the revoked ones, as a
// resource server.
func introspect(active bool) func(Target, *Fixture) NewWorker {
	return func(t Target, f *Fixture) NewWorker {
		endpoint, auth := t.URL+"/introspect", f.Resource.basic()
		p := &pool{items: f.Revoked, cycle: true}
		if active {
			p.items = f.Valid
		}
		want := &active
		if t.Ceiling {
			want = nil
		}
		return func(_ int, c *http.Client) Op {
			return func(ctx context.Context) error {
				tok, ok := p.take()
				if !ok {
					return ErrExhausted
				}
				a, err := postForm(ctx, c, endpoint, auth, "token="+url.QueryEscape(tok))
				if err != nil {
					return err
				}
				return checkActive(a, want)
			}
		}
	}
}

// refresh rotates one chain per connection: each answer's refresh token is
// the next request's (RFC 9700 §4.14.2 rotation).
func refresh(t Target, f *Fixture) NewWorker {
	endpoint, auth := t.URL+"/token", f.Web.basic()
	return func(conn int, c *http.Client) Op {
		if conn >= len(f.Refresh) {
			return func(context.Context) error { return ErrExhausted }
		}
		current := f.Refresh[conn]
		return func(ctx context.Context) error {
			form := "grant_type=refresh_token&refresh_token=" + url.QueryEscape(current)
			a, err := postForm(ctx, c, endpoint, auth, form)
			if err != nil {
				return err
			}
			tb, err := checkToken(a, "refresh", true)
			if err != nil {
				return err
			}
			current = tb.RefreshToken
			return nil
		}
	}
}

// codeFlow is a whole authorization code flow with PKCE for a user with a
// live session and remembered consent: the authorization request, its 302
// with a code (not followed), and the code's exchange by the public app.
func codeFlow(t Target, f *Fixture) NewWorker {
	return func(_ int, c *http.Client) Op {
		return func(ctx context.Context) error {
			verifier, challenge := pkcePair()
			state := rand.Text()
			code, err := authorize(ctx, c, t.URL, f, challenge, state)
			if err != nil {
				return err
			}
			form := url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.RedirectURI},
				"client_id": {f.PublicID}, "code_verifier": {verifier},
			}
			a, err := postForm(ctx, c, t.URL+"/token", "", form.Encode())
			if err != nil {
				return err
			}
			_, err = checkToken(a, "code exchange", true)
			return err
		}
	}
}

func authorize(ctx context.Context, c *http.Client, base string, f *Fixture, challenge, state string) (string, error) {
	q := url.Values{
		"response_type": {"code"}, "client_id": {f.PublicID}, "redirect_uri": {f.RedirectURI},
		"scope": {f.Scope}, "state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/authorize?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Cookie", f.SessionCookie)
	a, err := send(c, req)
	if err != nil {
		return "", err
	}
	return checkRedirect(a, f.RedirectURI, state)
}

// pkcePair returns a fresh RFC 7636 verifier (32 random bytes, 43
// characters) and its S256 challenge.
func pkcePair() (verifier, challenge string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	verifier = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// revoke revokes each token of the pool once (RFC 7009). The ceiling, which
// stores nothing, gets the same tokens round and round.
func revoke(t Target, f *Fixture) NewWorker {
	endpoint, auth := t.URL+"/revoke", f.Service.basic()
	p := &pool{items: f.Revocable, cycle: t.Ceiling}
	return func(_ int, c *http.Client) Op {
		return func(ctx context.Context) error {
			tok, ok := p.take()
			if !ok {
				return ErrExhausted
			}
			form := "token=" + url.QueryEscape(tok) + "&token_type_hint=access_token"
			a, err := postForm(ctx, c, endpoint, auth, form)
			if err != nil {
				return err
			}
			return expectStatus(a, http.StatusOK, "revoke")
		}
	}
}

// PKCEPair returns a fresh RFC 7636 code verifier and its S256 challenge.
func PKCEPair() (verifier, challenge string) { return pkcePair() }
