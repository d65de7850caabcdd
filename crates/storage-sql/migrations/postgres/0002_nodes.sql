-- The nodes sharing the database (`nodes.rs`): one row per `harmonia serve`, with its
-- lease. An execution's `owner` names one of them; one whose node has no live row is
-- an orphan that any node may claim.
CREATE TABLE nodes (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    incarnation TEXT NOT NULL,
    address TEXT,
    version TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    renewed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Finding what a node owns, and the orphans, reads only unfinished executions.
CREATE INDEX executions_unfinished_by_owner ON executions (owner)
    WHERE status IN ('pending', 'running', 'paused');
