package httpapi

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/oauth"
)

// whoami is a small protected resource of the server's own: it tells the
// bearer of an access token whose token it is. The token is accepted only
// in the Authorization header (DESIGN invariant 7); a token in the query
// string or a form body is refused with invalid_request, never ignored
// silently (RFC 6750 §2, §3.1).
func (a *API) whoami(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed("GET, POST")(w, r)
		return
	}
	if tokenOutsideHeader(w, r) {
		bearerError(w, &oauth.Error{Code: oauth.CodeInvalidRequest, Status: http.StatusBadRequest,
			Description: "send the access token in the Authorization header (Bearer), never in the URL or the body"})
		return
	}
	token, ok := bearerToken(r.Header)
	if !ok {
		// RFC 6750 §3.1: no credentials, no error code.
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		writeJSONError(w, &oauth.Error{Code: oauth.CodeInvalidRequest, Description: "an access token is required", Status: http.StatusUnauthorized})
		return
	}
	info, err := a.OAuth.Bearer(r.Context(), token)
	if err != nil {
		e, known := oauth.AsError(err)
		if !known {
			a.Log.ErrorContext(r.Context(), "whoami", "err", err)
		}
		bearerError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Sub      string `json:"sub,omitempty"`
		Username string `json:"username,omitempty"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}{info.Sub, info.Username, info.ClientID, info.Scope})
}

// tokenOutsideHeader reports an access_token parameter in the URL or in a
// form body.
func tokenOutsideHeader(w http.ResponseWriter, r *http.Request) bool {
	if _, ok := r.URL.Query()["access_token"]; ok {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost || mt != "application/x-www-form-urlencoded" {
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return true // an unreadable or oversized body could hide a token: refuse it
	}
	v, err := url.ParseQuery(string(body))
	_, ok := v["access_token"]
	return err == nil && ok
}

// bearerToken extracts an RFC 6750 §2.1 credential; the scheme is
// case-insensitive.
func bearerToken(h http.Header) (string, bool) {
	vals := h.Values("Authorization")
	if len(vals) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

func bearerError(w http.ResponseWriter, e *oauth.Error) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="`+e.Code+`"`)
	writeJSONError(w, e)
}
