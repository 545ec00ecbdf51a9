// Package web serves Gatehouse's pages: the authorization endpoint with its
// login and consent pages, logout, the connected-apps page
// (/account/apps), the developer portal (/developer/apps: a developer's
// apps and each app's "OAuth & Permissions" page, on the oauth package's
// owner-checked operations only), the error, 404 and 405 pages, the
// brand's logo and stylesheet and, in development, a redirect page that
// shows what an app would receive. Pages are
// html/template files embedded in the binary and parsed once at start-up;
// every page is readable without JavaScript and carries the headers of
// DESIGN invariant 9.
//
// It imports the root package, oauth/, ratelimit/ and the standard library;
// never a storage backend.
package web
