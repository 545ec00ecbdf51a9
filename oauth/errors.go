package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Error is an OAuth protocol error (RFC 6749 §5.2). Description is shown to
// the client: it never contains a token, a secret or a code.
type Error struct {
	Code        string
	Description string
	Status      int
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// SafeDescription is Description in the characters RFC 6749 §5.2 allows
// in error_description (%x20-21 / %x23-5B / %x5D-7E): a double quote
// becomes an apostrophe, anything else outside the set '?'. Every writer
// of an error uses it.
func (e *Error) SafeDescription() string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < 0x20 || r > 0x7e || r == '\\':
			return '?'
		}
		return r
	}, e.Description)
}

// RFC 6749 §5.2 and RFC 7009 §2.2.1 error codes.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
	CodeServerError          = "server_error"
	CodeSlowDown             = "slow_down"
	// CodeTemporarilyUnavailable (RFC 6749 §4.1.2.1) also answers, with
	// 503, a token request whose database was unreachable: the client may
	// try again.
	CodeTemporarilyUnavailable = "temporarily_unavailable"
	// RFC 6749 §4.1.2.1 authorization error codes.
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeAccessDenied            = "access_denied"
	// RFC 6750 §3.1.
	CodeInvalidToken = "invalid_token"
)

// statusOf is the one table from protocol error code to HTTP status.
var statusOf = map[string]int{
	CodeInvalidRequest:         http.StatusBadRequest,
	CodeInvalidClient:          http.StatusUnauthorized,
	CodeInvalidGrant:           http.StatusBadRequest,
	CodeUnauthorizedClient:     http.StatusBadRequest,
	CodeUnsupportedGrantType:   http.StatusBadRequest,
	CodeInvalidScope:           http.StatusBadRequest,
	CodeServerError:            http.StatusInternalServerError,
	CodeTemporarilyUnavailable: http.StatusServiceUnavailable,
	CodeInvalidToken:           http.StatusUnauthorized,
}

// Errorf returns a protocol error with the status its code maps to.
func Errorf(code, description string) *Error {
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusBadRequest
	}
	return &Error{Code: code, Description: description, Status: status}
}

// AsError returns err as a protocol error. An error that is not one is an
// unexpected failure and becomes a server_error without detail; the caller
// logs the original.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	if Unavailable(err) {
		return Errorf(CodeTemporarilyUnavailable, "the database is unavailable; try again shortly"), false
	}
	return Errorf(CodeServerError, "the server could not complete the request"), false
}

// Unavailable reports whether err is a failure the client may retry
// later: the store could not reach its database (gatehouse.ErrUnavailable),
// or the request ran out of time waiting for it. Protocol endpoints answer
// it with 503 temporarily_unavailable, pages with a 503 page.
func Unavailable(err error) bool {
	return errors.Is(err, gatehouse.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// ErrInvalidClient is the one answer to every failed client authentication,
// whatever the reason, so that a caller cannot tell an unknown client from a
// wrong secret.
var ErrInvalidClient = Errorf(CodeInvalidClient, "client authentication failed")

// refusal refuses a request for what it asks (bad input, a rule of the
// app's type), in words that may be shown to the person who asked it; it
// wraps the error it says.
type refusal struct{ err error }

func (e *refusal) Error() string { return e.err.Error() }
func (e *refusal) Unwrap() error { return e.err }

func refuse(err error) error {
	if err == nil {
		return nil
	}
	return &refusal{err: err}
}

// Refusal returns a refusal that says msg.
func Refusal(msg string) error { return refuse(errors.New(msg)) }

// Refused reports whether err refuses a request for what it asks (bad
// input, a limit reached) with a message that a page may show to the user
// who asked; any other error is unexpected and is shown without detail.
func Refused(err error) bool {
	var r *refusal
	return !Unavailable(err) && (errors.As(err, &r) || errors.Is(err, gatehouse.ErrLimitReached))
}

// operatorError is an error said in the operator's words, which still
// matches the store error it stands for with errors.Is; the store's own
// text (driver messages, SQL constraint names) is not part of it.
type operatorError struct {
	msg string
	is  error
}

func (e *operatorError) Error() string        { return e.msg }
func (e *operatorError) Is(target error) bool { return target == e.is }

// taken is the error of a create whose name is in use: "scope
// 'reports:read' already exists". It matches gatehouse.ErrAlreadyExists.
func taken(what, name string) error {
	return &operatorError{msg: what + " " + quote(name) + " already exists", is: gatehouse.ErrAlreadyExists}
}
