-- Gatehouse schema, version 5: fewer index writes per token, as SQLite's
-- version 5. Client credentials tokens have no grant and most tokens no
-- parent, so the indexes on grant_id and parent hold only the rows that
-- have one. Queries by grant_id = $1 or parent = $1 imply IS NOT NULL and
-- use them as before.
DROP INDEX tokens_grant_id;
CREATE INDEX tokens_grant_id ON tokens (grant_id) WHERE grant_id IS NOT NULL;
DROP INDEX tokens_parent;
CREATE INDEX tokens_parent ON tokens (parent) WHERE parent IS NOT NULL;
