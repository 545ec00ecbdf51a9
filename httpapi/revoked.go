package httpapi

import (
	"io"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/rawquery"
	"github.com/gatehouse/gatehouse/oauth"
)

// RevokedAccessTokensPath is the revoked-access-tokens API: the bearer of
// an access token revokes it, for an app that knows exactly one of its
// tokens leaked (the checklist's "revoke access token API"). The metadata
// document names it gatehouse_revoked_access_tokens_endpoint.
const RevokedAccessTokensPath = oauth.RevokedAccessTokensPath

// revokedAccessTokens revokes the access token of the Authorization
// header, and only that token (DESIGN's cascade: "Access token revoked").
// The token is accepted only in the header (DESIGN invariant 7): a request
// that names a token in its URL or carries one in its body is refused with
// invalid_request, and nothing is revoked, even beside a valid header.
func (a *API) revokedAccessTokens(w http.ResponseWriter, r *http.Request) {
	if tokenInURLOrBody(w, r) {
		bearerError(w, &oauth.Error{Code: oauth.CodeInvalidRequest, Status: http.StatusBadRequest,
			Description: "send the access token to revoke in the Authorization header (Bearer), never in the URL or the body; nothing was revoked"})
		return
	}
	token, ok := bearerToken(r.Header)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		writeJSONError(w, &oauth.Error{Code: oauth.CodeInvalidRequest, Status: http.StatusUnauthorized,
			Description: "the access token to revoke is required in the Authorization header (Bearer)"})
		return
	}
	if err := a.OAuth.RevokeOwnToken(r.Context(), token); err != nil {
		e, known := oauth.AsError(err)
		if !known {
			a.Log.ErrorContext(r.Context(), "revoke own access token", "err", err)
		}
		bearerError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}

// tokenInURLOrBody reports whether the request names a token in its query
// string or its body, read raw and leniently unescaped as for /whoami.
// The endpoint takes no parameters, so nothing legitimate is refused; an
// unreadable or oversized body could hide one and counts.
func tokenInURLOrBody(w http.ResponseWriter, r *http.Request) bool {
	if namesToken(r.URL.RawQuery) {
		return true
	}
	if r.Body == nil || r.Body == http.NoBody {
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	return err != nil || namesToken(string(body)) || strings.Contains(string(body), "gth_")
}

// namesToken reports whether s mentions a token parameter (token,
// access_token) in any case, or holds something shaped like a Gatehouse
// token.
func namesToken(s string) bool {
	u := strings.ToLower(rawquery.Unescape(s))
	return strings.Contains(u, "token") || strings.Contains(u, "gth_")
}
