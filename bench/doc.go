// Package bench measures Gatehouse over loopback HTTP against a ceiling, as
// issue 4 asks: a load generator that keeps N keep-alive connections busy
// for a fixed time and checks every response, a latency histogram precise
// enough for p50 and p99, the scenarios (client credentials, introspection
// of a valid and of a revoked token, refresh rotation, the authorization
// code flow, revocation), the ceiling handler (the same request shapes with
// no storage and no token crypto), CPU pinning, and what procfs says about
// the child processes (peak RSS, CPU time, allowed CPUs).
//
// cmd/gatehouse wires it into 'gatehouse bench': it seeds the database
// through oauth.Server, starts the server and the ceiling as child
// processes, runs a Suite and prints its Report.
//
// It imports the standard library and golang.org/x/sys, and may import the
// root package, oauth/ and secret/; never a storage backend, the transport
// (httpapi/, web/) or cmd/. The server is driven over HTTP only, like any
// client would.
package bench
