// Package sqlite is the SQLite backend of Gatehouse: a gatehouse.Store on the
// pure-Go driver modernc.org/sqlite (no cgo), for single-node deployments and
// for development with an in-memory database.
//
// It persists records and makes each method atomic; every OAuth rule lives in
// the oauth package. The schema is hand-written SQL in numbered migrations
// embedded in the binary (migrations/*.sql).
//
// It imports the root package, dump/ (the export format), the driver and
// the standard library only; never oauth/, httpapi/, another backend, or
// store/storetest outside tests.
package sqlite
