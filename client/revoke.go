package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ErrNoRevocation: the server's metadata names no revocation endpoint, so
// the tokens could not be revoked there (they were still deleted here).
var ErrNoRevocation = errors.New("client: the server has no revocation endpoint")

// RevocationError is a revocation endpoint's refusal (RFC 7009 §2.2.1).
// It never holds the token.
type RevocationError struct {
	Hint   string // which token: refresh_token or access_token
	Status int    // the HTTP status
	Code   string // the RFC 6749 error code, when the body had one
}

// Error names the token kind and the answer, never the token.
func (e *RevocationError) Error() string {
	s := fmt.Sprintf("client: revoking the %s failed: the server answered %d", strings.ReplaceAll(e.Hint, "_", " "), e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	return s
}

// revoke revokes token at the revocation endpoint (RFC 7009 §2.1), with
// the client authentication of the token endpoint.
func (c *core) revoke(ctx context.Context, token, hint string) error {
	if c.p.RevocationEndpoint == "" {
		return ErrNoRevocation
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if !c.confidential {
		form.Set("client_id", c.clientID) // RFC 7009 §2.1, RFC 6749 §2.3
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.p.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("client: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.confidential {
		// RFC 6749 §2.3.1: client_secret_basic, form-encoded first.
		req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.secret.reveal()))
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("client: revoke the %s: %w", strings.ReplaceAll(hint, "_", " "), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body)
	return &RevocationError{Hint: hint, Status: resp.StatusCode, Code: body.Error}
}
