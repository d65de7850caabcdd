-- Facts about the database that only ever move one way.
--
-- `had_tokens`: an API token was stored at least once. A server on a database that has
-- had tokens never serves unauthenticated requests again, even once every token is
-- deleted. Set in the same transaction as a token (see `put_token`), never cleared;
-- set here for a database that holds tokens from before this table existed.
CREATE TABLE settings (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (key, value)
SELECT 'had_tokens', 'true' WHERE EXISTS (SELECT 1 FROM tokens);
