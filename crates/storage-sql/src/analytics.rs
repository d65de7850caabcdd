//! The analytics role on SQL: [`Analytics`] for [`SqlStore`], every dialect.
//!
//! A window of 100,000 executions must not come back as 100,000 rows (sqlx hands
//! over a row in about a microsecond), nor be ranked by SQL window functions (SQLite
//! takes 100 ms to number 100,000 durations). So what needs every execution of a
//! window (counts, series, durations) reads it in one statement that packs the few
//! columns it needs into one JSON array ([`Dialect::json_rows`]: one row, decoded here
//! without copying names), and the numbers are made in Rust: sorting 100,000
//! durations takes a few milliseconds. What needs only some rows is found through an
//! index: failed executions through `executions_by_status`, failed task runs through
//! the partial index `task_runs_failed` (migration `0011_analytics.sql`, written only
//! when a task run fails), both bounded by the ids of the window (ids sort by
//! creation; the smallest and largest of the window come from
//! `executions_by_created_at` alone). A workflow's window is read through
//! `executions_by_workflow` the same way. Task runs are reached from their executions
//! through `task_runs`' primary key.
//!
//! Failures come back with their errors as text, grouped here by the storage crate's
//! `FailureGroups`, as the in-memory store groups them. An event's `task` (queue
//! waits) is read in SQL with [`Dialect::json_field`]; the database's size comes from
//! [`Dialect::DATABASE_SIZE`]. The `examples/analytics_queries.rs` benchmark measures
//! every query at 100,000 executions.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use async_trait::async_trait;
use harmonia_storage::analytics::{
    Analytics, Backlog, DurationGroup, DurationStats, ExecutionSummary, FailureGroup,
    FailureGroups, Failures, GroupBy, QueueWaits, SeriesBucket, StatusCounts, WORKER_SIGNAL,
    WaitKinds, Window, error_field, slowest_first,
};
use harmonia_storage::{ExecutionStatus, Result, TaskStatus, Timestamp};
use serde::Deserialize;

use crate::dialect::{Dialect, Row};
use crate::error::{backend, corrupt};
use crate::queries::push_unfinished;
use crate::rows::{Columns, TASK_ITSELF};
use crate::sql::Sql;
use crate::store::{SqlStore, cpu_bound};

/// An execution of a window, packed: workflow, status, created at, duration (ms).
#[derive(Deserialize)]
struct ExecutionRow<'a>(
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    i64,
    Option<i64>,
);

/// An ended task run of a window, packed: workflow, task, duration (ms), attempts.
#[derive(Deserialize)]
struct TaskRow<'a>(
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    i64,
    u64,
);

/// A failure, packed: workflow, task (`null` for an execution), execution, error text.
#[derive(Deserialize)]
struct FailureRow<'a>(
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Option<Cow<'a, str>>,
);

/// The first and last ids of a window's executions (by id), when it holds any.
type Bounds = Option<(String, String)>;

/// Appends the conditions of `window` on the executions table `x` (after `WHERE`).
/// With a workflow, also the window's ids, so that `executions_by_workflow` serves it.
fn push_window<D: Dialect>(sql: &mut Sql<D>, window: &Window, bounds: &Bounds) {
    sql.push(" x.created_at >= ").bind(window.since.0);
    sql.push(" AND x.created_at < ").bind(window.until.0);
    if let Some(workflow) = &window.workflow {
        sql.push(" AND x.workflow = ").bind(workflow.as_str());
        push_bounds(sql, "x.id", bounds);
    }
}

/// Appends ` AND column BETWEEN first AND last` (nothing without bounds).
fn push_bounds<D: Dialect>(sql: &mut Sql<D>, column: &str, bounds: &Bounds) {
    if let Some((first, last)) = bounds {
        sql.push(" AND ")
            .push(column)
            .push(" BETWEEN ")
            .bind(first.as_str())
            .push(" AND ")
            .bind(last.as_str());
    }
}

/// Packed rows of `table`, decoded (names borrowed from `text` where they can be).
fn decode<'a, T: Deserialize<'a>>(text: &'a str, table: &'static str) -> Result<Vec<T>> {
    serde_json::from_str(text).map_err(|e| corrupt(table, "rows", format!("packed rows: {e}")))
}

fn status(text: &str) -> Result<ExecutionStatus> {
    ExecutionStatus::from_str(text).map_err(|e| corrupt("executions", "status", e))
}

/// Groups of durations (and attempts) as the contract's records.
fn groups<'a>(
    by: impl IntoIterator<
        Item = (
            (Cow<'a, str>, Option<Cow<'a, str>>),
            (Vec<i64>, Option<u64>),
        ),
    >,
) -> Vec<DurationGroup> {
    by.into_iter()
        .filter_map(|((workflow, task), (mut ms, attempts))| {
            ms.sort_unstable();
            Some(DurationGroup {
                workflow: workflow.into_owned(),
                task: task.map(Cow::into_owned),
                durations: DurationStats::of(&ms)?,
                attempts,
            })
        })
        .collect()
}

impl<D: Dialect> SqlStore<D> {
    async fn rows(&self, sql: Sql<D>) -> Result<Vec<Row<D>>> {
        sql.fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)
    }

    /// The one number `sql` selects as `n`.
    async fn number(&self, sql: Sql<D>, table: &'static str) -> Result<u64> {
        let rows = self.rows(sql).await?;
        match rows.first() {
            Some(row) => Columns::<D>::new(row, table)
                .opt_int("n")?
                .map_or(Ok(0), |n| {
                    u64::try_from(n).map_err(|_| corrupt(table, "n", format!("{n} is negative")))
                }),
            None => Ok(0),
        }
    }

    /// The window's first and last execution ids (from `executions_by_created_at`
    /// alone, whatever the workflow).
    async fn bounds(&self, window: &Window) -> Result<Bounds> {
        let mut sql = Sql::<D>::new(
            "SELECT min(x.id) AS lo, max(x.id) AS hi FROM executions x WHERE x.created_at >= ",
        );
        sql.bind(window.since.0)
            .push(" AND x.created_at < ")
            .bind(window.until.0);
        let rows = self.rows(sql).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let c = Columns::<D>::new(row, "executions");
        Ok(c.opt_string("lo")?.zip(c.opt_string("hi")?))
    }

    /// The bounds a query of `window` needs: those of its ids with a workflow (see
    /// [`push_window`]), none without.
    async fn workflow_bounds(&self, window: &Window) -> Result<Bounds> {
        match window.workflow {
            Some(_) => self.bounds(window).await,
            None => Ok(None),
        }
    }

    /// Runs `sql`, which selects one packed JSON array as `rows`: its text (`[]` when
    /// there is no row).
    async fn packed(&self, sql: Sql<D>, table: &'static str) -> Result<String> {
        let rows = self.rows(sql).await?;
        let text = match rows.first() {
            Some(row) => Columns::<D>::new(row, table).opt_string("rows")?,
            None => None,
        };
        Ok(text.unwrap_or_else(|| "[]".to_owned()))
    }

    /// The failures `sql` packs as `[workflow, task, execution, error]` (a task of
    /// `null`: the one the error names), grouped.
    async fn failure_groups(&self, sql: Sql<D>, table: &'static str) -> Result<Vec<FailureGroup>> {
        let text = self.packed(sql, table).await?;
        cpu_bound(text.len() / 64, || {
            let rows: Vec<FailureRow<'_>> = decode(&text, table)?;
            let mut groups = FailureGroups::default();
            for FailureRow(workflow, task, id, error) in rows {
                let execution = id.parse().map_err(|e| {
                    corrupt(table, "execution", format!("invalid uuid `{id}`: {e}"))
                })?;
                let error = match error {
                    Some(text) => Some(
                        harmonia_storage::json::parse(&text)
                            .map_err(|e| corrupt(table, "error", format!("invalid JSON: {e}")))?,
                    ),
                    None => None,
                };
                let task = match task {
                    Some(t) => Some(t.into_owned()),
                    None => error_field(error.as_ref(), "task"),
                };
                groups.add(&workflow, task, error.as_ref(), execution);
            }
            Ok(groups.into_groups())
        })
    }

    /// Every execution of `window`, packed, to `fold`.
    async fn executions_of(
        &self,
        window: &Window,
        mut fold: impl FnMut(&str, ExecutionStatus, i64, Option<i64>),
    ) -> Result<()> {
        let bounds = self.workflow_bounds(window).await?;
        let mut sql = Sql::<D>::new(format!(
            "SELECT {} AS rows FROM executions x WHERE",
            D::json_rows(&[
                "x.workflow",
                "x.status",
                "x.created_at",
                "x.ended_at - x.started_at"
            ])
        ));
        push_window(&mut sql, window, &bounds);
        let text = self.packed(sql, "executions").await?;
        cpu_bound(text.len() / 32, || {
            let rows: Vec<ExecutionRow<'_>> = decode(&text, "executions")?;
            for ExecutionRow(w, s, created, ms) in rows {
                fold(&w, status(&s)?, created, ms);
            }
            Ok(())
        })
    }
}

#[async_trait]
impl<D: Dialect> Analytics for SqlStore<D> {
    async fn execution_summary(&self, window: &Window) -> Result<ExecutionSummary> {
        let mut counts = StatusCounts::default();
        let mut durations = Vec::new();
        self.executions_of(window, |_, s, _, ms| {
            counts.add(s, 1);
            durations.extend(ms);
        })
        .await?;
        durations.sort_unstable();
        Ok(ExecutionSummary {
            counts,
            durations: DurationStats::of(&durations),
        })
    }

    async fn status_by_workflow(&self, window: &Window) -> Result<Vec<(String, StatusCounts)>> {
        let mut by: BTreeMap<String, StatusCounts> = BTreeMap::new();
        self.executions_of(window, |w, s, _, _| match by.get_mut(w) {
            Some(counts) => counts.add(s, 1),
            None => by.entry(w.to_owned()).or_default().add(s, 1),
        })
        .await?;
        Ok(by.into_iter().collect())
    }

    async fn execution_series(
        &self,
        window: &Window,
        origin: Timestamp,
        bucket_ms: i64,
    ) -> Result<Vec<SeriesBucket>> {
        let bucket_ms = bucket_ms.max(1);
        let mut by: BTreeMap<u64, StatusCounts> = BTreeMap::new();
        self.executions_of(window, |_, s, created, _| {
            let index = u64::try_from(created.saturating_sub(origin.0) / bucket_ms).unwrap_or(0);
            by.entry(index).or_default().add(s, 1);
        })
        .await?;
        Ok(by
            .into_iter()
            .map(|(index, counts)| SeriesBucket { index, counts })
            .collect())
    }

    async fn durations(
        &self,
        window: &Window,
        by: GroupBy,
        limit: usize,
    ) -> Result<Vec<DurationGroup>> {
        let found = match by {
            GroupBy::Workflow => {
                let mut by: HashMap<String, Vec<i64>> = HashMap::new();
                self.executions_of(window, |w, _, _, ms| {
                    if let Some(ms) = ms {
                        match by.get_mut(w) {
                            Some(all) => all.push(ms),
                            None => by.entry(w.to_owned()).or_default().push(ms),
                        }
                    }
                })
                .await?;
                groups(
                    by.into_iter()
                        .map(|(w, ms)| ((Cow::Owned(w), None), (ms, None))),
                )
            }
            GroupBy::Task => {
                let bounds = self.workflow_bounds(window).await?;
                let mut sql = Sql::<D>::new(format!(
                    "SELECT {} AS rows FROM executions x \
                     JOIN task_runs tr ON tr.execution = x.id AND tr.item = {TASK_ITSELF} WHERE",
                    D::json_rows(&[
                        "x.workflow",
                        "tr.task",
                        "tr.ended_at - tr.started_at",
                        "tr.attempts"
                    ])
                ));
                push_window(&mut sql, window, &bounds);
                sql.push(" AND tr.started_at IS NOT NULL AND tr.ended_at IS NOT NULL");
                let text = self.packed(sql, "task_runs").await?;
                cpu_bound(text.len() / 32, || {
                    let rows: Vec<TaskRow<'_>> = decode(&text, "task_runs")?;
                    let mut by: HashMap<(Cow<'_, str>, Cow<'_, str>), (Vec<i64>, u64)> =
                        HashMap::new();
                    for TaskRow(w, t, ms, attempts) in rows {
                        let group = by.entry((w, t)).or_default();
                        group.0.push(ms);
                        group.1 += attempts;
                    }
                    Ok::<_, harmonia_storage::Error>(groups(
                        by.into_iter()
                            .map(|((w, t), (ms, attempts))| ((w, Some(t)), (ms, Some(attempts)))),
                    ))
                })?
            }
        };
        Ok(slowest_first(found, limit))
    }

    async fn queue_waits(
        &self,
        window: &Window,
        sample: usize,
        kinds: WaitKinds<'_>,
    ) -> Result<QueueWaits> {
        let sample = i64::try_from(sample).unwrap_or(i64::MAX);
        let bounds = self.workflow_bounds(window).await?;
        let mut sql = Sql::<D>::new("WITH s AS (SELECT x.id, x.workflow FROM executions x WHERE");
        push_window(&mut sql, window, &bounds);
        sql.push(" ORDER BY x.created_at DESC, x.id DESC LIMIT ")
            .bind(sample)
            .push("), ev AS (SELECT s.workflow AS w, e.execution AS x, ")
            .push(&D::json_field("e.data", "task"))
            .push(" AS t, e.kind AS kind, e.at AS at FROM s JOIN events e ON e.execution = s.id WHERE e.kind IN (")
            .bind(kinds.ready)
            .push(", ")
            .bind(kinds.started)
            .push(")), per AS (SELECT w, t, min(CASE WHEN kind = ")
            .bind(kinds.ready)
            .push(" THEN at END) AS ready, min(CASE WHEN kind = ")
            .bind(kinds.started)
            .push(
                " THEN at END) AS started FROM ev WHERE t IS NOT NULL GROUP BY x, w, t) \
                 SELECT (SELECT count(*) FROM s) AS n, ",
            )
            .push(&D::json_rows(&["w", "t", "started - ready", "0"]))
            .push(" AS rows FROM per WHERE ready IS NOT NULL AND started IS NOT NULL");
        let rows = self.rows(sql).await?;
        let Some(row) = rows.first() else {
            return Ok(QueueWaits::default());
        };
        let c = Columns::<D>::new(row, "events");
        let sampled = c.u64("n")?;
        let mut by: HashMap<(Cow<'_, str>, Cow<'_, str>), Vec<i64>> = HashMap::new();
        let text = c.opt_text("rows")?.unwrap_or("[]");
        let rows: Vec<TaskRow<'_>> = decode(text, "events")?;
        for TaskRow(w, t, ms, _) in rows {
            by.entry((w, t)).or_default().push(ms);
        }
        Ok(QueueWaits {
            sampled,
            groups: groups(
                by.into_iter()
                    .map(|((w, t), ms)| ((w, Some(t)), (ms, None))),
            ),
        })
    }

    async fn failures(&self, window: &Window) -> Result<Failures> {
        // Both are found through indexes of failures, bounded by the window's ids, and
        // come back packed, errors as text, grouped here as the in-memory store groups
        // them.
        let Some(bounds) = self.bounds(window).await? else {
            return Ok(Failures::default());
        };
        let bounds = Some(bounds);
        let mut sql = Sql::<D>::new(format!(
            "SELECT {} AS rows FROM executions x WHERE x.status = ",
            D::json_rows(&["x.workflow", "NULL", "x.id", "x.error"]),
        ));
        sql.bind(ExecutionStatus::Failed.as_str());
        push_bounds(&mut sql, "x.id", &bounds);
        sql.push(" AND");
        push_window(&mut sql, window, &None);
        let executions = self.failure_groups(sql, "executions").await?;

        // The status is written out, not bound: a partial index serves only a query
        // whose condition is its own, as text.
        let mut sql = Sql::<D>::new(format!(
            "SELECT {} AS rows FROM task_runs tr CROSS JOIN executions x \
             WHERE x.id = tr.execution AND tr.status = '{}' AND tr.item = {TASK_ITSELF}",
            D::json_rows(&["x.workflow", "tr.task", "x.id", "tr.error"]),
            TaskStatus::Failed.as_str(),
        ));
        push_bounds(&mut sql, "tr.execution", &bounds);
        sql.push(" AND");
        push_window(&mut sql, window, &None);
        let task_runs = self.failure_groups(sql, "task_runs").await?;
        Ok(Failures {
            executions,
            task_runs,
        })
    }

    async fn backlog(&self, workflow: Option<&str>) -> Result<Backlog> {
        let open = |sql: &mut Sql<D>| {
            sql.push(" x.status IN (");
            push_unfinished(sql);
            sql.push(")");
            if let Some(workflow) = workflow {
                sql.push(" AND x.workflow = ").bind(workflow);
            }
        };
        let mut sql = Sql::<D>::new("SELECT count(*) AS n FROM executions x WHERE");
        open(&mut sql);
        let open_executions = self.number(sql, "executions").await?;

        let mut sql = Sql::<D>::new("SELECT CAST(coalesce(sum(CASE WHEN tr.status = ");
        sql.bind(TaskStatus::Queued.as_str())
            .push(
                " THEN 1 ELSE 0 END), 0) AS BIGINT) AS queued, \
                 CAST(coalesce(sum(CASE WHEN tr.status = ",
            )
            .bind(TaskStatus::Running.as_str())
            .push(" AND tr.wait_for = ")
            .bind(WORKER_SIGNAL)
            .push(
                " THEN 1 ELSE 0 END), 0) AS BIGINT) AS workers \
                 FROM executions x JOIN task_runs tr ON tr.execution = x.id WHERE",
            );
        open(&mut sql);
        let rows = self.rows(sql).await?;
        let (queued, workers) = match rows.first() {
            Some(row) => {
                let c = Columns::<D>::new(row, "task_runs");
                (c.u64("queued")?, c.u64("workers")?)
            }
            None => (0, 0),
        };
        Ok(Backlog {
            open_executions,
            queued_task_runs: queued,
            worker_task_runs: workers,
        })
    }

    async fn database_size(&self) -> Result<Option<u64>> {
        match D::DATABASE_SIZE {
            Some(text) => self.number(Sql::<D>::new(text), "database").await.map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use harmonia_storage::prelude::*;
    use harmonia_storage::{CommitBatch, ExecutionId, ExecutionRecord, WorkflowId};
    use serde_json::json;

    fn failed(id: ExecutionId, error: serde_json::Value) -> ExecutionRecord {
        ExecutionRecord {
            id,
            workflow_id: WorkflowId::new(),
            workflow: "w".into(),
            version: 1,
            status: ExecutionStatus::Failed,
            inputs: json!({}).into(),
            outputs: None,
            error: Some(error),
            parent: None,
            retry_of: None,
            origin: None,
            created_at: Timestamp(10),
            started_at: Some(Timestamp(10)),
            ended_at: Some(Timestamp(20)),
            updated_at: Timestamp(20),
            owner: None,
            fence: 1,
            parked: false,
        }
    }

    /// A SQLite file knows its size; errors of any shape group as the in-memory store
    /// groups them (fields that are not strings as their JSON text).
    #[tokio::test]
    async fn sizes_and_error_fields_of_any_shape() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteStore::open(&dir.path().join("a.db"), Default::default())
            .await
            .expect("open");
        let size = store.database_size().await.expect("size");
        assert!(size.is_some_and(|n| n >= 4096), "{size:?}");
        let memory = harmonia_storage::MemoryStore::new();
        let batch = CommitBatch {
            executions: vec![
                failed(
                    ExecutionId::new(),
                    json!({"class": 7, "message": {"a": [1, "x"]}, "task": null}),
                ),
                failed(ExecutionId::new(), json!({"class": true})),
                failed(ExecutionId::new(), json!("not an object")),
            ],
            ..CommitBatch::default()
        };
        store.commit(&batch).await.expect("commit");
        memory.commit(&batch).await.expect("commit");
        let window = Window {
            since: Timestamp(0),
            until: Timestamp(100),
            workflow: None,
        };
        let sort = |mut f: Failures| {
            f.executions
                .sort_by(|a, b| (&a.class, &a.message).cmp(&(&b.class, &b.message)));
            f.executions
        };
        let sql = sort(store.failures(&window).await.expect("sql"));
        let mem = sort(memory.failures(&window).await.expect("memory"));
        assert_eq!(sql, mem);
        let classes: Vec<Option<&str>> = sql.iter().map(|g| g.class.as_deref()).collect();
        assert_eq!(classes, vec![None, Some("7"), Some("true")]);
        assert_eq!(sql[1].message.as_deref(), Some(r#"{"a":[1,"x"]}"#));
        store.close().await;
    }
}
