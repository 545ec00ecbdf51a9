package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/internal/redistest"
	"github.com/gatehouse/gatehouse/client/redisstore"
	"golang.org/x/oauth2"
)

func random(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func testKeys(t testing.TB) *client.Keys {
	t.Helper()
	t.Setenv("REDISSTORE_TEST_KEY", random(t))
	k, err := client.KeyFromEnv("REDISSTORE_TEST_KEY")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := client.NewKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func newStore(t *testing.T, keys *client.Keys, opts ...redisstore.Option) (*redisstore.Store, string) {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	s, err := redisstore.New(rdb, keys, append([]redisstore.Option{redisstore.WithPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s, prefix
}

func token(t testing.TB) *oauth2.Token {
	return (&oauth2.Token{AccessToken: "gha_" + random(t), RefreshToken: "ghr_" + random(t), TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour).Round(time.Second)}).WithExtra(map[string]any{"scope": "read write"})
}

var key = client.TokenKey{Issuer: "https://as.test", ClientID: "web", Subject: "s1"}

// TestStoreRoundTrip: Save, Load, Delete, ErrNoToken, and a TTL on every
// value.
func TestStoreRoundTrip(t *testing.T) {
	ctx := t.Context()
	s, _ := newStore(t, testKeys(t), redisstore.WithTTL(time.Hour))
	if _, err := s.Load(ctx, key); !errors.Is(err, client.ErrNoToken) {
		t.Fatalf("Load of nothing: %v, want ErrNoToken", err)
	}
	tok := token(t)
	if err := s.Save(ctx, key, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != tok.AccessToken || got.RefreshToken != tok.RefreshToken || !got.Expiry.Equal(tok.Expiry) || got.Extra("scope") != "read write" {
		t.Fatal("Load returned another token than was saved")
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of nothing: %v", err)
	}
	if _, err := s.Load(ctx, key); !errors.Is(err, client.ErrNoToken) {
		t.Fatalf("Load after Delete: %v, want ErrNoToken", err)
	}
}

// TestDumpHoldsNoToken: every value and key name in Redis, read raw, holds
// no token, no subject, in plain text, every value expires, and a value
// copied to another TokenKey's name or altered does not decrypt (the
// checklist's "encrypt access and refresh tokens in storage"; BBA-6.1-a's
// server-side store).
func TestDumpHoldsNoToken(t *testing.T) {
	ctx := t.Context()
	rdb, prefix := redistest.Client(t)
	s, err := redisstore.New(rdb, testKeys(t), redisstore.WithPrefix(prefix), redisstore.WithTTL(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tok := token(t)
	other := client.TokenKey{Issuer: key.Issuer, ClientID: key.ClientID, Subject: "s2"}
	if err := s.Save(ctx, key, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, other, token(t)); err != nil {
		t.Fatal(err)
	}
	names, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil || len(names) != 2 {
		t.Fatalf("keys: %v %v", names, err)
	}
	vals := map[string][]byte{}
	for _, n := range names {
		v, err := rdb.Get(ctx, n).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		vals[n] = v
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken, key.Subject, "read write"} {
			if bytes.Contains(v, []byte(secret)) || bytes.Contains([]byte(n), []byte(secret)) {
				t.Errorf("%s holds %q in plain text", n, secret)
			}
		}
		if ttl := rdb.PTTL(ctx, n).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("%s: TTL %v, want (0, 1h]", n, ttl)
		}
	}
	// Swap the two values: neither decrypts for the other key.
	if err := rdb.Set(ctx, names[0], vals[names[1]], time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, names[1], vals[names[0]], time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []client.TokenKey{key, other} {
		if _, err := s.Load(ctx, k); !errors.Is(err, client.ErrDecrypt) {
			t.Errorf("swapped value for %q: %v, want ErrDecrypt", k.Subject, err)
		}
	}
	// Positive control: saved again, it loads.
	if err := s.Save(ctx, key, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, key); err != nil {
		t.Fatalf("after a fresh Save: %v", err)
	}
}

// TestLockExcludesAcrossClients: two stores on two Redis connections (two
// replicas) never hold one key's lock together, another key's lock is
// free meanwhile, and a waiter whose context ends gets its error.
func TestLockExcludesAcrossClients(t *testing.T) {
	keys := testKeys(t)
	rdb1, prefix := redistest.Client(t)
	rdb2, _ := redistest.Client(t)
	s1, _ := redisstore.New(rdb1, keys, redisstore.WithPrefix(prefix))
	s2, _ := redisstore.New(rdb2, keys, redisstore.WithPrefix(prefix))
	var inside, max atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		s := s1
		if i%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			unlock, err := s.Lock(t.Context(), key)
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := max.Load()
				if n <= m || max.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	if max.Load() != 1 {
		t.Fatalf("%d holders at once, want 1", max.Load())
	}

	unlock, err := s1.Lock(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s2.Lock(ctx, key); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock of a held lock with an ended context: %v, want context.Canceled", err)
	}
	u2, err := s2.Lock(t.Context(), client.TokenKey{Subject: "another"})
	if err != nil {
		t.Fatalf("another key's lock: %v", err)
	}
	u2()
	unlock()
	unlock() // a second unlock does nothing
	u3, err := s2.Lock(t.Context(), key)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	u3()
}

// TestNewRefuses: New reports every missing part at once.
func TestNewRefuses(t *testing.T) {
	if _, err := redisstore.New(nil, nil, redisstore.WithTTL(time.Millisecond)); err == nil {
		t.Fatal("New accepted no client, no keys and a TTL under a second")
	}
}
