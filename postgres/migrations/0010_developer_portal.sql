-- Gatehouse schema, version 10, as SQLite's version 10: the developer
-- portal.
--
-- users.developer marks a user who may use the developer portal (0 or 1).
-- apps.owner_id is the user who owns the app there; NULL: none. Deleting
-- the user leaves the app without an owner (ON DELETE SET NULL, an UPDATE
-- of apps, so the statement trigger apps_gen of 0003 bumps the
-- generation). The profile columns are shown on the consent page; '' is
-- none.
ALTER TABLE users ADD COLUMN developer BIGINT NOT NULL DEFAULT 0 CHECK (developer IN (0, 1));
ALTER TABLE apps ADD COLUMN owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE apps ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN homepage_url TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN privacy_url TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN terms_url TEXT NOT NULL DEFAULT '';
-- The portal lists a developer's apps, and deleting a user looks for the
-- apps to set free.
CREATE INDEX apps_owner_id ON apps (owner_id);
