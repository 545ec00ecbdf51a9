-- Gatehouse schema, version 4: attempt buckets of the login limits, shared
-- by every process on the database. digest is the HMAC of the limit's key
-- (never a username or an address in the clear); expires_at is the bucket's
-- theoretical arrival time, in unix milliseconds: the bucket is full again,
-- and the row can go, at that time. It keeps its rowid: the janitor deletes
-- buckets by rowid in bounded batches, as it does tokens.
CREATE TABLE attempts (
	digest     BLOB PRIMARY KEY,
	expires_at INTEGER NOT NULL
);
CREATE INDEX attempts_expires_at ON attempts (expires_at);
