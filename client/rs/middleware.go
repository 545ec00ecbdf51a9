package rs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Middleware lets a request through to next only with an active access
// token in its Authorization header, and refuses a token sent anywhere
// else; next reads the token's Info with FromContext. See the package
// documentation for every answer it gives.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return v.RequireScope()(next)
}

// RequireScope is Middleware that also requires every one of scopes: a
// token without them is refused with 403 insufficient_scope, and the
// challenge names them (RFC 6750 §3.1). Inside Middleware, or another
// RequireScope, of the same Validator it checks the scopes only, without
// introspecting again. A scope that is not an RFC 6749 §3.3 scope-token
// is a programming error and panics.
func (v *Validator) RequireScope(scopes ...string) func(http.Handler) http.Handler {
	for _, s := range scopes {
		if !scopeToken(s) {
			panic(fmt.Sprintf("rs: RequireScope: %q is not a scope (RFC 6749 §3.3)", s))
		}
	}
	scopes = slices.Clone(scopes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info, ok := v.authenticate(w, r)
			if !ok {
				return
			}
			for _, s := range scopes {
				if !info.HasScope(s) {
					// RFC 6750 §3.1; BCP-2.3-c: 403 insufficient_scope.
					v.challenge(w, http.StatusForbidden, "insufficient_scope",
						"the access token lacks the scope this resource requires: "+strings.Join(scopes, " "), scopes)
					return
				}
			}
			ctx := context.WithValue(r.Context(), ctxKey{}, ctxValue{v: v, info: info})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// authenticate finds the request's token and validates it, or answers the
// request and returns false.
func (v *Validator) authenticate(w http.ResponseWriter, r *http.Request) (Info, bool) {
	if cv, ok := r.Context().Value(ctxKey{}).(ctxValue); ok && cv.v == v {
		return cv.info, true // an outer middleware of v has checked this request
	}
	// DESIGN invariant 7; RFC 6750 §2.2, §2.3; OAuth 2.1 §5.1: a token in
	// the URL or a form body is refused, whatever else the request carries.
	if status, desc := tokenElsewhere(r); status != 0 {
		v.challenge(w, status, "invalid_request", desc, nil)
		return Info{}, false
	}
	token, err := bearerToken(r.Header)
	switch {
	case errors.Is(err, errNoToken):
		v.challenge(w, http.StatusUnauthorized, "", "", nil) // RFC 6750 §3.1: no error code
		return Info{}, false
	case err != nil:
		v.challenge(w, http.StatusBadRequest, "invalid_request", err.Error(), nil)
		return Info{}, false
	}
	info, err := v.Validate(r.Context(), token)
	switch {
	case err == nil:
		return info, true
	case errors.Is(err, ErrInvalidToken):
		v.log.DebugContext(r.Context(), "rs: access token refused", "reason", err.Error())
		v.challenge(w, http.StatusUnauthorized, "invalid_token", "the access token is not active", nil)
	case r.Context().Err() != nil:
		v.log.DebugContext(r.Context(), "rs: the request ended while its token was introspected", "err", err.Error())
		v.unavailable(w)
	default:
		v.log.ErrorContext(r.Context(), "rs: introspection failed; the request is refused", "endpoint", v.endpoint, "err", err.Error())
		v.unavailable(w)
	}
	return Info{}, false
}

var (
	errNoToken   = errors.New("no bearer token")
	errTwoTokens = errors.New("send one Authorization header, not several")
	errMalformed = errors.New("the Authorization header is not 'Bearer' followed by one token")
)

// bearerToken takes the RFC 6750 §2.1 credential from exactly one
// Authorization header; the scheme is case-insensitive. Another scheme, or
// no header, is errNoToken.
func bearerToken(h http.Header) (string, error) {
	vals := h.Values("Authorization")
	switch {
	case len(vals) == 0:
		return "", errNoToken
	case len(vals) > 1:
		return "", errTwoTokens // O21-5.1-b: one token, one way
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNoToken
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t,") {
		return "", errMalformed
	}
	return token, nil
}

// challenge refuses the request with an RFC 6750 §3 WWW-Authenticate
// challenge and a JSON body. An empty code is the challenge of a request
// without credentials. desc never holds the token.
func (v *Validator) challenge(w http.ResponseWriter, status int, code, desc string, scopes []string) {
	c := `Bearer realm="` + quote(v.realm) + `"`
	if code != "" {
		c += `, error="` + code + `", error_description="` + quote(desc) + `"`
	}
	if len(scopes) > 0 {
		c += `, scope="` + strings.Join(scopes, " ") + `"`
	}
	w.Header().Set("WWW-Authenticate", c)
	if code == "" {
		desc = "an access token is required in the Authorization header (Bearer)"
	}
	writeJSON(w, status, code, desc)
}

// unavailable answers 503: the token could not be checked, so it is not
// accepted.
func (v *Validator) unavailable(w http.ResponseWriter) {
	writeJSON(w, http.StatusServiceUnavailable, "temporarily_unavailable",
		"the access token could not be checked; try again later")
}

func writeJSON(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error       string `json:"error,omitempty"`
		Description string `json:"error_description,omitempty"`
	}{code, desc})
}

// quote escapes s for a quoted-string (RFC 9110 §5.6.4).
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// scopeToken reports whether s is an RFC 6749 §3.3 scope-token.
func scopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
			return false
		}
	}
	return true
}
