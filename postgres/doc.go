// Package postgres is the PostgreSQL backend of Gatehouse: a gatehouse.Store
// on pgx v5 and its connection pool (pgxpool), for deployments that outgrow
// one SQLite file or run several Gatehouse processes on one database.
//
// It persists records and makes each method atomic; every OAuth rule lives in
// the oauth package. The SQL is hand-written; the schema is in numbered
// migrations embedded in the binary (migrations/*.sql), with the tables and
// columns of the SQLite backend under the same names (times as BIGINT unix
// milliseconds, digests as BYTEA, resource_server as BIGINT 0/1), so that
// rows copy between the two table by table.
//
// # Concurrency
//
// Every transaction runs at READ COMMITTED, PostgreSQL's default, where each
// statement sees what committed before it began, and a statement that finds
// a row locked by another transaction waits for it and then re-checks its
// WHERE clause against the row as that transaction left it. The guarantees
// of the contract rest on that and on a few explicit row locks, never on a
// read in Go followed by a write:
//
//   - ConsumeCode is one UPDATE … WHERE used_at IS NULL RETURNING: of many
//     concurrent callers exactly one gets the row. RedeemCode runs it and
//     the inserts of the code's tokens in one transaction: it locks the
//     code, then the grant (FOR SHARE, as CreateToken); a deadlock with
//     another order is retried (40P01, below).
//   - CreateToken into a grant is an INSERT … SELECT that locks the grant
//     FOR SHARE and requires it unrevoked, and RevokeGrant revokes the grant
//     and then, in a second statement (a fresh snapshot), its tokens; so no
//     token lands in a revoked grant, whichever commits first.
//   - RotateRefreshToken locks the grant FOR SHARE, then the old token
//     (UPDATE … WHERE used_at IS NULL, or FOR UPDATE for a retry), then, for
//     a retry, its successors, in that order, which is also RevokeGrant's.
//   - DeleteExpired deletes batches of at most limit rows picked FOR UPDATE
//     SKIP LOCKED, so the janitor never waits for, or deadlocks with, a
//     request.
//
// SERIALIZABLE would give the same guarantees with fewer locks to reason
// about, but by aborting transactions on the hottest paths under load; the
// locks above make conflicts wait instead. Deadlocks remain possible between
// rare writers (DeleteApp against a running exchange, say), and PostgreSQL
// may report a serialization failure: every write transaction (and
// single-statement write) is run again, up to 5 times with a short jittered
// pause, when it fails with SQLSTATE 40001 or 40P01, both of which mean the
// server rolled it back.
//
// Migrate serializes concurrent migrations with a transaction-scoped
// advisory lock, so several processes may start at once.
//
// The generation counter is kept by statement-level triggers, like SQLite's;
// each bump is also sent, with the new value, on the notification channel
// gatehouse_generation (LISTEN gatehouse_generation), for caches that want to
// learn of a change without polling.
//
// # Lost connections
//
// When the server ends a connection (a failover, a restart,
// pg_terminate_backend: SQLSTATE 57P01, 57P02, 57P03, or a broken socket),
// the call that was using it runs once more, on a connection that answers,
// if nothing of it can have been applied: nothing was sent
// (pgconn.SafeToRetry), no connection was made, the call is a read or an
// idempotent write (RevokeToken, TouchCredential), or it is a transaction
// whose COMMIT was not sent yet, which the server rolls back when the
// connection ends. When the connection is lost while COMMIT, or a write in
// autocommit (CreateToken, ConsumeCode, …), was in flight, the write may
// have been applied or not, and a rerun could apply it twice: the call
// fails with an error that says the outcome is unknown (errOutcomeUnknown,
// wrapped in gatehouse.ErrUnavailable, which the server answers with 503),
// and is not rerun. So do a connection lost twice, a database that cannot
// be reached, and a statement or lock timeout. For a second after a lost connection the pool pings
// every connection before handing it out, so that reruns and the next calls
// do not get another dead one.
//
// # Operations
//
// Open takes a PostgreSQL URL or keyword/value DSN, as pgx reads it, and
// applies every setting it has:
//
//   - pool size: pool_max_conns=N (8 by default), to be kept below the
//     server's max_connections divided by the number of processes;
//   - TLS: sslmode=verify-full (with sslrootcert=… for a private CA) to
//     check the server's certificate and name; sslmode=require encrypts but
//     verifies nothing;
//   - statement timeout: options=-c%20statement_timeout=5s (URL) or
//     options='-c statement_timeout=5s' (keyword/value); the store sets none
//     of its own;
//   - schema: search_path=NAME to keep Gatehouse's tables in a schema of
//     their own; migrations create them in the first schema of the path.
//
// Migrations are not run by Open: call Migrate (gatehouse migrate).
//
// It imports the root package, dump/ (the export format), pgx and the
// standard library only; never oauth/, httpapi/, another backend, or
// store/storetest outside tests.
package postgres
