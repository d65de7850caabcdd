-- The whole schema, as the SQLite migrations `0001` to `0011` leave it (see
-- `migrations/sqlite/` for why each table and index exists), in one migration.
--
-- The same tables, columns and indexes as SQLite's, so that the code that reads and
-- writes them is the same (see the module doc of `dialect.rs`):
-- - Every integer column is BIGINT: the dialect reads and binds 64-bit integers (INT8),
--   and PostgreSQL's INTEGER is INT4. Timestamps are integer milliseconds since the Unix
--   epoch; booleans are integers 0 and 1; a task run's `item` is -1 for the task itself.
-- - JSON is TEXT, not jsonb: an event's text must read back byte for byte, and jsonb
--   reorders keys and rewrites numbers.
-- - Ids are TEXT (lowercase hyphenated uuids, which sort by creation).
-- - Every text column that is a key, a name or a label is COLLATE "C": listings, cursors
--   (`name > $1`, `id < $1`) and `ORDER BY` compare bytewise, as SQLite and the
--   in-memory store do, whatever the server's locale; and a `LIKE 'prefix%'` can use
--   their indexes.
-- - The inbox's and the deliveries' `seq` are identity columns (SQLite: INTEGER
--   PRIMARY KEY AUTOINCREMENT): assigned on insert, never reused. The code never
--   writes them (`RETURNING seq`), so they are GENERATED ALWAYS.
-- - No foreign keys from the log or the read models: a batch may hold events of an
--   execution whose row comes in a later batch.

-- The append-only event log. The primary key is what makes a second writer of an
-- execution fail (a conflict).
CREATE TABLE events (
    execution TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (execution, seq)
);

-- The read model of executions. Inputs live apart (`execution_inputs`): they never
-- change, while the row changes at every step.
CREATE TABLE executions (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    workflow_id TEXT COLLATE "C" NOT NULL,
    workflow TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    outputs TEXT,
    error TEXT,
    parent_execution TEXT COLLATE "C",
    parent_task TEXT COLLATE "C",
    parent_item BIGINT,
    retry_of TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    ended_at BIGINT,
    updated_at BIGINT NOT NULL,
    owner TEXT COLLATE "C",
    fence BIGINT NOT NULL DEFAULT 1,
    parked BIGINT NOT NULL DEFAULT 0,
    origin_kind TEXT COLLATE "C",
    origin_by TEXT COLLATE "C"
);

CREATE INDEX executions_by_workflow ON executions (workflow, id);
CREATE INDEX executions_by_status ON executions (status, id);
CREATE INDEX executions_by_created_at ON executions (created_at, id);
CREATE INDEX executions_by_origin ON executions (origin_by, id);

CREATE TABLE execution_inputs (
    execution TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    inputs TEXT NOT NULL
);

-- The read model of tasks and fan-out items.
CREATE TABLE task_runs (
    execution TEXT COLLATE "C" NOT NULL,
    task TEXT COLLATE "C" NOT NULL,
    item BIGINT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    attempts BIGINT NOT NULL,
    output TEXT,
    error TEXT,
    skip_reason TEXT,
    started_at BIGINT,
    ended_at BIGINT,
    wait TEXT,
    wait_for TEXT COLLATE "C",
    wait_key TEXT COLLATE "C",
    PRIMARY KEY (execution, task, item)
);

CREATE INDEX task_runs_by_wait ON task_runs (wait_for, wait_key) WHERE wait_for IS NOT NULL;
CREATE INDEX task_runs_failed ON task_runs (execution) WHERE status = 'failed';

-- Workflows: a stable id per name; the definitions are its versions.
CREATE TABLE workflows (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    deleted_at BIGINT
);

CREATE TABLE workflow_versions (
    workflow_id TEXT COLLATE "C" NOT NULL REFERENCES workflows (id),
    version BIGINT NOT NULL,
    description TEXT,
    source TEXT NOT NULL,
    format TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

-- API tokens: only a hash of the secret is stored.
CREATE TABLE tokens (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    role TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Templates: a stable id per name, and immutable versions.
CREATE TABLE templates (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    deleted_at BIGINT
);

CREATE TABLE template_versions (
    template_id TEXT COLLATE "C" NOT NULL REFERENCES templates (id),
    version BIGINT NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,
    category TEXT COLLATE "C",
    note TEXT,
    content TEXT NOT NULL,
    source TEXT NOT NULL,
    format TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (template_id, version)
);

CREATE TABLE template_tags (
    template_id TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    tag TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (template_id, version, tag),
    FOREIGN KEY (template_id, version) REFERENCES template_versions (template_id, version)
);

CREATE INDEX template_tags_by_tag ON template_tags (tag, template_id, version);

-- Facts about the database that only ever move one way (`had_tokens`).
CREATE TABLE settings (
    key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

-- Durable timers, one per (execution, key).
CREATE TABLE timers (
    execution TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    due BIGINT NOT NULL,
    PRIMARY KEY (execution, key)
);

CREATE INDEX timers_by_due ON timers (due);

-- Received CloudEvents, once each by (source, id).
CREATE TABLE inbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    type TEXT COLLATE "C" NOT NULL,
    received_at BIGINT NOT NULL,
    event TEXT NOT NULL,
    routed_at BIGINT,
    deliveries TEXT,
    UNIQUE (source, id)
);

CREATE INDEX inbox_by_type ON inbox (type, seq);
CREATE INDEX inbox_unrouted ON inbox (seq) WHERE routed_at IS NULL;

-- Idempotency keys, unique within their scope while unexpired.
CREATE TABLE idempotency (
    scope TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    body_hash TEXT COLLATE "C" NOT NULL,
    execution TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_by_expiry ON idempotency (expires_at);

-- Paused triggers: a row per paused trigger, since `paused_at`.
CREATE TABLE trigger_states (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    paused_at BIGINT NOT NULL
);

-- Webhook deliveries: every request a hook received, with its verdict; the body
-- base64-encoded; `verified`: whether it proved its sender (0 or 1).
CREATE TABLE deliveries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trigger_id TEXT COLLATE "C" NOT NULL,
    hook TEXT COLLATE "C" NOT NULL,
    received_at BIGINT NOT NULL,
    verdict TEXT COLLATE "C" NOT NULL,
    reason TEXT,
    execution TEXT COLLATE "C",
    method TEXT COLLATE "C" NOT NULL,
    headers TEXT NOT NULL,
    query TEXT NOT NULL,
    body TEXT NOT NULL,
    replay_of BIGINT,
    verified BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX deliveries_by_trigger ON deliveries (trigger_id, seq);

-- When each schedule last fired (the scheduled time, milliseconds).
CREATE TABLE fire_marks (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    fired_for BIGINT NOT NULL
);
