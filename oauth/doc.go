// Package oauth is Gatehouse's protocol engine: client authentication, the
// token endpoint pipeline and its grant handlers, scope rules, introspection
// (RFC 7662), revocation (RFC 7009), metadata (RFC 8414) and the rules of app
// registration. Every OAuth rule lives here once, so that no storage backend
// and no transport can forget one.
//
// It imports the root package, secret/ and the standard library (plus
// golang.org/x/crypto for argon2id); never a backend or the HTTP transport.
package oauth
