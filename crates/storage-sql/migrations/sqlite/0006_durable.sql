-- Durable features: who runs an execution (owner, fence), durable timers, what running
-- attempts wait on, the inbox of received CloudEvents, and idempotency keys.
--
-- Portable as the other migrations: TEXT, INTEGER and BIGINT columns only; booleans are
-- integers 0 and 1. Partial indexes (`WHERE ...`) exist in PostgreSQL too.

-- An execution's owner (the node that runs it) and fence (bumped by each claim; commits
-- can be conditioned on it). Existing executions start at fence 1, as new ones do.
-- `parked`: nothing to do until a timer or a signal (the engine's flag).
ALTER TABLE executions ADD COLUMN owner TEXT;
ALTER TABLE executions ADD COLUMN fence BIGINT NOT NULL DEFAULT 1;
ALTER TABLE executions ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;

-- What a running attempt waits on (JSON, the engine's description), the signal's name
-- and its routing key, found by `waiting`. Most task runs wait on nothing, so the
-- index holds only those that do.
ALTER TABLE task_runs ADD COLUMN wait TEXT;
ALTER TABLE task_runs ADD COLUMN wait_for TEXT;
ALTER TABLE task_runs ADD COLUMN wait_key TEXT;
CREATE INDEX task_runs_by_wait ON task_runs (wait_for, wait_key) WHERE wait_for IS NOT NULL;

-- Durable timers, one per (execution, key); deleted when they fire, are cleared, or
-- their execution ends. No foreign key, as for the log (see 0001).
CREATE TABLE timers (
    execution TEXT NOT NULL,
    key TEXT NOT NULL,
    due BIGINT NOT NULL,
    PRIMARY KEY (execution, key)
);
CREATE INDEX timers_by_due ON timers (due);

-- Received CloudEvents, once each by (source, id). `seq` is assigned on receipt and
-- never reused (AUTOINCREMENT; PostgreSQL: an identity column). `event` is the whole
-- CloudEvent as received; `deliveries` (JSON) and `routed_at` are set once routed.
CREATE TABLE inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    event TEXT NOT NULL,
    routed_at BIGINT,
    deliveries TEXT,
    UNIQUE (source, id)
);
CREATE INDEX inbox_by_type ON inbox (type, seq);
CREATE INDEX inbox_unrouted ON inbox (seq) WHERE routed_at IS NULL;

-- Idempotency keys, unique within their scope while unexpired (`expires_at` later than
-- the time of the lookup); an expired one is replaced by the next execution with the
-- key, or pruned.
CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    execution TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_by_expiry ON idempotency (expires_at);
