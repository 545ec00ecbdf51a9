package client

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Transaction is one authorization request's record, kept by the app
// (WebFlow keeps it in memory, bound to the browser by a cookie) until the
// response arrives. Every Transaction has a fresh state and a fresh PKCE
// verifier (RFC 9700 §2.1.1); use it once.
type Transaction struct {
	// State is the one-time state sent with the request (RFC 6749 §10.12).
	State string
	// Verifier is the PKCE code verifier (RFC 7636); only its S256
	// challenge was sent.
	Verifier string
	// Issuer is the issuer the request went to; the response's iss must
	// equal it (RFC 9207).
	Issuer string
	// RedirectURL is the redirect URI the request named.
	RedirectURL string
	// Scopes are the scopes asked for.
	Scopes []string
	// ReturnTo is where the app goes after the login: a path on its own
	// origin, or empty.
	ReturnTo string
	// Created is when the request was made.
	Created time.Time
}

// Session is the outcome of a successful authorization response.
type Session struct {
	// Token holds the access token and, when the app may refresh, the
	// refresh token. Save it in a TokenStore and use it through
	// PersistentSource.
	Token *oauth2.Token
	// Scopes are the scopes granted.
	Scopes []string
	// Missing are scopes asked for but not granted: the user or the server
	// narrowed the request. An app that cannot work without one of them
	// should say so.
	Missing []string
	// ReturnTo is the Transaction's ReturnTo.
	ReturnTo string
}

// Errors of the authorization response. Each is returned before the code
// is redeemed: the token endpoint is not called.
var (
	// ErrState: the response's state is missing or is not the
	// transaction's, or there is no transaction for this browser (it was
	// used already, expired, or began in another browser).
	ErrState = errors.New("client: the authorization response's state does not match a login started in this browser")
	// ErrResponseIssuer: the response's iss is not the issuer the request
	// went to, or is missing from a server that promises it (RFC 9207; a
	// mix-up attack).
	ErrResponseIssuer = errors.New("client: the authorization response's iss is not the issuer the request was sent to")
	// ErrNoCode: the response has neither a code nor an error.
	ErrNoCode = errors.New("client: the authorization response has no code")
	// ErrReturnTo: returnTo is not a path on the app's own origin
	// (RFC 9700 §4.11: no open redirector).
	ErrReturnTo = errors.New("client: returnTo must be a path on this site")
	// ErrUnrequestedScope: the server granted a scope the app did not ask
	// for. The tokens are not used.
	ErrUnrequestedScope = errors.New("client: the server granted a scope that was not asked for")
)

// AuthError is the authorization server's error response (RFC 6749
// §4.1.2.1), for example access_denied when the user said no. It is
// reported only when the response's state and iss are right.
type AuthError struct {
	Code        string // the error parameter
	Description string // error_description, the server's words for a developer
	URI         string // error_uri
}

// ErrAccessDenied: the user (or the server) said no — an *AuthError whose
// Code is access_denied, from a redirect or a device login (RFC 6749
// §4.1.2.1, RFC 8628 §3.5).
var ErrAccessDenied = errors.New("client: access denied")

// Is makes errors.Is(err, ErrAccessDenied) true for access_denied.
func (e *AuthError) Is(target error) bool {
	return target == ErrAccessDenied && e.Code == "access_denied"
}

// Error says what the server answered, in its words.
func (e *AuthError) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("client: the authorization server answered %s: %s", e.Code, e.Description)
	}
	return "client: the authorization server answered " + e.Code
}

func authCodeURL(a App, returnTo string) (string, *Transaction, error) {
	c, err := a.core()
	if err != nil {
		return "", nil, err
	}
	if err := CheckReturnTo(returnTo); err != nil {
		return "", nil, err
	}
	tx := &Transaction{
		State:       randomString(),
		Verifier:    oauth2.GenerateVerifier(), // fresh for every transaction (PKCE-7.2-a, BCP-2.1.1-c)
		Issuer:      c.p.Issuer,
		RedirectURL: c.redirectURL,
		Scopes:      slices.Clone(c.scopes),
		ReturnTo:    returnTo,
		Created:     time.Now(),
	}
	// RFC 7636 §4.2: S256 only, never plain.
	u := c.config(tx.RedirectURL).AuthCodeURL(tx.State, oauth2.S256ChallengeOption(tx.Verifier))
	return u, tx, nil
}

// checkResponse applies every check that must pass before the code is
// redeemed, and returns the code.
func checkResponse(c *core, tx *Transaction, r url.Values) (string, error) {
	// RFC 6749 §10.12: the state is the transaction's (constant time).
	st := r.Get("state")
	if st == "" || subtle.ConstantTimeCompare([]byte(st), []byte(tx.State)) != 1 {
		return "", ErrState
	}
	// RFC 9207 §2.4: iss, form-decoded already, compared as a string with
	// the issuer the request went to — before the error is believed.
	if iss, ok := r["iss"]; ok {
		if len(iss) != 1 || iss[0] != tx.Issuer {
			return "", fmt.Errorf("%w: expected %q", ErrResponseIssuer, tx.Issuer)
		}
	} else if c.p.IssParameterSupported {
		return "", fmt.Errorf("%w: the response has no iss, and %s promises one", ErrResponseIssuer, tx.Issuer)
	}
	if code := r.Get("error"); code != "" {
		return "", &AuthError{Code: code, Description: r.Get("error_description"), URI: r.Get("error_uri")}
	}
	code := r.Get("code")
	if code == "" {
		return "", ErrNoCode
	}
	return code, nil
}

func exchange(ctx context.Context, a App, tx *Transaction, r url.Values) (*Session, error) {
	c, err := a.core()
	if err != nil {
		return nil, err
	}
	if tx == nil {
		return nil, ErrState
	}
	if tx.Issuer != c.p.Issuer {
		return nil, fmt.Errorf("%w: the transaction was started with %q", ErrResponseIssuer, tx.Issuer)
	}
	code, err := checkResponse(c, tx, r)
	if err != nil {
		return nil, err
	}
	tok, err := c.config(tx.RedirectURL).Exchange(c.oauth2Context(ctx), code, oauth2.VerifierOption(tx.Verifier))
	if err != nil {
		return nil, fmt.Errorf("client: redeem the authorization code: %w", err)
	}
	s, err := compareScopes(tx.Scopes, tok)
	if err != nil {
		return nil, err
	}
	s.ReturnTo = tx.ReturnTo
	return s, nil
}

// compareScopes compares the granted scope with the requested one. An
// absent scope means the one requested (RFC 6749 §5.1).
func compareScopes(requested []string, tok *oauth2.Token) (*Session, error) {
	granted := requested
	if s, _ := tok.Extra("scope").(string); s != "" {
		granted = strings.Fields(s)
	}
	var extra, missing []string
	for _, g := range granted {
		if !slices.Contains(requested, g) {
			extra = append(extra, g)
		}
	}
	if len(extra) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnrequestedScope, strings.Join(extra, " "))
	}
	for _, r := range requested {
		if !slices.Contains(granted, r) {
			missing = append(missing, r)
		}
	}
	return &Session{Token: tok, Scopes: slices.Clone(granted), Missing: missing}, nil
}

// CheckReturnTo reports whether p may be a post-login target: empty, or a
// path on this origin — beginning with one "/", not "//" or "/\" (which
// browsers read as another host), without a scheme, host, backslash or
// control character (RFC 9700 §4.11.1, BCP-4.11.1-a).
func CheckReturnTo(p string) error {
	if p == "" {
		return nil
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\") {
		return fmt.Errorf("%w: %q", ErrReturnTo, p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q has a control character", ErrReturnTo, p)
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fmt.Errorf("%w: %q", ErrReturnTo, p)
	}
	// A path whose decoded form starts with two slashes or a backslash may
	// be re-read as another host by a later redirect.
	if d := u.Path; strings.HasPrefix(d, "//") || strings.Contains(d, "\\") {
		return fmt.Errorf("%w: %q", ErrReturnTo, p)
	}
	return nil
}

// randomString is 256 bits from crypto/rand, base64url.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}
