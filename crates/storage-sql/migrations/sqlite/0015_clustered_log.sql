-- The event log and the task runs stored in the order of their primary keys (WITHOUT
-- ROWID), instead of as rows by rowid beside an index of the key. Every commit of a
-- step appends events and writes task runs: with the index beside the table, each of
-- the two wrote two pages (the table's and the index's), four in all; clustered, two.
-- Reading an execution's log is one range of one B-tree instead of an index walk that
-- looks up every row.
--
-- The tables are copied: an upgrade takes as long as the log is big, once.

CREATE TABLE events_clustered (
    execution TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (execution, seq)
) WITHOUT ROWID;

INSERT INTO events_clustered (execution, seq, at, kind, data)
    SELECT execution, seq, at, kind, data FROM events ORDER BY execution, seq;
DROP TABLE events;
ALTER TABLE events_clustered RENAME TO events;

CREATE TABLE task_runs_clustered (
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
    wait TEXT,
    wait_for TEXT,
    wait_key TEXT,
    PRIMARY KEY (execution, task, item)
) WITHOUT ROWID;

INSERT INTO task_runs_clustered (
    execution, task, item, status, attempts, output, error, skip_reason, started_at,
    ended_at, wait, wait_for, wait_key
)
    SELECT execution, task, item, status, attempts, output, error, skip_reason,
        started_at, ended_at, wait, wait_for, wait_key
    FROM task_runs ORDER BY execution, task, item;
DROP TABLE task_runs;
ALTER TABLE task_runs_clustered RENAME TO task_runs;

CREATE INDEX task_runs_by_wait ON task_runs (wait_for, wait_key) WHERE wait_for IS NOT NULL;
CREATE INDEX task_runs_failed ON task_runs (execution) WHERE status = 'failed';
