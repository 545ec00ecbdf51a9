// Package pgtest gives tests a PostgreSQL schema of their own: DSN creates a
// fresh, empty schema on the test server and returns a DSN whose connections
// use it, and drops it when the test ends, so that test packages running in
// parallel never see each other's rows.
//
// The server is GATEHOUSE_TEST_POSTGRES, by default DefaultServer. When it
// does not answer, the test is skipped, or fails when CI=true.
//
// It imports the postgres backend, pgx and the standard library; only tests
// import it.
package pgtest
