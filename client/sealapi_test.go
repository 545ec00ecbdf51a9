package client

import (
	"bytes"
	"errors"
	"testing"
)

// TestSealTokenRoundTrip: SealToken/OpenToken keep every field, hold no
// token in plain text, and refuse a value altered, truncated, moved to
// another TokenKey or sealed under a key not in the set (the checklist's
// "encrypt access and refresh tokens in storage").
func TestSealTokenRoundTrip(t *testing.T) {
	ks := testKeys(t, testKey(t))
	key := TokenKey{Issuer: "https://as.test", ClientID: "web", Subject: "s1"}
	tok := testToken(t)
	b, err := ks.SealToken(key, tok)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(tok.AccessToken)) || bytes.Contains(b, []byte(tok.RefreshToken)) {
		t.Fatal("the sealed value holds a token in plain text")
	}
	got, err := ks.OpenToken(key, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != tok.AccessToken || got.RefreshToken != tok.RefreshToken || !got.Expiry.Equal(tok.Expiry) || got.Extra("scope") != tok.Extra("scope") {
		t.Fatalf("round trip changed the token")
	}
	bad := map[string][]byte{
		"empty":     nil,
		"truncated": b[:len(b)-1],
		"header":    b[:20],
		"flipped":   append(bytes.Clone(b[:40]), append([]byte{b[40] ^ 1}, b[41:]...)...),
	}
	for name, v := range bad {
		if _, err := ks.OpenToken(key, v); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: err = %v, want ErrDecrypt", name, err)
		}
	}
	if _, err := ks.OpenToken(TokenKey{Issuer: key.Issuer, ClientID: key.ClientID, Subject: "s2"}, b); !errors.Is(err, ErrDecrypt) {
		t.Errorf("moved to another key: err = %v, want ErrDecrypt", err)
	}
	if _, err := testKeys(t, testKey(t)).OpenToken(key, b); !errors.Is(err, ErrDecrypt) {
		t.Errorf("another key set: err = %v, want ErrDecrypt", err)
	}
}

// TestSealDataPurpose: SealData opens only for its own purpose, and a
// token ciphertext never opens as data.
func TestSealDataPurpose(t *testing.T) {
	ks := testKeys(t, testKey(t))
	ct, err := ks.SealData("login", []byte("secret-state"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("secret-state")) {
		t.Fatal("plain text in the ciphertext")
	}
	if pt, err := ks.OpenData("login", ct); err != nil || string(pt) != "secret-state" {
		t.Fatalf("OpenData = %q, %v", pt, err)
	}
	if _, err := ks.OpenData("other", ct); !errors.Is(err, ErrDecrypt) {
		t.Errorf("another purpose: err = %v, want ErrDecrypt", err)
	}
	s, err := ks.seal(TokenKey{}, testToken(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.OpenData("", s.access); !errors.Is(err, ErrDecrypt) {
		t.Errorf("a token half opened as data: %v", err)
	}
}
