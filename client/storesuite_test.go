package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// testKey returns a fresh random key.
func testKey(t testing.TB) Key {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	k, err := parseKey([]byte(hex.EncodeToString(b)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testKeys(t testing.TB, current Key, older ...Key) *Keys {
	t.Helper()
	ks, err := NewKeys(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// testToken returns a token whose access and refresh tokens are random and
// end in the same tag, so that a mix of two Saves shows.
func testToken(t testing.TB) *oauth2.Token {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	tag := hex.EncodeToString(b[:8])
	return (&oauth2.Token{
		AccessToken:  "at-" + base64.RawURLEncoding.EncodeToString(b[8:]) + "-" + tag,
		RefreshToken: "rt-" + base64.RawURLEncoding.EncodeToString(b) + "-" + tag,
		TokenType:    "Bearer",
		Expiry:       time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC),
	}).WithExtra(map[string]any{"scope": "read write", "id_token": "idt-" + tag})
}

var (
	alice = TokenKey{Issuer: "https://id.example", ClientID: "app", Subject: "alice"}
	bob   = TokenKey{Issuer: "https://id.example", ClientID: "app", Subject: "bob"}
)

func sameToken(t testing.TB, got, want *oauth2.Token) {
	t.Helper()
	if got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken ||
		got.TokenType != want.TokenType || !got.Expiry.Equal(want.Expiry) ||
		got.Extra("scope") != want.Extra("scope") || got.Extra("id_token") != want.Extra("id_token") {
		t.Fatalf("the loaded token differs from the saved one")
	}
}

// runStoreTests is the conformance suite of every TokenStore.
func runStoreTests(t *testing.T, open func(t *testing.T) TokenStore) {
	t.Run("RoundTrip", func(t *testing.T) {
		s, ctx := open(t), t.Context()
		if _, err := s.Load(ctx, alice); !errors.Is(err, ErrNoToken) {
			t.Fatalf("Load of nothing: %v, want ErrNoToken", err)
		}
		tok := testToken(t)
		if err := s.Save(ctx, alice, tok); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		sameToken(t, got, tok)
		if _, err := s.Load(ctx, bob); !errors.Is(err, ErrNoToken) {
			t.Fatalf("Load of another key: %v, want ErrNoToken", err)
		}
		newer := testToken(t)
		if err := s.Save(ctx, alice, newer); err != nil {
			t.Fatal(err)
		}
		got, err = s.Load(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		sameToken(t, got, newer)
		if err := s.Delete(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(ctx, alice); !errors.Is(err, ErrNoToken) {
			t.Fatalf("Load after Delete: %v, want ErrNoToken", err)
		}
		if err := s.Delete(ctx, alice); err != nil {
			t.Fatalf("Delete of nothing: %v", err)
		}
	})
	t.Run("NoRefreshToken", func(t *testing.T) {
		s, ctx := open(t), t.Context()
		tok := &oauth2.Token{AccessToken: "only-access", TokenType: "Bearer"}
		if err := s.Save(ctx, alice, tok); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(ctx, alice)
		if err != nil || got.AccessToken != "only-access" || got.RefreshToken != "" || !got.Expiry.IsZero() {
			t.Fatalf("Load: %v %v", got, err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s, ctx := open(t), t.Context()
		if err := s.Save(ctx, alice, testToken(t)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for range 10 {
			wg.Go(func() {
				for range 10 {
					if err := s.Save(ctx, alice, testToken(t)); err != nil {
						errs <- err
					}
					tok, err := s.Load(ctx, alice)
					if err != nil {
						errs <- err
						continue
					}
					// A whole Save, never a mix of two.
					if tag := tok.AccessToken[strings.LastIndex(tok.AccessToken, "-"):]; !strings.HasSuffix(tok.RefreshToken, tag) {
						errs <- errors.New("a mix of two Saves")
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

type rotatingStore interface {
	TokenStore
	Rotate(ctx context.Context) (int, error)
}

// sealedStore is an encrypting store whose raw records a test may read and
// write, and scan as a whole.
type sealedStore struct {
	TokenStore
	keys func(ks *Keys) rotatingStore // the same storage under other Keys
	get  func(t *testing.T, key TokenKey) sealed
	put  func(t *testing.T, key TokenKey, s sealed)
	dump func(t *testing.T) []byte // everything the store wrote
}

// runSealedStoreTests is the suite of the encrypting stores: tampering,
// rotation and the scan of their storage.
func runSealedStoreTests(t *testing.T, open func(t *testing.T, ks *Keys) sealedStore) {
	tamper := func(t *testing.T, change func(t *testing.T, s sealedStore)) {
		t.Helper()
		s, ctx := open(t, testKeys(t, testKey(t))), t.Context()
		if err := s.Save(ctx, alice, testToken(t)); err != nil {
			t.Fatal(err)
		}
		change(t, s)
		tok, err := s.Load(ctx, alice)
		if !errors.Is(err, ErrDecrypt) {
			t.Fatalf("Load of a tampered record: %v (token %v), want ErrDecrypt", err, tok != nil)
		}
	}
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i%len(b)] ^= 1
		return b
	}
	t.Run("TamperFlipAccessByte", func(t *testing.T) {
		for _, i := range []int{0, 1, headerLen, headerLen + nonceLen, -1} {
			tamper(t, func(t *testing.T, s sealedStore) {
				r := s.get(t, alice)
				r.access = flip(r.access, (i+len(r.access))%len(r.access))
				s.put(t, alice, r)
			})
		}
	})
	t.Run("TamperFlipRefreshByte", func(t *testing.T) {
		tamper(t, func(t *testing.T, s sealedStore) {
			r := s.get(t, alice)
			r.refresh = flip(r.refresh, len(r.refresh)-1)
			s.put(t, alice, r)
		})
	})
	t.Run("TamperFlipRecordID", func(t *testing.T) {
		tamper(t, func(t *testing.T, s sealedStore) {
			r := s.get(t, alice)
			r.record = flip(r.record, 3)
			s.put(t, alice, r)
		})
	})
	t.Run("TamperSwapAccessAndRefresh", func(t *testing.T) {
		tamper(t, func(t *testing.T, s sealedStore) {
			r := s.get(t, alice)
			r.access, r.refresh = r.refresh, r.access
			s.put(t, alice, r)
		})
	})
	t.Run("TamperRefreshAsBothHalves", func(t *testing.T) {
		tamper(t, func(t *testing.T, s sealedStore) {
			r := s.get(t, alice)
			r.access = r.refresh
			s.put(t, alice, r)
		})
	})
	t.Run("TamperMixTwoSaves", func(t *testing.T) {
		tamper(t, func(t *testing.T, s sealedStore) {
			old := s.get(t, alice)
			if err := s.Save(t.Context(), alice, testToken(t)); err != nil {
				t.Fatal(err)
			}
			r := s.get(t, alice)
			r.refresh = old.refresh
			s.put(t, alice, r)
		})
	})
	t.Run("TamperMoveToAnotherKey", func(t *testing.T) {
		for _, to := range []TokenKey{bob, {alice.Issuer + "x", alice.ClientID, alice.Subject}, {alice.Issuer, "other", alice.Subject}} {
			s, ctx := open(t, testKeys(t, testKey(t))), t.Context()
			if err := s.Save(ctx, alice, testToken(t)); err != nil {
				t.Fatal(err)
			}
			s.put(t, to, s.get(t, alice))
			if _, err := s.Load(ctx, to); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Load of a record moved to %v: %v, want ErrDecrypt", to, err)
			}
		}
	})
	t.Run("UnknownKey", func(t *testing.T) {
		s, ctx := open(t, testKeys(t, testKey(t))), t.Context()
		if err := s.Save(ctx, alice, testToken(t)); err != nil {
			t.Fatal(err)
		}
		other := s.keys(testKeys(t, testKey(t)))
		if _, err := other.Load(ctx, alice); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("Load under other keys: %v, want ErrDecrypt", err)
		}
	})
	t.Run("Rotate", func(t *testing.T) {
		oldKey, newKey := testKey(t), testKey(t)
		s, ctx := open(t, testKeys(t, oldKey)), t.Context()
		toks := map[TokenKey]*oauth2.Token{alice: testToken(t), bob: testToken(t)}
		for k, tok := range toks {
			if err := s.Save(ctx, k, tok); err != nil {
				t.Fatal(err)
			}
		}
		both := s.keys(testKeys(t, newKey, oldKey))
		for k, tok := range toks { // the old key still decrypts
			got, err := both.Load(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			sameToken(t, got, tok)
		}
		n, err := s.keys(testKeys(t, newKey, oldKey)).Rotate(ctx)
		if err != nil || n != 2 {
			t.Fatalf("Rotate: %d, %v; want 2, nil", n, err)
		}
		if r := s.get(t, alice); sealedBy(r.access) != newKey.id || sealedBy(r.refresh) != newKey.id {
			t.Fatal("Rotate left a ciphertext under the old key")
		}
		onlyNew := s.keys(testKeys(t, newKey))
		for k, tok := range toks { // the old key is dropped
			got, err := onlyNew.Load(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			sameToken(t, got, tok)
		}
		n, err = onlyNew.Rotate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("Rotate again: %d, %v; want 0, nil", n, err)
		}
	})
	t.Run("ScanForTokens", func(t *testing.T) {
		s, ctx := open(t, testKeys(t, testKey(t))), t.Context()
		var toks []*oauth2.Token
		for _, k := range []TokenKey{alice, bob} {
			for range 3 { // older records linger in journals and free pages
				tok := testToken(t)
				toks = append(toks, tok)
				if err := s.Save(ctx, k, tok); err != nil {
					t.Fatal(err)
				}
			}
		}
		scanFor(t, s.dump(t), toks)
	})
}

// scanFor fails if raw holds any of toks' secrets in any encoding.
func scanFor(t *testing.T, raw []byte, toks []*oauth2.Token) {
	t.Helper()
	if len(raw) == 0 {
		t.Fatal("nothing to scan")
	}
	for i, tok := range toks {
		for name, v := range map[string]string{"access": tok.AccessToken, "refresh": tok.RefreshToken, "id_token": tok.Extra("id_token").(string)} {
			for enc, form := range encodings(v) {
				if bytes.Contains(raw, []byte(form)) {
					t.Errorf("token %d: the %s token is in the store's files, %s", i, name, enc)
				}
			}
		}
	}
}

// encodings returns s raw and in hex and base64 (both alphabets, with and
// without padding), with the three offsets of base64 inside a longer
// string.
func encodings(s string) map[string]string {
	out := map[string]string{
		"raw":       s,
		"hex":       hex.EncodeToString([]byte(s)),
		"HEX":       strings.ToUpper(hex.EncodeToString([]byte(s))),
		"json-ish":  fmt.Sprintf("%q", s),
		"ascii-u16": string(bytes.Join(bytes.Split([]byte(s), nil), []byte{0})),
	}
	for name, enc := range map[string]*base64.Encoding{"std": base64.StdEncoding, "raw-std": base64.RawStdEncoding, "url": base64.URLEncoding, "raw-url": base64.RawURLEncoding} {
		for off := range 3 {
			// A substring of the encoding of s preceded by off bytes, cut to
			// the characters s alone determines.
			e := enc.EncodeToString(append(make([]byte, off), s...))
			skip := (off*4 + 2) / 3
			out[fmt.Sprintf("base64 %s at offset %d", name, off)] = strings.TrimRight(e[skip:len(e)-4], "=")
		}
		out["base64 "+name] = enc.EncodeToString([]byte(s))
	}
	return out
}
