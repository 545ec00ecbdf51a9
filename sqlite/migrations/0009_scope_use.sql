-- Gatehouse schema, version 9.
--
-- When each app last used each scope (the last time a token with it was
-- issued to the app), for the review of 'gatehouse audit' ("request
-- minimal scopes"). It is a table of its own, without generation
-- triggers: recording a use must not drop every cache of apps, as a write
-- to app_scopes would. scope references no registered scope on purpose: a
-- row of a deleted scope is harmless, and goes with its app.
CREATE TABLE scope_use (
	app_id       INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	scope        TEXT NOT NULL,
	last_used_at INTEGER NOT NULL,
	PRIMARY KEY (app_id, scope)
) WITHOUT ROWID;

-- Earlier versions recorded no use: every scope an app may request counts
-- as used at the upgrade, so that none is reported unused sooner than the
-- review's policy after it.
INSERT INTO scope_use (app_id, scope, last_used_at)
	SELECT DISTINCT app_id, scope, CAST(unixepoch('subsec') * 1000 AS INTEGER) FROM app_scopes;
