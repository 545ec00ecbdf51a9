-- Gatehouse schema, version 4: attempt buckets of the login limits, shared
-- by every instance on the database. digest is the HMAC of the limit's key
-- (never a username or an address in the clear); expires_at is the bucket's
-- theoretical arrival time, in unix milliseconds: the bucket is full again,
-- and the row can go, at that time.
CREATE TABLE attempts (
	digest     BYTEA PRIMARY KEY,
	expires_at BIGINT NOT NULL
);
CREATE INDEX attempts_expires_at ON attempts (expires_at);
