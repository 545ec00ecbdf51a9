package bff

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

// A session id, the session cookie's value, is
//
//	<unix time of the login, decimal>.<256 random bits, base64url>
//
// The store knows the session only by the SHA-256 of the whole value
// (sessionSubject): a copy of the store does not give the cookie, and the
// login time cannot be changed without changing the session.
func newSessionID(now time.Time) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return strconv.FormatInt(now.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(b)
}

// parseSessionID returns the login time of a well-formed id.
func parseSessionID(id string) (time.Time, bool) {
	ts, r, ok := strings.Cut(id, ".")
	if !ok || len(ts) == 0 || len(ts) > 12 || len(r) != 43 {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(r); err != nil || len(b) != 32 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

func sessionSubject(id string) string {
	h := sha256.Sum256([]byte("gatehouse bff session v1\x00" + id))
	return "bff-" + hex.EncodeToString(h[:])
}

// sessionCookie is the session cookie with value; maxAge < 0 deletes it.
func sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}

// errNoSession: no session cookie, a malformed one, or one past the
// SessionLifetime.
var errNoSession = errors.New("bff: no session")

// sessionID returns r's well-formed session id within its lifetime. A
// session past its lifetime is ended (revoked and deleted) on the way.
func (b *BFF) sessionID(r *http.Request) (string, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return "", errNoSession
	}
	created, ok := parseSessionID(ck.Value)
	if !ok {
		return "", errNoSession
	}
	if b.now().Sub(created) > b.lifetime {
		ctx, cancel := bounded(r.Context())
		defer cancel()
		if err := b.source(ck.Value).Logout(ctx); err != nil {
			b.log.WarnContext(ctx, "bff: end an expired session", "error", err)
		}
		return "", errNoSession
	}
	return ck.Value, nil
}

// csrf refuses every request that a page of another origin could have
// made (browser-based-apps §6.1.3.3, BBA-6.1.3.3-a): it must carry
// "X-CSRF: 1" — a header a cross-origin page can send only after a CORS
// preflight, which the BFF never approves — and, when the browser says
// where it comes from, Sec-Fetch-Site must be same-origin. The standard
// library's CrossOriginProtection adds its own check of Origin against
// Host for unsafe methods of browsers that send no Sec-Fetch-Site.
func (b *BFF) csrf(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "cross_origin_request"})
	}))
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-CSRF") != "1" || len(r.Header.Values("X-CSRF")) != 1 {
			writeJSON(w, http.StatusForbidden, map[string]any{"error": "csrf_header_required"})
			return
		}
		if s := r.Header.Values("Sec-Fetch-Site"); len(s) > 1 || (len(s) == 1 && s[0] != "same-origin") {
			writeJSON(w, http.StatusForbidden, map[string]any{"error": "cross_origin_request"})
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// sessionInfo is what the SPA may know of its session: never a token.
type sessionInfo struct {
	Authenticated bool     `json:"authenticated"`
	Scopes        []string `json:"scopes,omitempty"`
	ExpiresAt     int64    `json:"session_expires_at,omitempty"` // unix time the session ends at the latest
}

// session answers whether the browser is signed in, and with which
// scopes.
func (b *BFF) session(w http.ResponseWriter, r *http.Request) {
	id, err := b.sessionID(r)
	if err != nil {
		writeJSON(w, http.StatusOK, sessionInfo{})
		return
	}
	tok, err := b.store.Load(r.Context(), b.key(id))
	if err != nil {
		if !errors.Is(err, client.ErrNoToken) {
			b.log.WarnContext(r.Context(), "bff: load the session", "error", err)
		}
		writeJSON(w, http.StatusOK, sessionInfo{})
		return
	}
	created, _ := parseSessionID(id)
	scope, _ := tok.Extra("scope").(string)
	info := sessionInfo{Authenticated: true, Scopes: strings.Fields(scope), ExpiresAt: created.Add(b.lifetime).Unix()}
	if scope == "" {
		info.Scopes = b.app.Scopes // RFC 6749 §5.1: no scope is the scope asked for
	}
	writeJSON(w, http.StatusOK, info)
}

// logout revokes the session's tokens at the server (RFC 7009) and
// deletes them, whatever the server answers, and deletes the cookie.
func (b *BFF) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, sessionCookie("", -1))
	id, err := b.sessionID(r)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"signed_out": true, "revoked": true})
		return
	}
	ctx, cancel := bounded(r.Context())
	defer cancel()
	revoked := true
	if err := b.source(id).Logout(ctx); err != nil {
		// The tokens are forgotten here; the server may keep them live
		// until they expire. The error holds no token (client.scrub).
		b.log.WarnContext(ctx, "bff: logout could not revoke at the server", "error", err)
		revoked = false
	}
	writeJSON(w, http.StatusOK, map[string]any{"signed_out": true, "revoked": revoked})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
