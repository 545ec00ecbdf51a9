package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"golang.org/x/oauth2"
)

var key = client.TokenKey{Issuer: "https://as.test", ClientID: "app-1", Subject: "user:1"}

func expired(rt string) *oauth2.Token {
	return &oauth2.Token{AccessToken: "at-old", RefreshToken: rt, TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute)}
}

// 50 goroutines across one expiry: one refresh, one token for all.
func TestConcurrentRefreshIsOne(t *testing.T) {
	as := newMockAS(t)
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, expired("rt-0"))
	src := as.publicApp(t).TokenSource(store, key)
	var wg sync.WaitGroup
	got := make([]string, 50)
	for i := range got {
		wg.Go(func() {
			tok, err := src.Token(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = tok.AccessToken
		})
	}
	wg.Wait()
	if n := as.tokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	for _, g := range got {
		if g != "at-1" {
			t.Fatalf("tokens %v", got)
		}
	}
	if f := as.forms[0]; f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "rt-0" || f.Get("client_id") != "app-1" {
		t.Errorf("refresh request %v", f)
	}
}

// restart returns a copy of app, as a restarted process makes it again:
// its TokenSource is a new source, with nothing cached.
func restart(app *client.PublicApp) *client.PublicApp {
	c := *app
	return &c
}

// savingStore is a MemoryStore whose Save can fail and is recorded.
type savingStore struct {
	client.MemoryStore
	fail  error
	saves []string
}

func (s *savingStore) Save(ctx context.Context, k client.TokenKey, tok *oauth2.Token) error {
	if s.fail != nil {
		return s.fail
	}
	s.saves = append(s.saves, tok.RefreshToken)
	return s.MemoryStore.Save(ctx, k, tok)
}

// O21-4.3.2-a: the rotated refresh token is stored before the access
// token is handed out; the next refresh sends only the newest.
func TestO21_4_3_2_a_RotatedRefreshTokenSavedFirst(t *testing.T) {
	as := newMockAS(t)
	store := &savingStore{}
	_ = store.MemoryStore.Save(t.Context(), key, expired("rt-0"))
	app := as.publicApp(t)
	tok, err := app.TokenSource(store, key).Token(t.Context())
	if err != nil || tok.AccessToken != "at-1" {
		t.Fatal(tok, err)
	}
	if stored, _ := store.Load(t.Context(), key); stored.RefreshToken != "rt-1" || len(store.saves) != 1 {
		t.Fatalf("stored %v, saves %v", stored, store.saves)
	}
	// Another expiry, in a new source (a restart): it sends rt-1. A
	// restart makes a new app too; the same app would hand back the same
	// source (TokenSource shares one per app, store and key since the
	// client-review fix of finding 5), which still holds the valid token.
	app = restart(app)
	stored, _ := store.Load(t.Context(), key)
	stored.Expiry = time.Now().Add(-time.Minute)
	_ = store.MemoryStore.Save(t.Context(), key, stored)
	if _, err := app.TokenSource(store, key).Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := as.forms[1].Get("refresh_token"); got != "rt-1" {
		t.Errorf("the second refresh sent %q, want rt-1", got)
	}

	// When the save fails, no access token is returned.
	store.fail = errors.New("disk full")
	app = restart(app)
	stored, _ = store.Load(t.Context(), key)
	stored.Expiry = time.Now().Add(-time.Minute)
	_ = store.MemoryStore.Save(t.Context(), key, stored)
	tok, err = app.TokenSource(store, key).Token(t.Context())
	if tok != nil || !errors.Is(err, store.fail) {
		t.Errorf("failed save: %v, %v", tok, err)
	}
}

func TestInvalidGrantDeletesAndAsksForLogin(t *testing.T) {
	as := newMockAS(t)
	as.token = func(url.Values) any { return map[string]any{"error": "invalid_grant"} }
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, expired("rt-0"))
	src := as.publicApp(t).TokenSource(store, key)
	if _, err := src.Token(t.Context()); !errors.Is(err, client.ErrLoginRequired) {
		t.Fatalf("error %v, want ErrLoginRequired", err)
	}
	if _, err := store.Load(t.Context(), key); !errors.Is(err, client.ErrNoToken) {
		t.Errorf("the tokens are still stored: %v", err)
	}
	if _, err := src.Token(t.Context()); !errors.Is(err, client.ErrLoginRequired) {
		t.Errorf("after deletion: %v", err)
	}
}

func TestNetworkFailureKeepsTokens(t *testing.T) {
	as := newMockAS(t)
	app := as.publicApp(t)
	as.Close() // the server is gone
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, expired("rt-0"))
	_, err := app.TokenSource(store, key).Token(t.Context())
	if err == nil || errors.Is(err, client.ErrLoginRequired) {
		t.Fatalf("error %v, want a network error", err)
	}
	if tok, err := store.Load(t.Context(), key); err != nil || tok.RefreshToken != "rt-0" {
		t.Errorf("stored %v %v", tok, err)
	}
}

// lockingStore is a Locker store whose Lock lets another "process" refresh
// while this one waits.
type lockingStore struct {
	client.MemoryStore
	locks, unlocks atomic.Int64
	whileWaiting   func()
}

func (s *lockingStore) Lock(ctx context.Context, _ client.TokenKey) (func(), error) {
	s.locks.Add(1)
	if s.whileWaiting != nil {
		s.whileWaiting()
	}
	return func() { s.unlocks.Add(1) }, nil
}

// The Locker path: the lock is taken around the refresh, and a token
// another process stored while we waited is used without a refresh.
func TestLockerReloadsAfterLock(t *testing.T) {
	as := newMockAS(t)
	app := as.publicApp(t)
	t.Run("another process refreshed", func(t *testing.T) {
		store := &lockingStore{}
		_ = store.Save(t.Context(), key, expired("rt-0"))
		store.whileWaiting = func() {
			_ = store.Save(context.Background(), key, &oauth2.Token{AccessToken: "at-other", RefreshToken: "rt-other", Expiry: time.Now().Add(time.Hour)})
		}
		tok, err := app.TokenSource(store, key).Token(t.Context())
		if err != nil || tok.AccessToken != "at-other" {
			t.Fatal(tok, err)
		}
		if as.tokenRequests.Load() != 0 || store.locks.Load() != 1 || store.unlocks.Load() != 1 {
			t.Errorf("%d token requests, %d locks, %d unlocks", as.tokenRequests.Load(), store.locks.Load(), store.unlocks.Load())
		}
	})
	t.Run("we refresh under the lock", func(t *testing.T) {
		store := &lockingStore{}
		_ = store.Save(t.Context(), key, expired("rt-0"))
		var during int64
		store.whileWaiting = func() { during = as.tokenRequests.Load() }
		if _, err := app.TokenSource(store, key).Token(t.Context()); err != nil {
			t.Fatal(err)
		}
		if during != 0 || as.tokenRequests.Load() != 1 || store.unlocks.Load() != 1 {
			t.Errorf("token requests before the lock %d, after %d; unlocks %d", during, as.tokenRequests.Load(), store.unlocks.Load())
		}
	})
}

func TestNoStoredTokenAsksForLogin(t *testing.T) {
	src := newMockAS(t).publicApp(t).TokenSource(&client.MemoryStore{}, key)
	if _, err := src.Token(t.Context()); !errors.Is(err, client.ErrLoginRequired) || !errors.Is(err, client.ErrNoToken) {
		t.Errorf("error %v", err)
	}
}

// Logout revokes both tokens, deletes them, and reports a failed
// revocation.
func TestLogoutRevokesAndForgets(t *testing.T) {
	as := newMockAS(t)
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, &oauth2.Token{AccessToken: "at-9", RefreshToken: "rt-9", Expiry: time.Now().Add(time.Hour)})
	src := as.publicApp(t).TokenSource(store, key)
	if err := src.Logout(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(as.revoked) != 2 || as.revoked[0].Get("token") != "rt-9" || as.revoked[0].Get("token_type_hint") != "refresh_token" ||
		as.revoked[1].Get("token") != "at-9" || as.revoked[0].Get("client_id") != "app-1" {
		t.Errorf("revocations %v", as.revoked)
	}
	if _, err := store.Load(t.Context(), key); !errors.Is(err, client.ErrNoToken) {
		t.Error("the tokens are still stored")
	}

	as.revoke = func(url.Values) int { return http.StatusUnauthorized }
	_ = store.Save(t.Context(), key, &oauth2.Token{AccessToken: "at-9", RefreshToken: "rt-9"})
	err := src.Logout(t.Context())
	var re *client.RevocationError
	if !errors.As(err, &re) || re.Status != http.StatusUnauthorized {
		t.Errorf("failed revocation reported as %v", err)
	}
	if _, err := store.Load(t.Context(), key); !errors.Is(err, client.ErrNoToken) {
		t.Error("a failed revocation kept the tokens")
	}
}

// The source serves x/oauth2 code too.
func TestForContext(t *testing.T) {
	as := newMockAS(t)
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, &oauth2.Token{AccessToken: "at-9", Expiry: time.Now().Add(time.Hour)})
	var ts oauth2.TokenSource = as.publicApp(t).TokenSource(store, key).ForContext(t.Context())
	if tok, err := ts.Token(); err != nil || tok.AccessToken != "at-9" {
		t.Error(tok, err)
	}
}

// A token endpoint that redirects is not followed: the refresh token goes
// nowhere else.
func TestTokenEndpointRedirectNotFollowed(t *testing.T) {
	elsewhere := newRecorder(t, nil, false)
	as := newMockAS(t)
	app := as.publicApp(t)
	redirecting := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/token", http.StatusTemporaryRedirect)
	}, false)
	p := *app.Provider
	p.TokenEndpoint = redirecting.URL + "/token"
	app.Provider = &p
	store := &client.MemoryStore{}
	_ = store.Save(t.Context(), key, expired("rt-0"))
	if _, err := app.TokenSource(store, key).Token(t.Context()); err == nil {
		t.Error("a redirected refresh succeeded")
	}
	if len(elsewhere.urls) != 0 {
		t.Errorf("the redirect was followed: %v", elsewhere.urls)
	}
}
