-- A counter that changes whenever an app, one of its lists or a credential
-- is created, changed or deleted, by any process: caches of apps and
-- credentials stay valid while it is unchanged. Triggers keep it, so no
-- writer can forget it. A credential's last use does not count.
CREATE TABLE generation (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	value INTEGER NOT NULL
);
INSERT INTO generation (id, value) VALUES (1, 0);

CREATE TRIGGER apps_gen_insert AFTER INSERT ON apps BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER apps_gen_update AFTER UPDATE ON apps BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER apps_gen_delete AFTER DELETE ON apps BEGIN UPDATE generation SET value = value + 1; END;

CREATE TRIGGER redirect_uris_gen_insert AFTER INSERT ON app_redirect_uris BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER redirect_uris_gen_update AFTER UPDATE ON app_redirect_uris BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER redirect_uris_gen_delete AFTER DELETE ON app_redirect_uris BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER scopes_gen_insert AFTER INSERT ON app_scopes BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER scopes_gen_update AFTER UPDATE ON app_scopes BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER scopes_gen_delete AFTER DELETE ON app_scopes BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER default_scopes_gen_insert AFTER INSERT ON app_default_scopes BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER default_scopes_gen_update AFTER UPDATE ON app_default_scopes BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER default_scopes_gen_delete AFTER DELETE ON app_default_scopes BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER grants_list_gen_insert AFTER INSERT ON app_grants BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER grants_list_gen_update AFTER UPDATE ON app_grants BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER grants_list_gen_delete AFTER DELETE ON app_grants BEGIN UPDATE generation SET value = value + 1; END;

CREATE TRIGGER credentials_gen_insert AFTER INSERT ON credentials BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER credentials_gen_update AFTER UPDATE OF app_id, digest, hint, expires_at ON credentials BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER credentials_gen_delete AFTER DELETE ON credentials BEGIN UPDATE generation SET value = value + 1; END;
