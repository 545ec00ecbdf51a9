-- Gatehouse schema, version 1. Times are INTEGER unix milliseconds, NULL for
-- the zero time. Lists that are queried are child rows with a position that
-- keeps their order; scopes of grants, consents, codes and tokens are one
-- space-joined TEXT value (RFC 6749 §3.3: a scope token has no space).
-- Deleting an app cascades to everything that belongs to it.

CREATE TABLE scopes (
	name        TEXT PRIMARY KEY,
	description TEXT NOT NULL,
	created_at  INTEGER
);

-- AUTOINCREMENT: the ID of a deleted app, user, grant or credential is never
-- given to another one.
CREATE TABLE apps (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	client_id       TEXT NOT NULL UNIQUE,
	name            TEXT NOT NULL,
	type            TEXT NOT NULL,
	resource_server INTEGER NOT NULL,
	created_at      INTEGER
);

CREATE TABLE app_redirect_uris (
	app_id   INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	uri      TEXT NOT NULL,
	PRIMARY KEY (app_id, position)
) WITHOUT ROWID;

CREATE TABLE app_scopes (
	app_id   INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	scope    TEXT NOT NULL REFERENCES scopes (name),
	PRIMARY KEY (app_id, position)
) WITHOUT ROWID;
CREATE INDEX app_scopes_scope ON app_scopes (scope);

CREATE TABLE app_default_scopes (
	app_id   INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	scope    TEXT NOT NULL REFERENCES scopes (name),
	PRIMARY KEY (app_id, position)
) WITHOUT ROWID;
CREATE INDEX app_default_scopes_scope ON app_default_scopes (scope);

CREATE TABLE app_grants (
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	position   INTEGER NOT NULL,
	grant_type TEXT NOT NULL,
	PRIMARY KEY (app_id, position)
) WITHOUT ROWID;

CREATE TABLE credentials (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	digest       BLOB NOT NULL UNIQUE,
	hint         TEXT NOT NULL,
	created_at   INTEGER,
	expires_at   INTEGER,
	last_used_at INTEGER
);
CREATE INDEX credentials_app_id ON credentials (app_id);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	username      TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    INTEGER
);

CREATE TABLE grants (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL,
	created_at INTEGER,
	revoked_at INTEGER
);
CREATE INDEX grants_app_id ON grants (app_id);
CREATE INDEX grants_user_id ON grants (user_id);

CREATE TABLE consents (
	user_id    INTEGER NOT NULL REFERENCES users (id),
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL,
	updated_at INTEGER,
	PRIMARY KEY (user_id, app_id)
) WITHOUT ROWID;
CREATE INDEX consents_app_id ON consents (app_id);

-- user_id and grant_id are NULL where the Go value is 0. Codes and tokens
-- keep their rowid: the janitor deletes them by rowid in bounded batches.
CREATE TABLE codes (
	digest       BLOB PRIMARY KEY,
	app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	user_id      INTEGER REFERENCES users (id),
	grant_id     INTEGER REFERENCES grants (id) ON DELETE CASCADE,
	redirect_uri TEXT NOT NULL,
	scopes       TEXT NOT NULL,
	challenge    TEXT NOT NULL,
	created_at   INTEGER,
	expires_at   INTEGER,
	used_at      INTEGER
);
CREATE INDEX codes_app_id ON codes (app_id);
CREATE INDEX codes_grant_id ON codes (grant_id);
CREATE INDEX codes_expires_at ON codes (expires_at);

CREATE TABLE tokens (
	digest     BLOB PRIMARY KEY,
	kind       TEXT NOT NULL,
	app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	user_id    INTEGER REFERENCES users (id),
	grant_id   INTEGER REFERENCES grants (id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL,
	issued_at  INTEGER,
	expires_at INTEGER,
	revoked_at INTEGER
);
CREATE INDEX tokens_app_id ON tokens (app_id);
CREATE INDEX tokens_grant_id ON tokens (grant_id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);
