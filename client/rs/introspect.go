package rs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxResponse caps what is read of an introspection response.
const maxResponse = 1 << 20

// introspect asks the server about token (RFC 7662 §2.1) and returns its
// Info if, and only if, the answer is a well-formed active one.
func (v *Validator) introspect(ctx context.Context, token string) (Info, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	v.secret.BasicAuth(req, v.clientID) // RFC 7662 §2.1: the caller authenticates
	resp, err := v.hc.Do(req)
	if err != nil {
		// A *url.Error names the endpoint, never the body that holds the token.
		return Info{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return Info{}, fmt.Errorf("%w: read the response: %w", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Info{}, fmt.Errorf("%w: the introspection endpoint answered %s%s", ErrUnavailable, resp.Status, serverError(resp.StatusCode, body))
	}
	if len(body) > maxResponse {
		return Info{}, fmt.Errorf("%w: the introspection response is larger than %d bytes", ErrUnavailable, maxResponse)
	}
	return v.parse(body)
}

// serverError describes an RFC 6749 error body, saying what to fix when
// the server refused the resource server's own credentials.
func serverError(status int, body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	s := fmt.Sprintf(" (%q: %q)", e.Error, e.Description)
	if e.Error == "invalid_client" || status == http.StatusUnauthorized {
		s += ": the authorization server refused the resource server's credentials; check its client id and secret"
	}
	return s
}

// response is an active RFC 7662 §2.2 answer, as far as it is read.
type response struct {
	Scope     *string         `json:"scope"`
	ClientID  string          `json:"client_id"`
	Username  string          `json:"username"`
	TokenType string          `json:"token_type"`
	Exp       *int64          `json:"exp"`
	Iat       *int64          `json:"iat"`
	Sub       string          `json:"sub"`
	Iss       *string         `json:"iss"`
	Cnf       json.RawMessage `json:"cnf"`
	Aud       audience        `json:"aud"`
}

// audience is "aud": one string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

// parse reads an introspection response. Only the JSON literal true makes
// a token active (a string "true", 1 or a missing member is inactive); an
// active answer whose members have the wrong types is no answer at all.
func (v *Validator) parse(body []byte) (Info, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return Info{}, fmt.Errorf("%w: the introspection response is not a JSON object", ErrUnavailable)
	}
	if !bytes.Equal(bytes.TrimSpace(members["active"]), []byte("true")) {
		return Info{}, ErrInvalidToken // RFC 7662 §2.2: active is a boolean
	}
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		return Info{}, fmt.Errorf("%w: the introspection response is malformed: %w", ErrUnavailable, err)
	}
	switch {
	case r.TokenType != "" && !strings.EqualFold(r.TokenType, "Bearer"):
		// A refresh token is its client's credential, never a bearer token.
		return Info{}, fmt.Errorf("%w: it is a %q, not an access token", ErrInvalidToken, r.TokenType)
	case len(r.Cnf) > 0 && string(r.Cnf) != "null":
		// DPOP-7.2-a: a sender-constrained token presented as Bearer.
		return Info{}, fmt.Errorf("%w: it is bound to a key (cnf) and cannot be used as a bearer token", ErrInvalidToken)
	case r.Iss != nil && v.issuer != "" && *r.Iss != v.issuer:
		return Info{}, fmt.Errorf("%w: it was issued by another issuer", ErrInvalidToken)
	case v.audience != nil && !slices.ContainsFunc(r.Aud, func(a string) bool { return slices.Contains(v.audience, a) }):
		// BCP-2.3-b: the token's audience must be this resource server.
		return Info{}, fmt.Errorf("%w: its audience (aud) is not this resource server", ErrInvalidToken)
	}
	info := Info{Subject: r.Sub, Username: r.Username, ClientID: r.ClientID}
	if r.Scope != nil {
		info.Scopes = strings.Fields(*r.Scope)
	}
	if r.Iat != nil {
		info.IssuedAt = time.Unix(*r.Iat, 0)
	}
	if r.Exp != nil {
		info.ExpiresAt = time.Unix(*r.Exp, 0)
		if !info.ExpiresAt.After(v.now()) {
			// BCP-2.3-c: an expired token is refused whatever "active" says.
			return Info{}, fmt.Errorf("%w: it has expired", ErrInvalidToken)
		}
	}
	return info, nil
}
