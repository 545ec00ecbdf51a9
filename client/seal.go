package client

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// ErrDecrypt: a stored token does not decrypt. It was altered, moved to
// another TokenKey or to the other kind (an access token's ciphertext
// where the refresh token's belongs), mixed with a ciphertext of another
// Save, or encrypted under a key that is not in the store's Keys. The
// store never returns a token it could not authenticate; a token source
// treats this like ErrNoToken (the user signs in again), and the app
// should report it, as it means tampering or a lost key.
var ErrDecrypt = errors.New("client: a stored token does not decrypt")

// The ciphertext of one token, as the file and SQL stores keep it:
//
//	version (1 byte, 1) | key id (8) | nonce (12, random) | AES-256-GCM sealed token and tag (16)
//
// The associated data binds the ciphertext to its TokenKey, to its kind
// (access or refresh), to the random record id of the Save that made it
// (so that halves of two Saves do not combine) and to its own header.
const (
	sealVersion   = 1
	nonceLen      = 12
	headerLen     = 1 + keyIDLen
	minSealedLen  = headerLen + nonceLen + 16
	recordIDLen   = 16
	kindAccess    = "access"
	kindRefresh   = "refresh"
	adDomain      = "gatehouse client token v1"
	maxPayloadLen = 1 << 20
)

// sealed is one Save's tokens, encrypted: the access token with its type,
// expiry and extras, and the refresh token, each under its own nonce.
type sealed struct {
	record  []byte
	access  []byte
	refresh []byte
}

// tokenJSON is what a store keeps of an oauth2.Token: the access part (all
// but the refresh token) is sealed as one, the refresh token alone.
type tokenJSON struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	IDToken      string    `json:"id_token,omitempty"` // OpenID Connect's extra
	Scope        string    `json:"scope,omitempty"`    // the granted scope, an extra
}

func toJSON(tok *oauth2.Token) tokenJSON {
	j := tokenJSON{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	j.IDToken, _ = tok.Extra("id_token").(string)
	j.Scope, _ = tok.Extra("scope").(string)
	return j
}

func (j tokenJSON) token() *oauth2.Token {
	tok := &oauth2.Token{AccessToken: j.AccessToken, TokenType: j.TokenType, RefreshToken: j.RefreshToken, Expiry: j.Expiry}
	extra := map[string]any{}
	if j.IDToken != "" {
		extra["id_token"] = j.IDToken
	}
	if j.Scope != "" {
		extra["scope"] = j.Scope
	}
	if len(extra) > 0 {
		tok = tok.WithExtra(extra)
	}
	return tok
}

// seal encrypts tok for key under the current key.
func (ks *Keys) seal(key TokenKey, tok *oauth2.Token) (sealed, error) {
	if tok == nil {
		return sealed{}, errors.New("client: Save of a nil token")
	}
	s := sealed{record: make([]byte, recordIDLen)}
	if _, err := rand.Read(s.record); err != nil {
		return sealed{}, err
	}
	j := toJSON(tok)
	refresh := j.RefreshToken
	j.RefreshToken = ""
	access, err := json.Marshal(j)
	if err != nil {
		return sealed{}, err
	}
	if s.access, err = encrypt(ks.current, access, additionalData(key, kindAccess, s.record)); err != nil {
		return sealed{}, err
	}
	if s.refresh, err = encrypt(ks.current, []byte(refresh), additionalData(key, kindRefresh, s.record)); err != nil {
		return sealed{}, err
	}
	return s, nil
}

// open decrypts what seal made for key; anything else is ErrDecrypt.
func (ks *Keys) open(key TokenKey, s sealed) (*oauth2.Token, error) {
	access, err := ks.decrypt(s.access, additionalData(key, kindAccess, s.record))
	if err != nil {
		return nil, err
	}
	refresh, err := ks.decrypt(s.refresh, additionalData(key, kindRefresh, s.record))
	if err != nil {
		return nil, err
	}
	var j tokenJSON
	if err := json.Unmarshal(access, &j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	j.RefreshToken = string(refresh)
	return j.token(), nil
}

// reseal re-encrypts s under the current key, keeping its record id. It
// reports false, and returns s, when both halves are under it already.
func (ks *Keys) reseal(key TokenKey, s sealed) (sealed, bool, error) {
	if sealedBy(s.access) == ks.current.id && sealedBy(s.refresh) == ks.current.id {
		if _, err := ks.open(key, s); err != nil {
			return s, false, err
		}
		return s, false, nil
	}
	out := sealed{record: s.record}
	for _, half := range []struct {
		kind    string
		in      []byte
		outPart *[]byte
	}{{kindAccess, s.access, &out.access}, {kindRefresh, s.refresh, &out.refresh}} {
		ad := additionalData(key, half.kind, s.record)
		pt, err := ks.decrypt(half.in, ad)
		if err != nil {
			return s, false, err
		}
		if *half.outPart, err = encrypt(ks.current, pt, ad); err != nil {
			return s, false, err
		}
	}
	return out, true, nil
}

func sealedBy(ct []byte) (id [keyIDLen]byte) {
	if len(ct) >= headerLen {
		copy(id[:], ct[1:headerLen])
	}
	return id
}

func encrypt(k Key, plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(plaintext)+k.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:], k.id[:])
	nonce := out[headerLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, nonce, plaintext, append(ad, out[:headerLen]...)), nil
}

func (ks *Keys) decrypt(ct, ad []byte) ([]byte, error) {
	if len(ct) < minSealedLen || len(ct) > maxPayloadLen || ct[0] != sealVersion {
		return nil, fmt.Errorf("%w: not a token ciphertext", ErrDecrypt)
	}
	k, ok := ks.byID[sealedBy(ct)]
	if !ok {
		return nil, fmt.Errorf("%w: encrypted under key %x, which is not in the store's Keys", ErrDecrypt, ct[1:headerLen])
	}
	pt, err := k.aead.Open(nil, ct[headerLen:headerLen+nonceLen], ct[headerLen+nonceLen:], append(ad, ct[:headerLen]...))
	if err != nil {
		return nil, fmt.Errorf("%w: altered, or sealed for another token key or kind", ErrDecrypt)
	}
	return pt, nil
}

// additionalData binds a ciphertext to issuer, client id, subject, kind
// and record id, each length-prefixed so that no two differ only in where
// one field ends.
func additionalData(key TokenKey, kind string, record []byte) []byte {
	var b bytes.Buffer
	for _, f := range [][]byte{[]byte(adDomain), []byte(key.Issuer), []byte(key.ClientID), []byte(key.Subject), []byte(kind), record} {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(f)))
		b.Write(f)
	}
	return b.Bytes()
}
