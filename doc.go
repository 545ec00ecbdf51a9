// Package gatehouse holds the domain of the Gatehouse authorization server:
// apps, credentials, scopes, users, grants, consents, codes and tokens, and the
// Store interface that every storage backend implements, with its error
// contract.
//
// This package imports only the standard library. Backends (sqlite/,
// postgres/), the protocol engine (oauth/) and the transport (httpapi/) import
// it; it imports none of them.
package gatehouse
