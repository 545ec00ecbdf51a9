package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/ratelimit"
	"github.com/gatehouse/gatehouse/secret"
	"github.com/gatehouse/gatehouse/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var serverKey = bytes.Repeat([]byte{9}, 32)

type env struct {
	srv   *oauth.Server
	store gatehouse.Store
	clock *clock
	app   gatehouse.App
	sec   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv, err := oauth.NewServer(store, serverKey, oauth.Config{Issuer: "https://as.example"}, oauth.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateScope(ctx, "read", "Read"); err != nil {
		t.Fatal(err)
	}
	app, sec, err := srv.RegisterApp(ctx, oauth.AppSpec{Name: "A", Type: gatehouse.Confidential, Scopes: []string{"read"}, Grants: []string{gatehouse.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, store: store, clock: c, app: app, sec: sec}
}

func (e *env) auth() oauth.ClientAuth {
	return oauth.ClientAuth{Method: oauth.AuthBasic, ClientID: e.app.ClientID, Secret: e.sec}
}

func (e *env) issue(t *testing.T) string {
	t.Helper()
	resp, err := e.srv.Token(t.Context(), oauth.TokenRequest{Client: e.auth(), GrantType: gatehouse.GrantClientCredentials})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ExpiresIn != 600 {
		t.Fatalf("expires_in %d, want the 10-minute default", resp.ExpiresIn)
	}
	return resp.AccessToken
}

// INT-2.2-a: an expired token is exactly inactive, at the second it expires.
func TestAccessTokenExpires(t *testing.T) {
	e := newEnv(t)
	tok := e.issue(t)
	e.clock.add(oauth.DefaultAccessTokenTTL - time.Millisecond)
	if got, _ := e.srv.Introspect(t.Context(), e.auth(), tok); !got.Active {
		t.Fatal("inactive before expiry")
	}
	e.clock.add(time.Millisecond)
	got, err := e.srv.Introspect(t.Context(), e.auth(), tok)
	if err != nil || got != (oauth.Introspection{}) {
		t.Fatalf("at expiry: %+v %v, want exactly inactive", got, err)
	}
}

func TestExpiredCredentialDoesNotAuthenticate(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	d, _ := secret.NewDigester(serverKey)
	sec := secret.New(secret.ClientSecret)
	expiring := gatehouse.Credential{AppID: e.app.ID, Digest: d.Digest(sec), CreatedAt: e.clock.now(), ExpiresAt: e.clock.now().Add(time.Hour)}
	if _, err := e.store.CreateCredential(ctx, expiring); err != nil {
		t.Fatal(err)
	}
	ca := oauth.ClientAuth{Method: oauth.AuthPost, ClientID: e.app.ClientID, Secret: sec}
	if _, err := e.srv.AuthenticateClient(ctx, ca); err != nil {
		t.Fatalf("a second, unexpired credential does not work: %v", err)
	}
	e.clock.add(time.Hour)
	if _, err := e.srv.AuthenticateClient(ctx, ca); !errors.Is(err, oauth.ErrInvalidClient) {
		t.Fatalf("an expired credential authenticates: %v", err)
	}
	if _, err := e.srv.AuthenticateClient(ctx, e.auth()); err != nil {
		t.Fatalf("the first credential stopped working: %v", err)
	}
}

// The janitor deletes expired tokens in bounded batches and keeps live ones.
func TestSweepDeletesOnlyExpiredTokens(t *testing.T) {
	e := newEnv(t)
	for range 25 {
		e.issue(t)
	}
	e.clock.add(oauth.DefaultAccessTokenTTL + oauth.SweepGrace)
	live := e.issue(t)
	n, err := e.srv.Sweep(t.Context(), 10)
	if err != nil || n != 25 {
		t.Fatalf("Sweep = %d, %v; want 25", n, err)
	}
	if got, _ := e.srv.Introspect(t.Context(), e.auth(), live); !got.Active {
		t.Fatal("the janitor deleted a live token")
	}
}

// Last use is recorded, but not written on every request.
func TestCredentialLastUse(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	creds := func() gatehouse.Credential {
		cs, err := e.store.ListCredentials(ctx, e.app.ID)
		if err != nil || len(cs) != 1 {
			t.Fatalf("credentials: %v %v", cs, err)
		}
		return cs[0]
	}
	if !creds().LastUsedAt.IsZero() {
		t.Fatal("a new credential has a last use")
	}
	first := e.clock.now()
	e.issue(t)
	e.clock.add(30 * time.Second)
	e.issue(t)
	if got := creds().LastUsedAt; !got.Equal(first) {
		t.Fatalf("last use %v, want %v (not rewritten within a minute)", got, first)
	}
	e.clock.add(31 * time.Second)
	e.issue(t)
	if got := creds().LastUsedAt; !got.Equal(e.clock.now()) {
		t.Fatalf("last use %v, want %v", got, e.clock.now())
	}
}

func TestAuthFailureIsInvalidClient(t *testing.T) {
	e := newEnv(t)
	ca := e.auth()
	ca.Secret = "gth_cs_short"
	_, err := e.srv.AuthenticateClient(context.Background(), ca)
	var pe *oauth.Error
	var af *oauth.AuthFailure
	if !errors.As(err, &pe) || pe.Code != oauth.CodeInvalidClient || !errors.As(err, &af) {
		t.Fatalf("err = %v", err)
	}
	if bytes.Contains([]byte(err.Error()), []byte(ca.Secret)) {
		t.Fatal("the error repeats the secret")
	}
}

// The app and credential cache never outlives a change: a credential or an
// app deleted behind the server's back stops authenticating on the next
// request.
func TestCacheSeesDeletionsAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.srv.AuthenticateClient(ctx, e.auth()); err != nil {
		t.Fatal(err) // warms the cache
	}
	creds, err := e.store.ListCredentials(ctx, e.app.ID)
	if err != nil || len(creds) != 1 {
		t.Fatalf("credentials: %v %v", creds, err)
	}
	if err := e.store.DeleteCredential(ctx, creds[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.AuthenticateClient(ctx, e.auth()); !errors.Is(err, oauth.ErrInvalidClient) {
		t.Fatalf("a deleted credential authenticates from the cache: %v", err)
	}
	sec, _, err := e.srv.CreateCredential(ctx, e.app, "second", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ca := oauth.ClientAuth{Method: oauth.AuthPost, ClientID: e.app.ClientID, Secret: sec}
	if _, err := e.srv.AuthenticateClient(ctx, ca); err != nil {
		t.Fatal(err)
	}
	if err := e.store.DeleteApp(ctx, e.app.ClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.AuthenticateClient(ctx, ca); !errors.Is(err, oauth.ErrInvalidClient) {
		t.Fatalf("a deleted app authenticates from the cache: %v", err)
	}
}

// The CORS allow-list follows registrations and deletions at once, made by
// this server or by any other process on the store (another instance, the
// command line): it is keyed by the store's generation, not by a timer.
func TestAllowedOriginFollowsTheStore(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const origin = "https://spa.example"
	allowed := func() bool {
		t.Helper()
		ok, err := e.srv.AllowedOrigin(ctx, origin)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if allowed() {
		t.Fatal("an origin no app registered is allowed")
	}
	other, err := oauth.NewServer(e.store, serverKey, oauth.Config{Issuer: "https://as.example"}, oauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := other.RegisterApp(ctx, oauth.AppSpec{Name: "SPA", Type: gatehouse.Public, Scopes: []string{"read"},
		RedirectURIs: []string{origin + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if !allowed() {
		t.Error("a public app registered elsewhere: its origin is not allowed on the next request")
	}
	if err := e.store.DeleteApp(ctx, app.ClientID); err != nil {
		t.Fatal(err)
	}
	if allowed() {
		t.Error("a deleted app's origin is still allowed")
	}
}

// deletingStore deletes every credential of an app right before its armed
// token insert, as a deletion committed by another process between a
// request's client authentication and its insert would.
type deletingStore struct {
	gatehouse.Store
	appID int64
	armed bool
}

func (d *deletingStore) deleteNow(ctx context.Context) {
	if !d.armed {
		return
	}
	d.armed = false
	creds, _ := d.Store.ListCredentials(ctx, d.appID)
	for _, c := range creds {
		_ = d.Store.DeleteCredential(ctx, c.ID)
	}
}

func (d *deletingStore) CreateToken(ctx context.Context, t gatehouse.Token) error {
	d.deleteNow(ctx)
	return d.Store.CreateToken(ctx, t)
}

func (d *deletingStore) CreateTokenAt(ctx context.Context, t gatehouse.Token, gen int64) error {
	d.deleteNow(ctx)
	return d.Store.CreateTokenAt(ctx, t, gen)
}

// Issuance is linearized with credential deletion: a credential deleted
// after the request authenticated (here from a warm cache) but before its
// token was written yields invalid_client and no token, not a token for a
// deleted credential.
func TestNoTokenForACredentialDeletedMidRequest(t *testing.T) {
	e := newEnv(t)
	d := &deletingStore{Store: e.store, appID: e.app.ID}
	srv, err := oauth.NewServer(d, serverKey, oauth.Config{Issuer: "https://as.example"}, oauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := oauth.TokenRequest{Client: e.auth(), GrantType: gatehouse.GrantClientCredentials}
	if _, err := srv.Token(t.Context(), req); err != nil { // warms the cache
		t.Fatal(err)
	}
	d.armed = true
	resp, err := srv.Token(t.Context(), req)
	if !errors.Is(err, oauth.ErrInvalidClient) {
		t.Fatalf("a credential deleted between authentication and insert: token %t, error %v; want invalid_client", resp.AccessToken != "", err)
	}
}

// keyStore records the bucket keys the limits hand to the store.
type keyStore struct {
	gatehouse.Store
	keys [][]byte
}

func (k *keyStore) TakeAttempt(ctx context.Context, key []byte, now time.Time, every time.Duration, burst int) (bool, time.Duration, error) {
	k.keys = append(k.keys, key)
	return k.Store.TakeAttempt(ctx, key, now, every, burst)
}

// The login limits store no username or address: bucket keys are HMACs
// under the server key, and the same key in two limits is two buckets.
func TestAttemptKeysAreDigests(t *testing.T) {
	e := newEnv(t)
	ks := &keyStore{Store: e.store}
	srv, err := oauth.NewServer(ks, serverKey, oauth.Config{Issuer: "https://as.example"}, oauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const key = "alice@example.com|203.0.113.7"
	for _, scope := range []string{"login-pair", "login-user"} {
		if _, _, err := srv.AttemptLimit(scope, ratelimit.Limit{Burst: 1, Every: time.Minute}).Reserve(t.Context(), key); err != nil {
			t.Fatal(err)
		}
	}
	if len(ks.keys) != 2 || bytes.Equal(ks.keys[0], ks.keys[1]) {
		t.Fatalf("keys %x: want two distinct ones", ks.keys)
	}
	for _, k := range ks.keys {
		if len(k) != 32 || bytes.Contains(k, []byte("alice")) || bytes.Contains(k, []byte("203.0.113.7")) {
			t.Errorf("bucket key %q holds the username or address, or is not a 32-byte digest", k)
		}
	}
	other, err := oauth.NewServer(ks, bytes.Repeat([]byte{8}, 32), oauth.Config{Issuer: "https://as.example"}, oauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.AttemptLimit("login-pair", ratelimit.Limit{Burst: 1, Every: time.Minute}).Reserve(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ks.keys[2], ks.keys[0]) {
		t.Error("the bucket key does not depend on the server key")
	}
}
