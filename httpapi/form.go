package httpapi

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/oauth"
)

// maxFormBytes caps a protocol request body; no valid request comes close.
const maxFormBytes = 16 << 10

// Form holds the parameters of a protocol request, each given at most once.
// A parameter sent with an empty value counts as omitted (OAuth 2.1 §3.1).
type Form map[string]string

// ParseForm reads a POST form body strictly: parameters only in an
// application/x-www-form-urlencoded body (never in the URL, so that no
// credential travels in a request line: OAuth 2.1 §3.2), no repeated
// parameter (OAuth 2.1 §3.1), and a bounded size.
func ParseForm(w http.ResponseWriter, r *http.Request) (Form, error) {
	if r.URL.RawQuery != "" {
		return nil, oauth.Errorf(oauth.CodeInvalidRequest, "parameters must be sent in the request body, not in the URL")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, oauth.Errorf(oauth.CodeInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &oauth.Error{Code: oauth.CodeInvalidRequest, Description: "the request body is too large", Status: http.StatusRequestEntityTooLarge}
	}
	if err != nil {
		return nil, oauth.Errorf(oauth.CodeInvalidRequest, "the request body could not be read")
	}
	return parseFormBody(string(body))
}

func parseFormBody(body string) (Form, error) {
	values, err := url.ParseQuery(body)
	if err != nil {
		return nil, oauth.Errorf(oauth.CodeInvalidRequest, "the request body is not a valid form")
	}
	f := make(Form, len(values))
	for k, vs := range values {
		if len(vs) > 1 {
			return nil, oauth.Errorf(oauth.CodeInvalidRequest, "the parameter "+safeName(k)+" is repeated")
		}
		if vs[0] != "" {
			f[k] = vs[0]
		}
	}
	return f, nil
}

// safeName quotes a parameter name for an error description, cut short and
// with anything outside printable ASCII replaced.
func safeName(k string) string {
	if len(k) > 40 {
		k = k[:40]
	}
	return "'" + strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, k) + "'"
}

// ParseBasicAuth decodes an RFC 7617 Basic credential whose user and
// password are form-urlencoded before base64 (RFC 6749 §2.3.1).
func ParseBasicAuth(header string) (clientID, secret string, err error) {
	const prefix = "basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", "", errors.New("not a Basic credential")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(header[len(prefix):]))
	if err != nil {
		return "", "", errors.New("the Basic credential is not valid base64")
	}
	id, sec, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errors.New("the Basic credential has no ':'")
	}
	if clientID, err = url.QueryUnescape(id); err != nil {
		return "", "", errors.New("the Basic user is not form-urlencoded")
	}
	if secret, err = url.QueryUnescape(sec); err != nil {
		return "", "", errors.New("the Basic password is not form-urlencoded")
	}
	if clientID == "" {
		return "", "", errors.New("the Basic credential has no client_id")
	}
	return clientID, secret, nil
}

// clientAuth finds the client authentication of a request: Basic, or
// client_id and client_secret in the body, or client_id alone for a public
// app. More than one method is refused (OAuth 2.1 §2.4).
func clientAuth(r *http.Request, f Form) (oauth.ClientAuth, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if sec, ok := f["client_secret"]; ok {
			return oauth.ClientAuth{Method: oauth.AuthPost, ClientID: f["client_id"], Secret: sec}, nil
		}
		return oauth.ClientAuth{Method: oauth.AuthNone, ClientID: f["client_id"]}, nil
	}
	if len(r.Header.Values("Authorization")) > 1 {
		return oauth.ClientAuth{}, oauth.Errorf(oauth.CodeInvalidRequest, "more than one Authorization header")
	}
	id, sec, err := ParseBasicAuth(h)
	if err != nil {
		return oauth.ClientAuth{}, &oauth.AuthFailure{Reason: err.Error()}
	}
	if _, ok := f["client_secret"]; ok {
		return oauth.ClientAuth{}, oauth.Errorf(oauth.CodeInvalidRequest, "use one client authentication method, not Basic and client_secret together")
	}
	if bodyID, ok := f["client_id"]; ok && bodyID != id {
		return oauth.ClientAuth{}, oauth.Errorf(oauth.CodeInvalidRequest, "client_id in the body differs from the Basic credential")
	}
	return oauth.ClientAuth{Method: oauth.AuthBasic, ClientID: id, Secret: sec}, nil
}
