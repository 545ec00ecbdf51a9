package client

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Secret is a confidential app's client secret. It can be made only from
// the environment or a private file, never from a string literal, and it
// never shows itself: String, GoString, every fmt verb, JSON and slog print
// "[redacted]". The zero Secret is empty.
//
// The value is kept behind a pointer, so that fmt's reflection over a
// struct that holds a Secret in an unexported field (where its methods
// cannot be called) prints an address, never the secret.
type Secret struct {
	value *string
}

const redacted = "[redacted]"

// SecretFromEnv reads the secret from the environment variable name. An
// unset or empty variable is an error that names the variable, never a
// value.
func SecretFromEnv(name string) (Secret, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return Secret{}, fmt.Errorf("client: the environment variable %s holding the client secret is unset or empty", name)
	}
	return Secret{value: &v}, nil
}

// SecretFromFile reads the secret from a file that only its owner, this
// user, may read: a file readable by its group or by others is refused
// (chmod 600 it), as are an empty one, a symbolic link and a file another
// user owns (on Unix). Surrounding white space (a final newline) is
// dropped.
func SecretFromFile(path string) (Secret, error) {
	b, err := readPrivateFile(path, "client secret", 4096)
	if err != nil {
		return Secret{}, err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return Secret{}, fmt.Errorf("client: the client secret file %s is empty", path)
	}
	return Secret{value: &v}, nil
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == nil || *s.value == "" }

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb and flag.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON writes "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText writes "[redacted]" (encoding.TextMarshaler, used by slog's
// text handler and others).
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue makes slog print "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// BasicAuth authenticates req as the confidential app clientID with this
// secret, by client_secret_basic: both are form-urlencoded before they are
// joined and base64-encoded (RFC 6749 §2.3.1), so a secret with ':', '%'
// or '+' arrives intact. It is how packages of the toolkit (client/rs) call
// the server's endpoints without ever holding the secret as a string.
func (s Secret) BasicAuth(req *http.Request, clientID string) {
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(s.reveal()))
}

// reveal returns the secret itself, for the token endpoint and BasicAuth
// only.
func (s Secret) reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}
