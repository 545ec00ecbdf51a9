-- Gatehouse schema, version 6: tokens and codes are stored in their
-- primary key's B-tree (WITHOUT ROWID) instead of a rowid table plus an
-- index on digest: an insert writes one B-tree fewer, and a lookup by
-- digest reads one fewer. The janitor deletes them by digest through the
-- expires_at index. Columns, constraints and indexes are as before.
CREATE TABLE tokens_v6 (
	digest     BLOB NOT NULL PRIMARY KEY,
	kind       TEXT NOT NULL,
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	user_id    INTEGER REFERENCES users (id),
	grant_id   INTEGER REFERENCES grants (id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL,
	issued_at  INTEGER,
	expires_at INTEGER,
	revoked_at INTEGER,
	parent     BLOB,
	used_at    INTEGER
) WITHOUT ROWID;
INSERT INTO tokens_v6 (digest, kind, app_id, user_id, grant_id, scopes, issued_at, expires_at, revoked_at, parent, used_at)
	SELECT digest, kind, app_id, user_id, grant_id, scopes, issued_at, expires_at, revoked_at, parent, used_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_v6 RENAME TO tokens;
CREATE INDEX tokens_app_id ON tokens (app_id);
CREATE INDEX tokens_grant_id ON tokens (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX tokens_expires_at ON tokens (expires_at);
CREATE INDEX tokens_parent ON tokens (parent) WHERE parent IS NOT NULL;

CREATE TABLE codes_v6 (
	digest       BLOB NOT NULL PRIMARY KEY,
	app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	user_id      INTEGER REFERENCES users (id),
	grant_id     INTEGER REFERENCES grants (id) ON DELETE CASCADE,
	redirect_uri TEXT NOT NULL,
	scopes       TEXT NOT NULL,
	challenge    TEXT NOT NULL,
	created_at   INTEGER,
	expires_at   INTEGER,
	used_at      INTEGER
) WITHOUT ROWID;
INSERT INTO codes_v6 (digest, app_id, user_id, grant_id, redirect_uri, scopes, challenge, created_at, expires_at, used_at)
	SELECT digest, app_id, user_id, grant_id, redirect_uri, scopes, challenge, created_at, expires_at, used_at FROM codes;
DROP TABLE codes;
ALTER TABLE codes_v6 RENAME TO codes;
CREATE INDEX codes_app_id ON codes (app_id);
CREATE INDEX codes_grant_id ON codes (grant_id);
CREATE INDEX codes_expires_at ON codes (expires_at);
