-- Gatehouse schema, version 7.
--
-- Devices: browsers that signed in successfully before (device cookies, a
-- defence against account lockout). digest is the keyed digest of the
-- cookie, never the cookie; the janitor deletes a device once it expires.
CREATE TABLE devices (
	digest     BLOB NOT NULL PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	created_at INTEGER,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX devices_user_id ON devices (user_id);
CREATE INDEX devices_expires_at ON devices (expires_at);

-- Audit events are deleted past a retention, oldest first, by time.
CREATE INDEX events_at ON events (at);

-- Grants go with their last code or token (the janitor deletes them then).
-- The grants whose codes and tokens earlier versions swept go now.
DELETE FROM grants WHERE
	NOT EXISTS (SELECT 1 FROM tokens WHERE tokens.grant_id = grants.id) AND
	NOT EXISTS (SELECT 1 FROM codes WHERE codes.grant_id = grants.id);
