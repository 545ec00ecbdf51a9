// Package client is Gatehouse's OAuth 2.0 client toolkit: the checklist's
// rules for apps made the only easy path. It builds on golang.org/x/oauth2
// and reads like it, and adds what its users have long asked for:
//
//   - configuration from the server's metadata (RFC 8414), refusing a
//     document whose issuer is not the one asked for (Discover);
//   - two kinds of app: a PublicApp has no secret at all, a
//     ConfidentialApp takes its Secret from the environment or a private
//     file, never from a literal, and the Secret never prints itself;
//   - the authorization code flow with PKCE S256 always, a one-time state
//     bound to the user agent, and the RFC 9207 iss check before any code
//     is redeemed;
//   - tokens encrypted at rest behind one TokenStore (an encrypted file, the
//     OS keyring, a SQL table; see TokenStore), and a token source that persists a rotated
//     refresh token before it hands out the new access token, refreshes
//     once for many callers, and takes a context;
//   - a transport that sends the token only in the Authorization header
//     and never across origins;
//   - Logout, which revokes at the server (RFC 7009) and always forgets
//     locally.
package client
