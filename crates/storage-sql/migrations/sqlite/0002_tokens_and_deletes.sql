-- Deleting workflows, and API tokens.
--
-- A deleted workflow keeps its versions (executions pinned to them still run and can be
-- read), but disappears from listings and from lookups without a version; storing a
-- definition under its name again brings it back with a new version.
ALTER TABLE workflows ADD COLUMN deleted_at BIGINT;

-- API tokens: only a hash of the secret is stored (hex SHA-256), never the token.
CREATE TABLE tokens (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
