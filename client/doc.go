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
//   - a native app's login through the system browser, never a web view
//     (LoginNative: a one-shot listener on a random 127.0.0.1 port, RFC
//     8252), and the device flow where no browser can open (LoginDevice,
//     RFC 8628); Login tries the first and falls back to the second;
//   - tokens encrypted at rest behind one TokenStore (an encrypted file, the
//     OS keyring, a SQL table; see TokenStore), and a token source that persists a rotated
//     refresh token before it hands out the new access token, refreshes
//     once for many callers, and takes a context;
//   - a transport that sends the token only in the Authorization header
//     and never across origins;
//   - Logout, which revokes at the server (RFC 7009) and always forgets
//     locally.
//
// The pieces, in the order an app meets them: Discover returns the
// Provider; a PublicApp or ConfidentialApp names the app; a web backend
// serves NewWebFlow's Login and Callback handlers, a native or
// command-line app calls Login (or AuthCodeURL and Exchange itself, for a
// private-use scheme redirect); the Session's token goes into a
// TokenStore, and the app's TokenSource (a PersistentSource) hands out
// fresh access tokens to NewClient or a Transport; PersistentSource.Logout
// ends it. Every failure a caller may act on is a sentinel (errors.Is:
// ErrLoginRequired, ErrState, ErrResponseIssuer, ErrAccessDenied,
// ErrNoBrowser, ...) or a typed error
// (errors.As: *AuthError, *RevocationError).
//
// The package imports the standard library and golang.org/x/oauth2 only;
// it knows the Gatehouse server by its protocol, never by its code.
package client
