-- Gatehouse schema, version 8: named credentials and a richer audit log.
--
-- A credential has a name (an operator's label; credentials made before
-- this version are 'initial'), and expiry_noted_at records when the
-- janitor saw it pass its expiry and audited that (NULL: not yet), so
-- that exactly one process records each expiry. expiry_noted_at is not in
-- the generation trigger's columns: noting an expiry changes nothing a
-- cache holds.
ALTER TABLE credentials ADD COLUMN name TEXT NOT NULL DEFAULT 'initial';
ALTER TABLE credentials ADD COLUMN expiry_noted_at INTEGER;
CREATE INDEX credentials_unnoted_expiry ON credentials (expires_at)
	WHERE expires_at IS NOT NULL AND expiry_noted_at IS NULL;

-- An event names its actor (operator, app, user, server) and the source
-- address of the request that caused it; its detail is a JSON object.
-- Earlier details were free text: they become {"message": text}.
ALTER TABLE events ADD COLUMN actor TEXT NOT NULL DEFAULT 'server';
ALTER TABLE events ADD COLUMN address TEXT NOT NULL DEFAULT '';
UPDATE events SET detail = json_object('message', detail);
CREATE INDEX events_app_id ON events (app_id, id);
