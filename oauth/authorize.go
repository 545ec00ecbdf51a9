package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// PageError is an authorization error that must be shown to the user as a
// page and never sent to a redirect URI: the client or its redirect URI
// could not be trusted (RFC 6749 §4.1.2.1; RFC 9700 §4.11.2).
type PageError struct {
	Message string
}

func (e *PageError) Error() string { return e.Message }

// AuthorizeRequest is a validated authorization request.
type AuthorizeRequest struct {
	App         gatehouse.App
	RedirectURI string
	State       string
	Scopes      []string
	Challenge   string
}

// maxStateLen bounds the state a client may send through us.
const maxStateLen = 2048

// SingleParams turns query or form values into single values: a parameter
// sent twice is an error (OAuth 2.1 §3.1), and an empty one is omitted.
func SingleParams(v url.Values) (map[string]string, []string) {
	out := make(map[string]string, len(v))
	var repeated []string
	for k, vs := range v {
		if len(vs) > 1 {
			repeated = append(repeated, k)
			continue
		}
		if vs[0] != "" {
			out[k] = vs[0]
		}
	}
	slices.Sort(repeated)
	return out, repeated
}

// CheckClient finds the app and the redirect URI of an authorization
// request. Any failure here is a PageError: nothing may be redirected to a
// URI that was not proven to belong to a known client.
func (s *Server) CheckClient(ctx context.Context, p map[string]string, repeated []string) (gatehouse.App, string, error) {
	if slices.Contains(repeated, "client_id") || slices.Contains(repeated, "redirect_uri") {
		return gatehouse.App{}, "", &PageError{"The request names more than one client_id or redirect_uri."}
	}
	clientID := p["client_id"]
	if clientID == "" {
		return gatehouse.App{}, "", &PageError{"The request does not say which app it is for (client_id is missing)."}
	}
	if !plausibleClientID(clientID) {
		return gatehouse.App{}, "", &PageError{"The app that sent you here is not registered."}
	}
	app, err := s.app(ctx, clientID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.App{}, "", &PageError{"The app that sent you here is not registered."}
	}
	if err != nil {
		return gatehouse.App{}, "", fmt.Errorf("authorize: %w", err)
	}
	uri, ok := MatchRedirectURI(app, p["redirect_uri"])
	if !ok {
		if p["redirect_uri"] == "" && len(app.RedirectURIs) == 0 {
			return gatehouse.App{}, "", &PageError{"The app has no redirect URI registered, so it cannot ask users for access."}
		}
		if p["redirect_uri"] == "" {
			return gatehouse.App{}, "", &PageError{"The request has no redirect_uri, and the app has several."}
		}
		return gatehouse.App{}, "", &PageError{"The redirect URI of the request is not registered for this app."}
	}
	if plantsResponseParams(uri) {
		return gatehouse.App{}, "", &PageError{"The redirect URI of this app presets response parameters, so no response can be sent to it safely."}
	}
	return app, uri, nil
}

// CheckAuthorize validates the rest of an authorization request, once the
// client and the redirect URI are known good and the user is authenticated
// (RFC 9700 §4.11.2). A failure is an *Error to redirect to the client.
func (s *Server) CheckAuthorize(app gatehouse.App, redirectURI string, p map[string]string, repeated []string) (AuthorizeRequest, error) {
	req := AuthorizeRequest{App: app, RedirectURI: redirectURI, State: p["state"]}
	if len(repeated) > 0 {
		return req, Errorf(CodeInvalidRequest, "the parameter "+quote(repeated[0])+" is repeated")
	}
	if len(req.State) > maxStateLen {
		req.State = ""
		return req, Errorf(CodeInvalidRequest, "state is too long")
	}
	// RFC 9700 §2.1.2: only the code flow; no implicit, no hybrid.
	if rt := p["response_type"]; rt != "code" {
		return req, Errorf(CodeUnsupportedResponseType, "only response_type=code is supported")
	}
	if !app.AllowsGrant(gatehouse.GrantAuthorizationCode) {
		return req, Errorf(CodeUnauthorizedClient, "the app may not use the authorization code flow")
	}
	if err := checkChallenge(p["code_challenge"], p["code_challenge_method"]); err != nil {
		return req, err
	}
	req.Challenge = p["code_challenge"]
	requested, err := ParseScope(p["scope"])
	if err != nil {
		return req, err
	}
	if req.Scopes, err = grantScopes(requested, app.Scopes, app.DefaultScopes); err != nil {
		return req, err
	}
	return req, nil
}

// checkChallenge requires a PKCE S256 challenge on every request (DESIGN
// invariant 2; RFC 9700 §2.1.1; RFC 7636 §4.3: an omitted method means
// plain, which is refused).
func checkChallenge(challenge, method string) error {
	if challenge == "" {
		return Errorf(CodeInvalidRequest, "code_challenge is required (PKCE with S256)")
	}
	if method != "S256" {
		return Errorf(CodeInvalidRequest, "code_challenge_method must be S256")
	}
	if len(challenge) != 43 || !isBase64URL(challenge) {
		return Errorf(CodeInvalidRequest, "code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
	}
	return nil
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validVerifier checks RFC 7636 §4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return false
		}
	}
	return true
}

// VerifyPKCE reports whether verifier hashes to challenge (RFC 7636 §4.6).
func VerifyPKCE(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// ErrorRedirect is where an authorization error is sent: the redirect URI
// with error, error_description, state and iss (RFC 9207 §2).
func (s *Server) ErrorRedirect(redirectURI, state string, e *Error) string {
	v := url.Values{"error": {e.Code}, "iss": {s.cfg.Issuer}}
	if d := e.SafeDescription(); d != "" {
		v.Set("error_description", d)
	}
	if state != "" {
		v.Set("state", state)
	}
	return AppendParams(redirectURI, v)
}

// NeedsConsent reports whether the user must be asked, and which of the
// requested scopes are new. A remembered consent that covers the request
// skips the page only for an https redirect URI: a loopback or private-use
// URI does not prove the app's identity (RFC 8252 §8.6).
func (s *Server) NeedsConsent(ctx context.Context, userID int64, req AuthorizeRequest) (bool, []string, error) {
	c, err := s.store.GetConsent(ctx, userID, req.App.ID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return true, req.Scopes, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("consent: %w", err)
	}
	var fresh []string
	for _, sc := range req.Scopes {
		if !slices.Contains(c.Scopes, sc) {
			fresh = append(fresh, sc)
		}
	}
	trusted := strings.HasPrefix(req.RedirectURI, "https://")
	return len(fresh) > 0 || !trusted, fresh, nil
}

// Approve records the user's consent, opens a grant, issues a code bound to
// the app, the redirect URI and the PKCE challenge, and returns the success
// redirect with code, state and iss. The three are written in one
// transaction: a failure leaves none of them (DESIGN invariant 10).
func (s *Server) Approve(ctx context.Context, userID int64, req AuthorizeRequest) (string, error) {
	now := s.clock()
	consent, err := s.widenedConsent(ctx, userID, req, now)
	if err != nil {
		return "", err
	}
	code := secret.New(secret.Code)
	_, err = s.store.OpenGrant(ctx,
		gatehouse.Grant{UserID: userID, AppID: req.App.ID, Scopes: req.Scopes, CreatedAt: now},
		gatehouse.Code{
			Digest: s.digest.Digest(code), AppID: req.App.ID, UserID: userID,
			RedirectURI: req.RedirectURI, Scopes: req.Scopes, Challenge: req.Challenge,
			CreatedAt: now, ExpiresAt: now.Add(CodeTTL),
		}, consent)
	if err != nil {
		return "", fmt.Errorf("approve: %w", err)
	}
	v := url.Values{"code": {code}, "iss": {s.cfg.Issuer}}
	if req.State != "" {
		v.Set("state", req.State)
	}
	return AppendParams(req.RedirectURI, v), nil
}

// widenedConsent returns the user's consent for the app widened by the
// request's scopes, or nil when the remembered one covers them already (no
// write on a silent approval).
func (s *Server) widenedConsent(ctx context.Context, userID int64, req AuthorizeRequest, now time.Time) (*gatehouse.Consent, error) {
	c, err := s.store.GetConsent(ctx, userID, req.App.ID)
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return nil, fmt.Errorf("consent: %w", err)
	}
	scopes := slices.Clone(c.Scopes)
	for _, sc := range req.Scopes {
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if err == nil && len(scopes) == len(c.Scopes) {
		return nil, nil
	}
	return &gatehouse.Consent{UserID: userID, AppID: req.App.ID, Scopes: scopes, UpdatedAt: now}, nil
}

// Deny returns the redirect of a user's refusal (RFC 6749 §4.1.2.1).
func (s *Server) Deny(req AuthorizeRequest) string {
	return s.ErrorRedirect(req.RedirectURI, req.State, Errorf(CodeAccessDenied, "the user denied the request"))
}
