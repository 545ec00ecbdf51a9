package httpapi

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/rawquery"
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
	where := tokenElsewhere(w, r)
	token, ok := bearerToken(r.Header)
	// DESIGN invariant 7: in the URL or a form body, refused whatever else
	// the request carries; in another kind of body, refused beside a header
	// token (O21-5.1-b: one method only) and otherwise simply not accepted.
	if where == inURLOrForm || where == inOtherBody && ok {
		bearerError(w, &oauth.Error{Code: oauth.CodeInvalidRequest, Status: http.StatusBadRequest,
			Description: "send the access token in the Authorization header (Bearer), never in the URL or the body"})
		return
	}
	if !ok {
		// RFC 6750 §3.1: no credentials, no error code.
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		writeJSONError(w, &oauth.Error{Code: oauth.CodeInvalidRequest, Description: "an access token is required in the Authorization header (Bearer)", Status: http.StatusUnauthorized})
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

// Where a request carries an access_token parameter besides the header.
const (
	nowhere = iota
	inURLOrForm
	inOtherBody
)

// tokenElsewhere looks for an access_token parameter in the URL and in the
// body. It reads the raw bytes, not what Go's parsers make of them: they
// drop a malformed pair ("access_token=AT;") or a whole body with one bad
// escape, and a token could hide behind them. An unreadable or oversized
// body could hide one too and counts as a form body.
func tokenElsewhere(w http.ResponseWriter, r *http.Request) int {
	if namesAccessToken(r.URL.RawQuery) {
		return inURLOrForm
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nowhere
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return inURLOrForm
	}
	if !namesAccessToken(string(body)) {
		return nowhere
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method == http.MethodPost && (mt == "application/x-www-form-urlencoded" || mt == "") {
		return inURLOrForm
	}
	return inOtherBody
}

// namesAccessToken reports whether s mentions access_token in any case,
// once its valid percent escapes and '+' are decoded (invalid escapes are
// kept as they are). The endpoint takes no parameters, so nothing
// legitimate is refused.
func namesAccessToken(s string) bool {
	return strings.Contains(strings.ToLower(rawquery.Unescape(s)), "access_token")
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
	switch e.Code {
	case oauth.CodeInvalidRequest, oauth.CodeInvalidToken: // RFC 6750 §3.1's codes
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="`+e.Code+`"`)
	default: // the server failed, not the token
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	}
	writeJSONError(w, e)
}
