-- Named locks that serialize decisions across nodes (`nodes.rs`: `try_lock`), such as
-- a workflow's concurrency policy; each held until a time, so that a node that dies
-- holding one blocks the others only that long.
CREATE TABLE locks (
    name TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
