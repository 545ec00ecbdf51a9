package rs

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/rawquery"
)

// maxFormBytes is the largest form body checked for a token: net/http's
// own limit for ParseForm, so every form the handler could read has been
// looked into. A larger form body is refused.
const maxFormBytes = 10 << 20

// tokenElsewhere returns the status and description with which r is
// refused because it carries an access_token parameter in its query
// string or form body, or 0. It reads the raw bytes, not what Go's parsers
// make of them: they drop a malformed pair ("access_token=AT;") or a whole
// body with one bad escape, and a token could hide behind them. The body
// is put back for the handler as it came.
func tokenElsewhere(r *http.Request) (int, string) {
	if namesAccessToken(r.URL.RawQuery) {
		return http.StatusBadRequest, "send the access token in the Authorization header (Bearer), never in the URL"
	}
	if r.Body == nil || r.Body == http.NoBody {
		return 0, ""
	}
	// RFC 6750 §2.2: the body method is a form-urlencoded body. A body
	// without a Content-Type is looked into too (a client that forgot it);
	// any other body is the handler's.
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct) // as ParseForm: a bad parameter still names the type
	form := mt == "application/x-www-form-urlencoded"
	if !form && ct != "" {
		return 0, ""
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	switch {
	case err != nil:
		return http.StatusBadRequest, "the request body could not be read to check that it holds no access token"
	case len(body) > maxFormBytes && form:
		return http.StatusRequestEntityTooLarge, "the form body is too large to be checked for an access token"
	case len(body) > maxFormBytes:
		return 0, "" // no Content-Type and large: not a form anyone reads
	case namesAccessToken(string(body)):
		return http.StatusBadRequest, "send the access token in the Authorization header (Bearer), never in the request body"
	}
	return 0, ""
}

// namesAccessToken reports whether the form-urlencoded s has a parameter
// whose name, once its valid percent escapes and '+' are decoded (invalid
// escapes kept as they are) and in any case, contains access_token. Pairs
// are split at '&' and at ';', which older parsers took as a separator.
func namesAccessToken(s string) bool {
	if !strings.Contains(strings.ToLower(rawquery.Unescape(s)), "access_token") {
		return false // fast path: not mentioned at all
	}
	for _, pair := range strings.FieldsFunc(s, func(r rune) bool { return r == '&' || r == ';' }) {
		name, _, _ := strings.Cut(pair, "=")
		if strings.Contains(strings.ToLower(rawquery.Unescape(name)), "access_token") {
			return true
		}
	}
	return false
}
