// Package rs is the resource-server half of Gatehouse's client toolkit: an
// http.Handler middleware that lets a request through only with a live
// access token, checked by introspection at the authorization server
// (RFC 7662) with the resource server's own credentials.
//
// What the middleware does, in order:
//
//   - A token in the query string (?access_token=) or in a form body is
//     refused with 400 invalid_request and a description that says where
//     the token belongs, whether or not an Authorization header is there
//     too (DESIGN invariant 7; RFC 6750 §2, §3.1; OAuth 2.1 §5.1). It is
//     never silently ignored, so a client that leaks tokens into URLs
//     learns it at once. (OAuth 2.1 §5.1 says ignore; the project refuses
//     loudly, and either way the token is never accepted: O21-5.1-a.) A
//     form body too large to check (over 10 MiB, net/http's own form
//     limit) is refused with 413.
//   - The token is taken from exactly one "Authorization: Bearer" header
//     (the scheme in any case). With none, the answer is 401 with a
//     "WWW-Authenticate: Bearer realm=..." challenge and no error code
//     (RFC 6750 §3.1); the same for another scheme (Basic, DPoP). Several
//     Authorization headers, or "Bearer" without exactly one token, is 400
//     invalid_request.
//   - The token is introspected with client_secret_basic. Only an answer
//     with "active": true (the JSON boolean) is active; an inactive,
//     unknown, revoked or expired token is 401 invalid_token. Gatehouse
//     answers a resource server active:false for anything but a live
//     access token (DESIGN invariant 12); active is not an audience check
//     (see Audience).
//   - If the server cannot be asked — it is down, it answers an error or
//     something that is not JSON, it refuses the resource server's
//     credentials — the answer is 503 and the error is logged once: a
//     failure is never taken for an active token.
//   - RequireScope refuses a token without every required scope with 403
//     insufficient_scope, naming the scopes in the challenge (RFC 6750
//     §3.1).
//   - The handler reads the token's subject, client and scopes with
//     FromContext.
//
// # Audience
//
// Gatehouse does not bind access tokens to an audience yet: it answers
// active:true to every resource server of the same Gatehouse for any live
// access token, and returns no "aud". Until it does (resource indicators,
// RFC 8707, are planned), a token presented to one API is accepted by
// every API of that Gatehouse: an API must not forward the tokens it
// receives, nor log them, and a compromised API can replay them at the
// others (BCP-2.3-b is not met once there are two APIs). The middleware
// cannot make up for the server here. With a server that does return aud,
// WithAudience makes the Validator refuse a token whose aud does not name
// this resource server.
//
// # Introspection requests
//
// The introspection endpoint must be https, or http to a loopback IP
// literal (client.CheckEndpointURL): New refuses anything else. The
// request never follows a redirect, which would re-post the token and the
// resource server's credentials elsewhere: a 3xx is answered 503.
//
// # Caching and revocation
//
// By default every request is introspected, so a revoked token is refused
// from the next request on. WithCache keeps active results for at most
// maxAge, and never past the token's expiry (RFC 7662 §4): maxAge is then
// the longest a revoked token may still be accepted. Inactive results are
// not cached: a token string never becomes active later, but made-up
// tokens would evict real ones, and Gatehouse throttles such probes
// itself. Entries are keyed by the SHA-256 of the token, never the token.
//
// The token is never logged and is never part of an error.
//
// Only form-urlencoded bodies (and bodies without a Content-Type) are
// looked into, the body method of RFC 6750 §2.2; the handler reads the
// body as it came. A JSON or multipart body is the handler's own: a
// token there is not a credential and is not accepted (O21-5.1-b).
//
// rs imports the standard library and the client package only, never the
// server's packages: it knows Gatehouse by the protocol alone.
package rs
