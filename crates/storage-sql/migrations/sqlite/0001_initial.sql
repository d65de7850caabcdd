-- The initial schema: the event log, the read models derived from it, and workflow
-- definitions with their versions.
--
-- Kept portable to PostgreSQL (whose migrations live in their own folder): plain TEXT
-- and BIGINT/INTEGER columns, ids as TEXT uuids (lowercase, hyphenated: they sort by
-- creation, like the UUID v7 values they are), JSON as TEXT, timestamps as integer
-- milliseconds since the Unix epoch. No foreign keys from the log or the read models:
-- a batch may hold events of an execution whose row comes in a later batch.

-- The append-only event log: one row per event, in `seq` order within an execution.
-- The primary key is what makes a second writer of an execution fail (a conflict).
CREATE TABLE events (
    execution TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (execution, seq)
);

-- The read model of executions: every field of `ExecutionRecord`; the parent link as
-- three columns, all NULL for an execution that is not a sub-workflow.
CREATE TABLE executions (
    id TEXT NOT NULL PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    workflow TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT,
    error TEXT,
    parent_execution TEXT,
    parent_task TEXT,
    parent_item INTEGER,
    retry_of TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    ended_at BIGINT,
    updated_at BIGINT NOT NULL
);

-- Listing newest first (ORDER BY id DESC, keyset cursor `id < after`), filtered by
-- workflow, by status (which also serves `unfinished`), or by a creation-time window.
CREATE INDEX executions_by_workflow ON executions (workflow, id);
CREATE INDEX executions_by_status ON executions (status, id);
CREATE INDEX executions_by_created_at ON executions (created_at, id);

-- The read model of tasks and fan-out items. `item` is -1 for the task itself, so that
-- the key is NOT NULL and works as a primary key and an ON CONFLICT target everywhere.
CREATE TABLE task_runs (
    execution TEXT NOT NULL,
    task TEXT NOT NULL,
    item BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    output TEXT,
    error TEXT,
    skip_reason TEXT,
    started_at BIGINT,
    ended_at BIGINT,
    PRIMARY KEY (execution, task, item)
);

-- Workflows: a stable id per name; the definitions are its versions.
CREATE TABLE workflows (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE workflow_versions (
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    version INTEGER NOT NULL,
    description TEXT,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);
