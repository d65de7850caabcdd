//! Writing a [`CommitBatch`]: encoding its records as rows and turning them into a few
//! large multi-row statements.
//!
//! A batch can be big (a fan-out to 100,000 tasks commits ~200,000 events and ~100,000
//! task rows in one scheduler tick), so each table is written with multi-row
//! `INSERT ... VALUES (...), (...)` statements, built for the dialect (its
//! placeholders, its upsert syntax, its limit on bound values). Shapes:
//!
//! - `events`: a plain `INSERT`; an existing `(execution, seq)` violates the primary
//!   key, which the caller turns into [`Error::Conflict`](harmonia_storage::Error).
//! - `executions`, `task_runs`: upserts ([`Dialect::upsert`]: `INSERT ... ON CONFLICT
//!   (key) DO UPDATE SET col = excluded.col, ...`). Rows of a batch that share a key are
//!   reduced to the last one first: PostgreSQL refuses to update one row twice in a
//!   statement, and the last write is the one that must win.
//!   Where assigning an indexed column rewrites its index entry whatever the value
//!   ([`Dialect::ASSIGNED_INDEXES_REWRITTEN`]: SQLite), the execution upsert assigns
//!   neither `status` nor `owner`; a second statement sets them on the rows where they
//!   differ (`UPDATE ... FROM (VALUES ...) ... WHERE status IS NOT ... OR owner IS NOT
//!   ...`). A step of a running execution changes neither, and its commit no longer
//!   rewrites two index pages (`executions_by_status`,
//!   `executions_unfinished_by_owner`).
//! - `execution_inputs`: insert-or-ignore ([`Dialect::insert_ignore`]): inputs are
//!   written once.
//! - `timers`: the batch's clears (`DELETE ... WHERE (execution = ? AND key = ?) OR
//!   ...`, which SQLite serves from the primary key once per pair, where a row-value
//!   `IN (VALUES ...)` scans the table), then its sets (upserts by (execution, key), the
//!   last of a key winning), then the timers of the executions whose row the batch
//!   leaves ended (`DELETE ... WHERE execution IN (...)`): in that order, so that a key
//!   both cleared and set stays set and an ended execution keeps none.
//!
//! Idempotency records are not written here: whether each is an insert or a replace
//! depends on what the commit read in its transaction (see `log.rs`).
//!
//! Statement sizes: at most [`Dialect::MAX_BIND_PARAMS`] bound values and [`MAX_ROWS`]
//! rows per statement, and a power of two rows or at most eight: a batch is split into
//! full statements, then the binary digits of the rest until eight rows or fewer are
//! left, which go in one statement. So every statement has one of eighteen shapes per
//! table, all of which the connection keeps prepared (its statement cache holds 100),
//! instead of one new shape (and a fresh `prepare` of a statement with thousands of
//! values) per batch size. Measured with the
//! `commit_throughput` example: a batch of 100 events and 100 task rows commits about
//! 15% faster this way than with one statement per table prepared each time.
//!
//! On SQLite ([`Dialect::BATCH_SIZED_STATEMENTS`]) a full statement is also at most
//! about a sixteenth of the batch (and at least 64 rows): preparing a shape costs
//! about as much as parsing its rows, once per connection, and a short-lived process
//! prepares every shape it uses. A `harmonia run` of 1,000 declared tasks took about
//! 8% less time this way (docs/performance.md); the largest batches still use the
//! largest statements.
//!
//! Everything here is CPU work on values the caller owns: [`Statements::encode`] runs
//! before the writer connection is taken, so the connection is held only to execute.
//! Text that repeats from row to row (ids, kinds, statuses, task names) is bound as
//! shared [`Value::Shared`] text, not copied per row.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

use harmonia_storage::{
    CommitBatch, EventRecord, ExecutionId, ExecutionRecord, Result, TaskRunRecord, commit,
};
use uuid::Uuid;

use crate::dialect::{Connection, Dialect, Value};
use crate::error::backend_msg;
use crate::rows::{TASK_ITSELF, event_columns, execution_columns, task_run_columns, timer_columns};
use crate::sql::{MAX_ANY_OF, Sql};

/// Columns per row of each table (the number of values one row binds).
const EVENT_WIDTH: usize = 5;
const EXECUTION_WIDTH: usize = 20;
const INPUTS_WIDTH: usize = 2;
const TASK_RUN_WIDTH: usize = 13;
const TIMER_WIDTH: usize = 3;
const ENDED_WIDTH: usize = 1;

/// The most rows in one statement, whatever the width: statements of 256 to 4,096
/// rows measured the same, and smaller ones keep the SQL text and the prepared
/// statements (cached per shape) small.
const MAX_ROWS: usize = 1024;

/// The most rows of a table of `width` columns in one statement: the largest power of
/// two whose values fit in `max_params`, at most [`MAX_ROWS`].
const fn max_rows(max_params: usize, width: usize) -> usize {
    let fit = max_params / width;
    let pow2 = if fit == 0 {
        1
    } else {
        1 << (usize::BITS - 1 - fit.leading_zeros())
    };
    if pow2 < MAX_ROWS { pow2 } else { MAX_ROWS }
}

/// The fewest rows a batch-sized statement is allowed (see [`batch_sized_rows`]).
const MIN_BATCH_SIZED_ROWS: usize = 64;

/// The most rows per statement for a batch of `n` rows where statements are sized by
/// the batch ([`Dialect::BATCH_SIZED_STATEMENTS`]): the largest power of two at most a
/// sixteenth of the batch, at least [`MIN_BATCH_SIZED_ROWS`] and at most `most`. A
/// batch of 1,000 task rows then prepares shapes of 64 rows and fewer (127 rows of SQL
/// in all, against 1,023 with shapes up to 512), and one of 100,000 still runs in
/// statements of the most rows allowed.
fn batch_sized_rows(n: usize, most: usize) -> usize {
    let sixteenth = (n / 16).max(1);
    let pow2 = 1usize << (usize::BITS - 1 - sixteenth.leading_zeros());
    pow2.clamp(MIN_BATCH_SIZED_ROWS.min(most), most)
}

/// The most rows that are written by one statement of their own size, whatever it is
/// (see [`statement_sizes`]).
const EXACT_UP_TO: usize = 8;

/// The sizes of the statements that write `n` rows, at most `max` (a power of two) per
/// statement: as many full statements as fit, then the powers of two of the rest,
/// largest first, until what is left is at most [`EXACT_UP_TO`] rows, which go in one
/// statement. A step of a chain commits three events: one statement, not two (2 + 1),
/// each a trip through SQLite's statement machinery. Shapes per table: 1 to 8 rows,
/// then powers of two.
fn statement_sizes(n: usize, max: usize) -> impl Iterator<Item = usize> {
    let full = n / max;
    let mut rest = n % max;
    std::iter::repeat_n(max, full).chain(std::iter::from_fn(move || {
        if rest == 0 {
            return None;
        }
        let size = if rest <= EXACT_UP_TO {
            rest
        } else {
            1usize << (usize::BITS - 1 - rest.leading_zeros())
        };
        rest -= size;
        Some(size)
    }))
}

/// Which table a statement writes; an error on `Events` may be a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Events,
    Executions,
    ExecutionInputs,
    TaskRuns,
    Timers,
}

/// The statements that write one batch, in order: events first (a conflict is found
/// before anything else is written), then executions, task runs, and timers.
pub(crate) struct Statements<D: Dialect> {
    statements: Vec<(Table, Sql<D>)>,
}

/// The columns of `executions` that an upsert replaces: what changes over an
/// execution's life. Its identity (workflow id, name and version, creation time,
/// parent, the execution it retries) is written with its first row and kept (the
/// `ExecutionLog` contract): an upsert that assigns an indexed column rewrites that
/// index's entry even when the value is the same, and three of the table's indexes
/// are on identity columns, so assigning them cost three more pages in the
/// write-ahead log at every step.
const EXECUTION_UPDATES: [&str; 9] = [
    "status",
    "outputs",
    "error",
    "started_at",
    "ended_at",
    "updated_at",
    "owner",
    "fence",
    "parked",
];

/// The indexed columns of [`EXECUTION_UPDATES`] that a step seldom changes; see the
/// module doc.
const EXECUTION_INDEXED_UPDATES: [&str; 2] = ["status", "owner"];

/// Values per row of the statement that sets [`EXECUTION_INDEXED_UPDATES`]: the id,
/// then those columns.
const EXECUTION_INDEXED_WIDTH: usize = 3;

/// The columns of `task_runs` that an upsert replaces: all but the key and the
/// execution's.
const TASK_RUN_UPDATES: [&str; 10] = [
    "status",
    "attempts",
    "output",
    "error",
    "skip_reason",
    "started_at",
    "ended_at",
    "wait",
    "wait_for",
    "wait_key",
];

impl<D: Dialect> Statements<D> {
    /// Encodes `batch` (all of it, before anything touches the database).
    pub(crate) fn encode(batch: &CommitBatch) -> Result<Statements<D>> {
        let mut shared = Shared::default();
        let mut out = Statements {
            statements: Vec::new(),
        };

        let events = batch
            .events
            .iter()
            .map(|e| EventRow::new(e, &mut shared))
            .collect::<Result<Vec<_>>>()?;
        out.push(
            Table::Events,
            events,
            EVENT_WIDTH,
            concat!("INSERT INTO events (", event_columns!(), ") VALUES "),
            || "",
            |r| {
                [
                    r.execution.into(),
                    r.seq.into(),
                    r.at.into(),
                    r.kind.into(),
                    r.data.into(),
                ]
            },
        );

        let executions = last_of_each_key(&batch.executions, |x| x.id)
            .map(ExecutionRow::new)
            .collect::<Result<Vec<_>>>()?;
        let indexed: Vec<[Value; EXECUTION_INDEXED_WIDTH]> = if D::ASSIGNED_INDEXES_REWRITTEN {
            executions
                .iter()
                .map(|r| {
                    [
                        r.id.clone().into(),
                        r.status.clone().into(),
                        r.owner.clone().into(),
                    ]
                })
                .collect()
        } else {
            Vec::new()
        };
        let upsert = || {
            if D::ASSIGNED_INDEXES_REWRITTEN {
                let updates: Vec<&str> = EXECUTION_UPDATES
                    .into_iter()
                    .filter(|c| !EXECUTION_INDEXED_UPDATES.contains(c))
                    .collect();
                D::upsert("id", &updates)
            } else {
                D::upsert("id", &EXECUTION_UPDATES)
            }
        };
        out.push(
            Table::Executions,
            executions,
            EXECUTION_WIDTH,
            concat!(
                "INSERT INTO executions (",
                execution_columns!(),
                ") VALUES "
            ),
            upsert,
            |r| {
                [
                    r.id.into(),
                    r.workflow_id.into(),
                    r.workflow.into(),
                    r.version.into(),
                    r.status.into(),
                    r.outputs.into(),
                    r.error.into(),
                    r.parent_execution.into(),
                    r.parent_task.into(),
                    r.parent_item.into(),
                    r.retry_of.into(),
                    r.origin_kind.into(),
                    r.origin_by.into(),
                    r.created_at.into(),
                    r.started_at.into(),
                    r.ended_at.into(),
                    r.updated_at.into(),
                    r.owner.into(),
                    r.fence.into(),
                    r.parked.into(),
                ]
            },
        );

        out.push(
            Table::Executions,
            indexed,
            EXECUTION_INDEXED_WIDTH,
            "UPDATE executions SET status = v.column2, owner = v.column3 FROM (VALUES ",
            || {
                ") AS v WHERE executions.id = v.column1 \
                 AND (executions.status IS NOT v.column2 OR executions.owner IS NOT v.column3)"
            },
            |r| r,
        );

        // Inputs are written with an execution's first row, never again (see the
        // `ExecutionLog` contract); `null` means "as stored".
        let inputs: Vec<(String, String)> = last_of_each_key(&batch.executions, |x| x.id)
            .filter(|x| !x.inputs.is_null())
            .map(|x| (id_text(x.id.0), json_text(&x.inputs)))
            .collect();
        out.push(
            Table::ExecutionInputs,
            inputs,
            INPUTS_WIDTH,
            "INSERT INTO execution_inputs (execution, inputs) VALUES ",
            || D::insert_ignore("execution"),
            |(execution, inputs)| [execution.into(), inputs.into()],
        );

        let task_runs: Vec<TaskRunRow> =
            last_of_each_key(&batch.task_runs, |t| (t.execution, t.task.as_str(), t.item))
                .map(|t| TaskRunRow::new(t, &mut shared))
                .collect();
        out.push(
            Table::TaskRuns,
            task_runs,
            TASK_RUN_WIDTH,
            concat!("INSERT INTO task_runs (", task_run_columns!(), ") VALUES "),
            || D::upsert("execution, task, item", &TASK_RUN_UPDATES),
            |r| {
                [
                    r.execution.into(),
                    r.task.into(),
                    r.item.into(),
                    r.status.into(),
                    r.attempts.into(),
                    r.output.into(),
                    r.error.into(),
                    r.skip_reason.into(),
                    r.started_at.into(),
                    r.ended_at.into(),
                    r.wait.into(),
                    r.wait_for.into(),
                    r.wait_key.into(),
                ]
            },
        );

        let cleared: Vec<[Value; 2]> = batch
            .timers_cleared
            .iter()
            .map(|(execution, key)| [shared.id(execution.0).into(), key.clone().into()])
            .collect();
        let mut cleared = cleared.into_iter();
        for size in statement_sizes(cleared.len(), MAX_ANY_OF) {
            let mut sql = Sql::new("DELETE FROM timers WHERE ");
            sql.any_of(["execution", "key"], cleared.by_ref().take(size));
            out.statements.push((Table::Timers, sql));
        }

        let set: Vec<(Arc<str>, String, i64)> =
            last_of_each_key(&batch.timers_set, |t| (t.execution, t.key.as_str()))
                .map(|t| (shared.id(t.execution.0), t.key.clone(), t.due.0))
                .collect();
        out.push(
            Table::Timers,
            set,
            TIMER_WIDTH,
            concat!("INSERT INTO timers (", timer_columns!(), ") VALUES "),
            || D::upsert("execution, key", &["due"]),
            |(execution, key, due)| [execution.into(), key.into(), due.into()],
        );

        let ended: Vec<String> = commit::ended(batch)
            .into_iter()
            .map(|id| id_text(id.0))
            .collect();
        out.push(
            Table::Timers,
            ended,
            ENDED_WIDTH,
            "DELETE FROM timers WHERE execution IN (",
            || ")",
            |execution| [execution.into()],
        );

        Ok(out)
    }

    /// Appends the statements that write `rows` of `width` columns: `head` (`INSERT
    /// INTO t (cols) VALUES `), up to the most rows that fit, `tail` (the `ON CONFLICT`
    /// clause, if any). A `DELETE` by one column uses the same shape: a head that ends
    /// in `IN (`, the rows (each a parenthesized value), and `)`. The tail is made only
    /// when there are rows: a step writes two or three of the eight tables' shapes.
    fn push<R, T: AsRef<str>, const N: usize>(
        &mut self,
        table: Table,
        rows: Vec<R>,
        width: usize,
        head: &'static str,
        tail: impl FnOnce() -> T,
        values: impl Fn(R) -> [Value; N],
    ) {
        debug_assert_eq!(width, N);
        if rows.is_empty() {
            return;
        }
        let tail = tail();
        let tail = tail.as_ref();
        let mut rows = rows.into_iter();
        let mut most = max_rows(D::MAX_BIND_PARAMS, width);
        if D::BATCH_SIZED_STATEMENTS {
            most = batch_sized_rows(rows.len(), most);
        }
        for size in statement_sizes(rows.len(), most) {
            // A row is `(?, ?, ...)` and a separator; a dialect with longer
            // placeholders grows the text a few times more.
            let text = head.len() + size * (3 * width + 2) + tail.len();
            let mut sql = Sql::with_capacity(head, text, size * width);
            for (i, row) in rows.by_ref().take(size).enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.row(values(row));
            }
            sql.push(tail);
            self.statements.push((table, sql));
        }
    }

    /// The statements as text and values, in order, each with its table.
    pub(crate) fn into_parts(self) -> Vec<(Table, std::borrow::Cow<'static, str>, Vec<Value>)> {
        self.statements
            .into_iter()
            .map(|(table, sql)| {
                let (text, values) = sql.into_parts();
                (table, text, values)
            })
            .collect()
    }

    /// Runs the statements on `conn` (inside the caller's transaction). On failure,
    /// says which table's statement failed, with the database's error.
    pub(crate) async fn execute(
        self,
        conn: &mut Connection<D>,
    ) -> Result<(), (Table, sqlx::Error)> {
        for (table, sql) in self.statements {
            sql.execute(&mut *conn).await.map_err(|e| (table, e))?;
        }
        Ok(())
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
    status: String,
    outputs: Option<String>,
    error: Option<String>,
    parent_execution: Option<String>,
    parent_task: Option<String>,
    parent_item: Option<i64>,
    retry_of: Option<String>,
    origin_kind: Option<&'static str>,
    origin_by: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    ended_at: Option<i64>,
    updated_at: i64,
    owner: Option<String>,
    fence: i64,
    parked: bool,
}

impl ExecutionRow {
    fn new(x: &ExecutionRecord) -> Result<ExecutionRow> {
        let fence = i64::try_from(x.fence).map_err(|_| {
            backend_msg(format!(
                "execution {}: fence {} does not fit a 64-bit signed integer",
                x.id, x.fence
            ))
        })?;
        Ok(ExecutionRow {
            id: id_text(x.id.0),
            workflow_id: id_text(x.workflow_id.0),
            workflow: x.workflow.clone(),
            version: i64::from(x.version),
            status: x.status.as_str().to_owned(),
            outputs: x.outputs.as_ref().map(json_text),
            error: x.error.as_ref().map(json_text),
            parent_execution: x.parent.as_ref().map(|p| id_text(p.execution.0)),
            parent_task: x.parent.as_ref().map(|p| p.task.clone()),
            parent_item: x.parent.as_ref().and_then(|p| p.item).map(i64::from),
            retry_of: x.retry_of.map(|r: ExecutionId| id_text(r.0)),
            origin_kind: x.origin.as_ref().map(|o| o.kind.as_str()),
            origin_by: x.origin.as_ref().and_then(|o| o.by.clone()),
            created_at: x.created_at.0,
            started_at: x.started_at.map(|t| t.0),
            ended_at: x.ended_at.map(|t| t.0),
            updated_at: x.updated_at.0,
            owner: x.owner.clone(),
            fence,
            parked: x.parked,
        })
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
    wait: Option<String>,
    wait_for: Option<Arc<str>>,
    wait_key: Option<Arc<str>>,
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
            wait: t.wait.as_ref().map(json_text),
            wait_for: t.wait_for.as_deref().map(|w| shared.text(w)),
            wait_key: t.wait_key.as_deref().map(|k| shared.text(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_powers_of_two_within_the_bind_limit() {
        let max = crate::SqliteDialect::MAX_BIND_PARAMS;
        assert_eq!(max_rows(max, EVENT_WIDTH), MAX_ROWS);
        assert_eq!(max_rows(max, TASK_RUN_WIDTH), MAX_ROWS);
        assert_eq!(max_rows(max, EXECUTION_WIDTH), 1024);
        assert_eq!(max_rows(max, 40), 512);
        assert_eq!(max_rows(1_000, 15), 64);
        for width in [
            EVENT_WIDTH,
            TASK_RUN_WIDTH,
            EXECUTION_WIDTH,
            TIMER_WIDTH,
            ENDED_WIDTH,
        ] {
            assert!(max_rows(max, width) * width <= max);
        }
        let sizes: Vec<usize> = statement_sizes(4096 * 2 + 100, 4096).collect();
        assert_eq!(sizes, [4096, 4096, 64, 32, 4]);
        assert_eq!(statement_sizes(0, 4096).count(), 0);
        assert_eq!(statement_sizes(1, 4096).collect::<Vec<_>>(), [1]);
        // A few rows left go in one statement of their own size.
        assert_eq!(statement_sizes(3, 64).collect::<Vec<_>>(), [3]);
        assert_eq!(statement_sizes(8, 64).collect::<Vec<_>>(), [8]);
        assert_eq!(statement_sizes(64 + 7, 64).collect::<Vec<_>>(), [64, 7]);
        assert_eq!(statement_sizes(29, 64).collect::<Vec<_>>(), [16, 8, 5]);
        for n in 0..3_000 {
            let sizes: Vec<usize> = statement_sizes(n, 1024).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(
                sizes
                    .iter()
                    .all(|s| *s <= EXACT_UP_TO || (s.is_power_of_two() && *s <= 1024)),
                "{n}: {sizes:?}"
            );
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{n}: {sizes:?}");
        }
        let n = 100_000;
        assert_eq!(statement_sizes(n, 4096).sum::<usize>(), n);
    }

    #[test]
    fn batch_sized_statements_scale_with_the_batch_within_bounds() {
        // A sixteenth of the batch, as a power of two, between 64 and the most allowed.
        assert_eq!(batch_sized_rows(0, 1024), 64);
        assert_eq!(batch_sized_rows(10, 1024), 64);
        assert_eq!(batch_sized_rows(1_000, 1024), 64);
        assert_eq!(batch_sized_rows(3_000, 1024), 128);
        assert_eq!(batch_sized_rows(16_384, 1024), 1024);
        assert_eq!(batch_sized_rows(200_000, 1024), 1024);
        // Never more than the bind limit allows, even below the floor.
        assert_eq!(batch_sized_rows(1_000, 16), 16);
        // A batch below the floor keeps the binary digits of its size down to the
        // last few rows, which go together.
        let sizes: Vec<usize> = statement_sizes(45, batch_sized_rows(45, 1024)).collect();
        assert_eq!(sizes, [32, 8, 5]);
        let n = 1_000;
        let sizes: Vec<usize> = statement_sizes(n, batch_sized_rows(n, 1024)).collect();
        assert_eq!(sizes.iter().sum::<usize>(), n);
        assert!(sizes.iter().all(|s| *s <= 64), "{sizes:?}");
    }

    #[test]
    fn the_last_row_of_a_key_wins() {
        let rows = [(1, "a"), (2, "b"), (1, "c"), (3, "d"), (2, "e")];
        let kept: Vec<&str> = last_of_each_key(&rows, |r| r.0).map(|r| r.1).collect();
        assert_eq!(kept, ["c", "d", "e"]);
    }
}
