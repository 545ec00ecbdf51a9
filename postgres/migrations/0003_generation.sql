-- A counter that changes whenever an app, one of its lists or a credential
-- is created, changed or deleted, by any process: caches of apps and
-- credentials stay valid while it is unchanged. Triggers keep it, so no
-- writer (an import or a psql session included) can forget it. A
-- credential's last use does not count.
CREATE TABLE generation (
	id    BIGINT PRIMARY KEY CHECK (id = 1),
	value BIGINT NOT NULL
);
INSERT INTO generation (id, value) VALUES (1, 0);

-- gatehouse_bump_generation adds one to the counter and tells listeners of
-- the channel gatehouse_generation its new value (delivered at commit). The
-- triggers are per statement: a statement bumps the counter once, however
-- many rows it changes, and also when it changes none, which costs no more
-- than a cache refill. SET search_path FROM CURRENT binds the function to
-- the schema it is created in, whatever the search_path of the session that
-- fires it.
CREATE FUNCTION gatehouse_bump_generation() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
	v BIGINT;
BEGIN
	UPDATE generation SET value = value + 1 WHERE id = 1 RETURNING value INTO v;
	PERFORM pg_notify('gatehouse_generation', v::text);
	RETURN NULL;
END
$$;

CREATE TRIGGER apps_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON apps
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_generation();
CREATE TRIGGER redirect_uris_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_redirect_uris
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_generation();
CREATE TRIGGER scopes_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_scopes
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_generation();
CREATE TRIGGER default_scopes_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_default_scopes
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_generation();
CREATE TRIGGER grants_list_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_grants
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_generation();

CREATE TRIGGER credentials_gen AFTER INSERT OR DELETE OR TRUNCATE ON credentials
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_generation();
CREATE TRIGGER credentials_gen_update AFTER UPDATE OF app_id, digest, hint, expires_at ON credentials
	FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_generation();
