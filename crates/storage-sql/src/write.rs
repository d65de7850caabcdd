//! Writing a [`CommitBatch`]: encoding its records as rows and turning them into a few
//! large multi-row statements.
//!
//! A batch can be big (a fan-out to 100,000 tasks commits ~200,000 events and ~100,000
//! task rows in one scheduler tick), so each table is written with multi-row
//! `INSERT ... VALUES (...), (...)` statements built by [`QueryBuilder::push_values`].
//! Shapes:
//!
//! - `events`: a plain `INSERT`; an existing `(execution, seq)` violates the primary
//!   key, which the caller turns into [`Error::Conflict`](harmonia_storage::Error).
//! - `executions`, `task_runs`: `INSERT ... ON CONFLICT (key) DO UPDATE SET col =
//!   excluded.col, ...`, which SQLite and PostgreSQL both understand. Rows of a batch
//!   that share a key are reduced to the last one first: PostgreSQL refuses to update
//!   one row twice in a statement, and the last write is the one that must win.
//!
//! Statement sizes: at most [`MAX_BIND_PARAMS`] bound values (SQLite's limit since
//! 3.32) and [`MAX_ROWS`] rows per statement, and always a power of two rows: a batch is
//! split into full statements, then the binary digits of the rest. So every statement
//! has one of eleven shapes per table, all of which the connection keeps prepared (its
//! statement cache holds 100), instead of one new shape (and a fresh `prepare` of a
//! statement with thousands of values) per batch size. Measured with the
//! `commit_throughput` example: a batch of 100 events and 100 task rows commits about
//! 15% faster this way than with one statement per table prepared each time.
//!
//! Everything here is CPU work on values the caller owns: [`Statements::encode`] runs
//! before the writer connection is taken, so the connection is held only to execute.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

use harmonia_storage::{
    CommitBatch, EventRecord, ExecutionId, ExecutionRecord, Result, TaskRunRecord,
};
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::error::backend_msg;
use crate::rows::{TASK_ITSELF, event_columns, execution_columns, task_run_columns};

/// The most values one statement may bind: SQLite's `SQLITE_MAX_VARIABLE_NUMBER`
/// default since 3.32 (the bundled SQLite is newer). PostgreSQL allows 65,535.
pub(crate) const MAX_BIND_PARAMS: usize = 32_766;

/// Columns per row of each table (the number of values one row binds).
const EVENT_WIDTH: usize = 5;
const EXECUTION_WIDTH: usize = 15;
const INPUTS_WIDTH: usize = 2;
const TASK_RUN_WIDTH: usize = 10;

/// The most rows in one statement, whatever the width: statements of 256 to 4,096
/// rows measured the same, and smaller ones keep the SQL text and the prepared
/// statements (cached per shape) small.
const MAX_ROWS: usize = 1024;

/// The most rows of a table of `width` columns in one statement: the largest power of
/// two whose values fit in [`MAX_BIND_PARAMS`], at most [`MAX_ROWS`].
const fn max_rows(width: usize) -> usize {
    let fit = MAX_BIND_PARAMS / width;
    let pow2 = if fit == 0 {
        1
    } else {
        1 << (usize::BITS - 1 - fit.leading_zeros())
    };
    if pow2 < MAX_ROWS { pow2 } else { MAX_ROWS }
}

/// The sizes of the statements that write `n` rows, at most `max` (a power of two) per
/// statement: as many full statements as fit, then the powers of two of the rest,
/// largest first.
fn statement_sizes(n: usize, max: usize) -> impl Iterator<Item = usize> {
    let full = n / max;
    let rest = n % max;
    std::iter::repeat_n(max, full).chain(
        (0..usize::BITS)
            .rev()
            .map(|bit| 1usize << bit)
            .filter(move |size| rest & size != 0),
    )
}

/// Which table a statement writes; an error on `Events` may be a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Events,
    Executions,
    ExecutionInputs,
    TaskRuns,
}

/// The statements that write one batch, in order: events first (a conflict is found
/// before anything else is written), then executions, then task runs.
pub(crate) struct Statements {
    statements: Vec<(Table, QueryBuilder<Sqlite>)>,
}

impl Statements {
    /// Encodes `batch` (all of it, before anything touches the database).
    pub(crate) fn encode(batch: &CommitBatch) -> Result<Statements> {
        let mut shared = Shared::default();
        let mut statements = Vec::new();

        let events = batch
            .events
            .iter()
            .map(|e| EventRow::new(e, &mut shared))
            .collect::<Result<Vec<_>>>()?;
        push_statements(
            &mut statements,
            Table::Events,
            events,
            max_rows(EVENT_WIDTH),
            concat!("INSERT INTO events (", event_columns!(), ") "),
            "",
            |b, r| {
                b.push_bind(r.execution)
                    .push_bind(r.seq)
                    .push_bind(r.at)
                    .push_bind(r.kind)
                    .push_bind(r.data);
            },
        );

        let executions: Vec<ExecutionRow> = last_of_each_key(&batch.executions, |x| x.id)
            .map(ExecutionRow::new)
            .collect();
        push_statements(
            &mut statements,
            Table::Executions,
            executions,
            max_rows(EXECUTION_WIDTH),
            concat!("INSERT INTO executions (", execution_columns!(), ") "),
            " ON CONFLICT (id) DO UPDATE SET \
             workflow_id = excluded.workflow_id, workflow = excluded.workflow, \
             version = excluded.version, status = excluded.status, \
             outputs = excluded.outputs, error = excluded.error, \
             parent_execution = excluded.parent_execution, \
             parent_task = excluded.parent_task, parent_item = excluded.parent_item, \
             retry_of = excluded.retry_of, created_at = excluded.created_at, \
             started_at = excluded.started_at, ended_at = excluded.ended_at, \
             updated_at = excluded.updated_at",
            |b, r| {
                b.push_bind(r.id)
                    .push_bind(r.workflow_id)
                    .push_bind(r.workflow)
                    .push_bind(r.version)
                    .push_bind(r.status)
                    .push_bind(r.outputs)
                    .push_bind(r.error)
                    .push_bind(r.parent_execution)
                    .push_bind(r.parent_task)
                    .push_bind(r.parent_item)
                    .push_bind(r.retry_of)
                    .push_bind(r.created_at)
                    .push_bind(r.started_at)
                    .push_bind(r.ended_at)
                    .push_bind(r.updated_at);
            },
        );

        // Inputs are written with an execution's first row, never again (see the
        // `Store` contract); `null` means "as stored".
        let inputs: Vec<(String, String)> = last_of_each_key(&batch.executions, |x| x.id)
            .filter(|x| !x.inputs.is_null())
            .map(|x| (id_text(x.id.0), json_text(&x.inputs)))
            .collect();
        push_statements(
            &mut statements,
            Table::ExecutionInputs,
            inputs,
            max_rows(INPUTS_WIDTH),
            "INSERT INTO execution_inputs (execution, inputs) ",
            " ON CONFLICT (execution) DO NOTHING",
            |b, (execution, inputs)| {
                b.push_bind(execution).push_bind(inputs);
            },
        );

        let task_runs: Vec<TaskRunRow> =
            last_of_each_key(&batch.task_runs, |t| (t.execution, t.task.as_str(), t.item))
                .map(|t| TaskRunRow::new(t, &mut shared))
                .collect();
        push_statements(
            &mut statements,
            Table::TaskRuns,
            task_runs,
            max_rows(TASK_RUN_WIDTH),
            concat!("INSERT INTO task_runs (", task_run_columns!(), ") "),
            " ON CONFLICT (execution, task, item) DO UPDATE SET \
             status = excluded.status, attempts = excluded.attempts, \
             output = excluded.output, error = excluded.error, \
             skip_reason = excluded.skip_reason, started_at = excluded.started_at, \
             ended_at = excluded.ended_at",
            |b, r| {
                b.push_bind(r.execution)
                    .push_bind(r.task)
                    .push_bind(r.item)
                    .push_bind(r.status)
                    .push_bind(r.attempts)
                    .push_bind(r.output)
                    .push_bind(r.error)
                    .push_bind(r.skip_reason)
                    .push_bind(r.started_at)
                    .push_bind(r.ended_at);
            },
        );

        Ok(Statements { statements })
    }

    /// Runs the statements on `conn` (inside the caller's transaction). On failure,
    /// says which table's statement failed, with the database's error.
    pub(crate) async fn execute(
        &mut self,
        conn: &mut SqliteConnection,
    ) -> Result<(), (Table, sqlx::Error)> {
        for (table, builder) in &mut self.statements {
            builder
                .build()
                .execute(&mut *conn)
                .await
                .map_err(|e| (*table, e))?;
        }
        Ok(())
    }
}

/// Appends the statements that write `rows`: `head` (`INSERT INTO t (cols) `), the
/// `VALUES` of up to `max` rows, `tail` (the `ON CONFLICT` clause, if any).
fn push_statements<R>(
    out: &mut Vec<(Table, QueryBuilder<Sqlite>)>,
    table: Table,
    rows: Vec<R>,
    max: usize,
    head: &'static str,
    tail: &'static str,
    mut bind: impl FnMut(&mut Separated<'_, Sqlite, &'static str>, R),
) {
    let mut rows = rows.into_iter();
    for size in statement_sizes(rows.len(), max) {
        let mut builder = QueryBuilder::new(head);
        builder.push_values(rows.by_ref().take(size), |mut b, r| bind(&mut b, r));
        builder.push(tail);
        out.push((table, builder));
    }
}

/// The rows of `rows` whose key does not come again later, in their order: the last
/// write of each key, which is the one that must win.
fn last_of_each_key<'a, T, K: Hash + Eq>(
    rows: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> impl Iterator<Item = &'a T> {
    let mut seen = HashSet::with_capacity(rows.len());
    let mut keep: Vec<bool> = rows.iter().rev().map(|r| seen.insert(key(r))).collect();
    keep.reverse();
    rows.iter().zip(keep).filter_map(|(r, k)| k.then_some(r))
}

/// Text that repeats from row to row, shared instead of copied: binding an
/// `Arc<str>` copies nothing, while a `String` or `&str` is copied into a new
/// allocation per value. A batch of 200,000 events has one execution id, a handful of
/// kinds and statuses, and often one task name.
#[derive(Default)]
struct Shared {
    /// The last id made into text (an execution's events come together).
    last_id: Option<(Uuid, Arc<str>)>,
    /// Kinds, statuses and task names seen so far (a few; searched linearly).
    texts: Vec<Arc<str>>,
}

impl Shared {
    /// How many distinct texts are kept; more are copied as they come.
    const TEXTS: usize = 16;

    /// An id as stored: hyphenated lowercase text.
    fn id(&mut self, id: Uuid) -> Arc<str> {
        match &self.last_id {
            Some((last, text)) if *last == id => text.clone(),
            _ => {
                let text: Arc<str> = id.hyphenated().to_string().into();
                self.last_id = Some((id, text.clone()));
                text
            }
        }
    }

    fn text(&mut self, s: &str) -> Arc<str> {
        if let Some(t) = self.texts.iter().find(|t| ***t == *s) {
            return t.clone();
        }
        let t: Arc<str> = s.into();
        if self.texts.len() < Shared::TEXTS {
            self.texts.push(t.clone());
        }
        t
    }
}

/// An id's text, for ids that do not repeat (uncached).
fn id_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// A JSON value as stored. `serde_json::to_string` rather than `Display`, which goes
/// through `fmt` and is several times slower; it cannot fail for a `Value` (whose map
/// keys are strings), and if it ever did, `Display`'s output is the same text.
fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| v.to_string())
}

struct EventRow {
    execution: Arc<str>,
    seq: i64,
    at: i64,
    kind: Arc<str>,
    data: String,
}

impl EventRow {
    fn new(e: &EventRecord, shared: &mut Shared) -> Result<EventRow> {
        let seq = i64::try_from(e.seq).map_err(|_| {
            backend_msg(format!(
                "event {} of execution {}: seq does not fit a 64-bit signed integer",
                e.seq, e.execution
            ))
        })?;
        Ok(EventRow {
            execution: shared.id(e.execution.0),
            seq,
            at: e.at.0,
            kind: shared.text(&e.kind),
            data: e.data.get().to_owned(),
        })
    }
}

struct ExecutionRow {
    id: String,
    workflow_id: String,
    workflow: String,
    version: i64,
    status: &'static str,
    outputs: Option<String>,
    error: Option<String>,
    parent_execution: Option<String>,
    parent_task: Option<String>,
    parent_item: Option<i64>,
    retry_of: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    ended_at: Option<i64>,
    updated_at: i64,
}

impl ExecutionRow {
    fn new(x: &ExecutionRecord) -> ExecutionRow {
        ExecutionRow {
            id: id_text(x.id.0),
            workflow_id: id_text(x.workflow_id.0),
            workflow: x.workflow.clone(),
            version: i64::from(x.version),
            status: x.status.as_str(),
            outputs: x.outputs.as_ref().map(json_text),
            error: x.error.as_ref().map(json_text),
            parent_execution: x.parent.as_ref().map(|p| id_text(p.execution.0)),
            parent_task: x.parent.as_ref().map(|p| p.task.clone()),
            parent_item: x.parent.as_ref().and_then(|p| p.item).map(i64::from),
            retry_of: x.retry_of.map(|r: ExecutionId| id_text(r.0)),
            created_at: x.created_at.0,
            started_at: x.started_at.map(|t| t.0),
            ended_at: x.ended_at.map(|t| t.0),
            updated_at: x.updated_at.0,
        }
    }
}

struct TaskRunRow {
    execution: Arc<str>,
    task: Arc<str>,
    item: i64,
    status: Arc<str>,
    attempts: i64,
    output: Option<String>,
    error: Option<String>,
    skip_reason: Option<String>,
    started_at: Option<i64>,
    ended_at: Option<i64>,
}

impl TaskRunRow {
    fn new(t: &TaskRunRecord, shared: &mut Shared) -> TaskRunRow {
        TaskRunRow {
            execution: shared.id(t.execution.0),
            task: shared.text(&t.task),
            item: t.item.map_or(TASK_ITSELF, i64::from),
            status: shared.text(t.status.as_str()),
            attempts: i64::from(t.attempts),
            output: t.output.as_ref().map(json_text),
            error: t.error.as_ref().map(json_text),
            skip_reason: t.skip_reason.clone(),
            started_at: t.started_at.map(|t| t.0),
            ended_at: t.ended_at.map(|t| t.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_powers_of_two_within_the_bind_limit() {
        assert_eq!(max_rows(EVENT_WIDTH), MAX_ROWS);
        assert_eq!(max_rows(TASK_RUN_WIDTH), MAX_ROWS);
        assert_eq!(max_rows(EXECUTION_WIDTH), 1024);
        assert_eq!(max_rows(40), 512);
        for width in [EVENT_WIDTH, TASK_RUN_WIDTH, EXECUTION_WIDTH] {
            assert!(max_rows(width) * width <= MAX_BIND_PARAMS);
        }
        let sizes: Vec<usize> = statement_sizes(4096 * 2 + 100, 4096).collect();
        assert_eq!(sizes, [4096, 4096, 64, 32, 4]);
        assert_eq!(statement_sizes(0, 4096).count(), 0);
        assert_eq!(statement_sizes(1, 4096).collect::<Vec<_>>(), [1]);
        let n = 100_000;
        assert_eq!(statement_sizes(n, 4096).sum::<usize>(), n);
    }

    #[test]
    fn the_last_row_of_a_key_wins() {
        let rows = [(1, "a"), (2, "b"), (1, "c"), (3, "d"), (2, "e")];
        let kept: Vec<&str> = last_of_each_key(&rows, |r| r.0).map(|r| r.1).collect();
        assert_eq!(kept, ["c", "d", "e"]);
    }
}
