package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/web"
)

// fakeLimit records what a login does to one limit.
type fakeLimit struct {
	mu       sync.Mutex
	refuse   bool
	reserved []string
	refunded []string
	ctxErrs  []error
}

func (f *fakeLimit) Reserve(ctx context.Context, key string) (bool, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctxErrs = append(f.ctxErrs, ctx.Err())
	if f.refuse {
		return false, time.Minute, nil
	}
	f.reserved = append(f.reserved, key)
	return true, 0, nil
}

func (f *fakeLimit) Refund(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctxErrs = append(f.ctxErrs, ctx.Err())
	f.refunded = append(f.refunded, key)
	return nil
}

func newPages(t *testing.T) (*web.Pages, *http.ServeMux) {
	t.Helper()
	store, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv, err := oauth.NewServer(store, bytes.Repeat([]byte{7}, 32), oauth.Config{Issuer: "https://as.example"}, oauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := web.New(srv, slog.New(slog.DiscardHandler), false)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Mount(mux)
	return p, mux
}

func postLogin(ctx context.Context, mux *http.ServeMux, username string) *httptest.ResponseRecorder {
	form := url.Values{"username": {username}, "password": {"not the password"}}
	req := httptest.NewRequestWithContext(ctx, "POST", "https://as.example/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "203.0.113.7:4444"
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

// A throttled address is refused before it touches any account's bucket:
// it cannot drain other people's per-account limits (review M1, L1).
func TestThrottledAddressTakesNothingFromAccounts(t *testing.T) {
	p, mux := newPages(t)
	addr, pair, user := &fakeLimit{refuse: true}, &fakeLimit{}, &fakeLimit{}
	p.AddrLimit, p.PairLimit, p.UserLimit = addr, pair, user
	for _, victim := range []string{"alice", "bob", "carol"} {
		if rec := postLogin(t.Context(), mux, victim); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("login from a throttled address: %d, want 429", rec.Code)
		}
	}
	if len(pair.reserved)+len(user.reserved) != 0 {
		t.Errorf("a throttled address took attempts from accounts: pair %v, user %v", pair.reserved, user.reserved)
	}
}

// The limits' work outlives a cancelled request: the attempts a refused
// login took are given back even when the client has gone (review M1).
func TestRefundsSurviveACancelledRequest(t *testing.T) {
	p, mux := newPages(t)
	addr, pair, user := &fakeLimit{}, &fakeLimit{}, &fakeLimit{refuse: true}
	p.AddrLimit, p.PairLimit, p.UserLimit = addr, pair, user
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	postLogin(ctx, mux, "alice")
	for name, f := range map[string]*fakeLimit{"address": addr, "pair": pair} {
		if len(f.reserved) != 1 || len(f.refunded) != 1 {
			t.Errorf("%s limit: reserved %v, refunded %v; want the attempt given back", name, f.reserved, f.refunded)
		}
		for _, err := range f.ctxErrs {
			if err != nil {
				t.Errorf("%s limit ran on a cancelled context: %v", name, err)
			}
		}
	}
}
