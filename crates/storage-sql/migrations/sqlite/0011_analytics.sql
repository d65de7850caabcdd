-- Analytics (`analytics.rs`): failed task runs of a window, found without reading the
-- task rows that did not fail. A partial index is written only for the rows its
-- condition holds for: a task run's row gets an entry when it fails (and loses it if
-- it is retried), so the steps of executions that do not fail write nothing more.
-- Queries name its condition as text (`tr.status = 'failed'`), the only way a partial
-- index is used. PostgreSQL reads the same statement.
CREATE INDEX task_runs_failed ON task_runs (execution) WHERE status = 'failed';
