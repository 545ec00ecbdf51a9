-- Gatehouse schema, version 11: the device authorization grant (RFC 8628).
--
-- A device code is kept by its keyed digest, and so is its user code
-- (normalized), which is unique while the row lives. interval_ms is the
-- polling interval the app must keep; polled_at its last poll. A decision
-- sets user_id and decided_at, and an approval grant_id too. The janitor
-- deletes rows past expires_at, and their grants with them when nothing
-- else refers to those.
CREATE TABLE device_codes (
	digest      BLOB PRIMARY KEY,
	user_code   BLOB NOT NULL UNIQUE,
	app_id      INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	scopes      TEXT NOT NULL,
	created_at  INTEGER,
	expires_at  INTEGER,
	interval_ms INTEGER NOT NULL,
	polled_at   INTEGER,
	user_id     INTEGER REFERENCES users (id),
	decided_at  INTEGER,
	grant_id    INTEGER REFERENCES grants (id) ON DELETE CASCADE,
	used_at     INTEGER
);
CREATE INDEX device_codes_app_id ON device_codes (app_id);
CREATE INDEX device_codes_grant_id ON device_codes (grant_id);
CREATE INDEX device_codes_expires_at ON device_codes (expires_at);
