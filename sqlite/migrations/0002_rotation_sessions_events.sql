-- Gatehouse schema, version 2: refresh token rotation, login sessions and the
-- audit log. Times are INTEGER unix milliseconds, NULL for the zero time.

-- parent is the digest of the refresh token whose exchange issued the token,
-- NULL otherwise; used_at is when a refresh token was exchanged. parent is no
-- foreign key: the janitor deletes an expired parent while its successors
-- live on.
ALTER TABLE tokens ADD COLUMN parent BLOB;
ALTER TABLE tokens ADD COLUMN used_at INTEGER;
CREATE INDEX tokens_parent ON tokens (parent);

-- Sessions keep their rowid: the janitor deletes them by rowid in bounded
-- batches, as it does codes and tokens.
CREATE TABLE sessions (
	digest     BLOB PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER,
	expires_at INTEGER
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- The audit log has no foreign keys on purpose: an event outlives the app,
-- user and grant it mentions. app_id, user_id and grant_id are NULL where the
-- Go value is 0. AUTOINCREMENT: IDs only grow, so ORDER BY id is the order of
-- recording.
CREATE TABLE events (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	kind     TEXT NOT NULL,
	at       INTEGER,
	app_id   INTEGER,
	user_id  INTEGER,
	grant_id INTEGER,
	detail   TEXT NOT NULL
);
