package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBody caps what is read of a response; no valid answer comes close.
const maxBody = 64 << 10

// answer is a response, read whole so that its connection is reused.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send performs req and reads the whole answer. The error names the
// request by method and path only: a query or a body may hold a token.
func send(c *http.Client, req *http.Request) (answer, error) {
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return answer{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// postForm sends a form to url, with an Authorization header unless auth
// is empty.
func postForm(ctx context.Context, c *http.Client, url, auth, form string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(form))
	if err != nil {
		return answer{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return send(c, req)
}

// expectStatus checks the status of a; the error carries the RFC 6749 error
// code of the body, if any, and nothing else of it.
func expectStatus(a answer, want int, what string) error {
	if a.status == want {
		return nil
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(a.body, &e) == nil && e.Error != "" && len(e.Error) <= 40 {
		return fmt.Errorf("%s: status %d (%s), want %d", what, a.status, e.Error, want)
	}
	return fmt.Errorf("%s: status %d, want %d", what, a.status, want)
}

// decodeJSON checks that a is a 200 JSON answer and decodes it into v.
func decodeJSON(a answer, what string, v any) error {
	if err := expectStatus(a, http.StatusOK, what); err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(a.header.Get("Content-Type")); err != nil || mt != "application/json" {
		return fmt.Errorf("%s: content type %q, want application/json", what, a.header.Get("Content-Type"))
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("%s: the body is not the expected JSON object", what)
	}
	return nil
}

// tokenBody is an RFC 6749 §5.1 token response.
type tokenBody struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// checkToken checks a token response: an access token of type Bearer with a
// lifetime and, when wantRefresh, a refresh token.
func checkToken(a answer, what string, wantRefresh bool) (tokenBody, error) {
	var t tokenBody
	if err := decodeJSON(a, what, &t); err != nil {
		return t, err
	}
	switch {
	case t.AccessToken == "":
		return t, fmt.Errorf("%s: no access_token", what)
	case !strings.EqualFold(t.TokenType, "Bearer"):
		return t, fmt.Errorf("%s: token_type %q, want Bearer", what, t.TokenType)
	case t.ExpiresIn <= 0:
		return t, fmt.Errorf("%s: expires_in %d, want > 0", what, t.ExpiresIn)
	case wantRefresh && t.RefreshToken == "":
		return t, fmt.Errorf("%s: no refresh_token", what)
	}
	return t, nil
}

// checkActive checks an RFC 7662 answer: "active" is a boolean, equal to
// *want unless want is nil.
func checkActive(a answer, want *bool) error {
	var v struct {
		Active *bool `json:"active"`
	}
	if err := decodeJSON(a, "introspect", &v); err != nil {
		return err
	}
	if v.Active == nil {
		return errors.New("introspect: no active member")
	}
	if want != nil && *v.Active != *want {
		return fmt.Errorf("introspect: active is %t, want %t", *v.Active, *want)
	}
	return nil
}

// checkRedirect checks an authorization response (RFC 6749 §4.1.2): a 302
// to the redirect URI with a code and the request's state, and returns the
// code.
func checkRedirect(a answer, redirectURI, state string) (string, error) {
	if err := expectStatus(a, http.StatusFound, "authorize"); err != nil {
		return "", err
	}
	loc, err := url.Parse(a.header.Get("Location"))
	if err != nil {
		return "", errors.New("authorize: the Location header is not a URL")
	}
	q := loc.Query()
	loc.RawQuery = ""
	switch {
	case loc.String() != redirectURI:
		return "", errors.New("authorize: redirected somewhere else than the redirect URI")
	case q.Get("error") != "":
		return "", fmt.Errorf("authorize: error %q", q.Get("error"))
	case q.Get("state") != state:
		return "", errors.New("authorize: the state came back changed")
	case q.Get("code") == "":
		return "", errors.New("authorize: no code")
	}
	return q.Get("code"), nil
}
