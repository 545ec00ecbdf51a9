// Package httpapi is Gatehouse's HTTP transport for the protocol endpoints:
// the token endpoint, introspection, revocation, metadata, health and
// metrics, with the middleware every request passes (request ids, access
// logs without secrets, panic recovery, metrics) and the rate limiter of
// failed client authentication.
//
// It parses and writes HTTP and leaves every OAuth rule to the oauth
// package. It imports the root package, oauth/, secret/, the standard library
// and the Prometheus client; never a storage backend.
package httpapi
