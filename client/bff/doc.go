// Package bff is a backend for frontend (browser-based-apps draft §6.1)
// for single-page apps: login, callback, logout, a session endpoint and
// an API proxy, mounted on the app's own origin, so that access and
// refresh tokens never reach the browser (BBA-6.1-a).
//
//	GET  /bff/login?returnTo=/path   starts the authorization code flow
//	GET  /bff/callback               the redirect URI; starts a session
//	GET  /bff/session                {"authenticated":..,"scopes":[..]} (X-CSRF)
//	POST /bff/logout                 revokes at the server, ends the session (X-CSRF)
//	     /bff/api/{name}/{path...}   proxy to the allow-listed upstream name (X-CSRF)
//
// # Sessions
//
// The BFF is a confidential client (client.ConfidentialApp): PKCE S256,
// a one-time state and the RFC 9207 iss check, as client.AuthCodeURL and
// Exchange do them. The login transaction travels in the
// __Host-gatehouse_bff_login cookie, sealed with the Config's Keys
// (AES-256-GCM; SameSite=Lax, so that it returns with the redirect from
// the server; deleted when used, so a replayed callback is refused), and
// a callback may land on any replica with the same Keys.
//
// A session is a random id in the __Host-gatehouse_bff cookie (Secure,
// HttpOnly, SameSite=Strict, Path=/, no Domain; the __Host- prefix keeps
// sibling subdomains from setting it). The tokens are in the Store under
// client.TokenKey{Issuer, ClientID, Subject: "bff-" + hex SHA-256 of the
// id} — never the id itself — encrypted by the store (client.SQLStore,
// redisstore.Store; client.MemoryStore keeps them in memory). The id
// carries its login time: a session ends SessionLifetime after its login
// however often it is refreshed. Every callback starts a new id, ending a
// session the browser had (no fixation).
//
// # The CSRF rule
//
// /session, /logout and every /api call must carry the header
// "X-CSRF: 1", and when the browser sends Sec-Fetch-Site, it must be
// "same-origin"; http.CrossOriginProtection also compares Origin with
// Host for unsafe methods. A page of another origin cannot add the header
// without a CORS preflight, and the BFF answers no preflight (it sends no
// Access-Control-Allow-Origin), so browsers that send no Sec-Fetch-Site
// are held by the header; non-browser callers (no Sec-Fetch-Site) are
// allowed with the header, since they hold the cookie themselves. Refusals
// are 403 JSON and reach no upstream (BBA-6.1.3.3-a).
//
// # The proxy
//
// The allow-list is Config.Upstreams, name → base URL (https, or http to
// a loopback IP). /bff/api/{name}/{path} goes to base/{path}?query and
// nowhere else: the Host header, an absolute-form request URI or
// X-Forwarded-Host never choose the destination; an unknown name, dot or
// empty segments, encoded slashes, backslashes, dots or percent signs
// are refused (404) before any token is read (BBA-6.1.3.6-a). The
// forwarded request carries the allowed headers only (Config
// .ForwardHeaders adds to them; Cookie, Authorization, X-CSRF, Sec-*,
// Forwarded/X-Forwarded-* and hop-by-hop never pass) and
// "Authorization: Bearer <access token>"; Set-Cookie is removed from the
// answer. Redirects are passed to the browser, never followed with the
// token. When the session is gone or the server refuses its refresh
// token, the answer is 401 {"error":"login_required"}: send the user to
// /bff/login.
//
// # Several replicas
//
// Tokens are refreshed through client.PersistentSource: once per session
// in a process, and once among replicas when the Store is a
// client.Locker (SQLStore, redisstore.Store): the refresh holds the
// store's lock and reloads first, so a replica that waited uses the
// rotated refresh token the other one saved, and rotation never logs a
// user out. MemoryStore has no cross-process lock: use it with one
// replica only.
//
// # Logout
//
// POST /bff/logout revokes the refresh and access tokens at the server
// (RFC 7009, PersistentSource.Logout) and deletes the session whatever the
// server answers; {"revoked":false} says the server could not be reached
// and the tokens live on there until they expire.
//
// The package imports the standard library and client only.
package bff
