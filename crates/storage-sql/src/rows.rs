//! Rows to records: the column lists that `SELECT`s name, and the decoding of a row of
//! any dialect into a record of `harmonia-storage`.
//!
//! Nothing read from the database is trusted: every value goes through [`Columns`],
//! whose getters (on the dialect's two readers, text and integers) turn a wrong type,
//! an unexpected NULL, an unparsable uuid, status or JSON text, or an out-of-range
//! number into [`Error::Corrupt`] naming `table.column`. No `unwrap` on stored data.
//!
//! Storage conventions decoded here (and encoded in `write`): ids are hyphenated
//! lowercase uuid text, JSON is text, timestamps are integer milliseconds, booleans are
//! integers 0 and 1, a task run's `item` is -1 for the task itself, a parent link is
//! three columns that are all NULL or all set (the item may be NULL), and an origin is
//! two (`origin_kind`, `origin_by`), whose `by` is NULL when the kind is.

use std::str::FromStr;

use harmonia_storage::{
    Error, EventRecord, ExecutionId, ExecutionRecord, IdempotencyRecord, InboxEvent, Origin,
    ParentLink, Result, TaskRunRecord, TimerRecord, Timestamp, TokenRecord, WorkflowId,
};
use serde_json::Value;
use uuid::Uuid;

use crate::dialect::{Dialect, Row};
use crate::error::corrupt;

/// The columns of `events`, in the order `SELECT`s name them (a macro, so that queries
/// can be `concat!`ed into `&'static str`s).
macro_rules! event_columns {
    () => {
        "execution, seq, at, kind, data"
    };
}

/// The columns of `executions`.
macro_rules! execution_columns {
    () => {
        "id, workflow_id, workflow, version, status, outputs, error, \
         parent_execution, parent_task, parent_item, retry_of, origin_kind, origin_by, \
         created_at, started_at, ended_at, updated_at, owner, fence, parked"
    };
}

/// What `SELECT`s of executions read: the row and its inputs (kept in their own table,
/// written once), `FROM` [`executions_with_inputs`].
macro_rules! execution_read_columns {
    () => {
        concat!($crate::rows::execution_columns!(), ", inputs")
    };
}

/// The executions with their inputs.
macro_rules! executions_with_inputs {
    () => {
        "executions LEFT JOIN execution_inputs ON execution_inputs.execution = executions.id"
    };
}

/// The columns of `task_runs`.
macro_rules! task_run_columns {
    () => {
        "execution, task, item, status, attempts, output, error, skip_reason, \
         started_at, ended_at, wait, wait_for, wait_key"
    };
}

/// The columns of `timers`.
macro_rules! timer_columns {
    () => {
        "execution, key, due"
    };
}

/// The columns of `inbox`.
macro_rules! inbox_columns {
    () => {
        "seq, source, id, type, received_at, event, routed_at, deliveries"
    };
}

/// The columns of `idempotency`.
macro_rules! idempotency_columns {
    () => {
        "scope, key, body_hash, execution, created_at, expires_at"
    };
}

pub(crate) use {
    event_columns, execution_columns, execution_read_columns, executions_with_inputs,
    idempotency_columns, inbox_columns, task_run_columns, timer_columns,
};

/// The value of `item` that stands for "the task itself" (`item: None`).
pub(crate) const TASK_ITSELF: i64 = -1;

/// Typed, checked access to the columns of one row of `table`.
pub(crate) struct Columns<'r, D: Dialect> {
    row: &'r Row<D>,
    table: &'static str,
}

impl<'r, D: Dialect> Columns<'r, D> {
    pub(crate) fn new(row: &'r Row<D>, table: &'static str) -> Columns<'r, D> {
        Columns { row, table }
    }

    pub(crate) fn corrupt(&self, column: &str, problem: impl std::fmt::Display) -> Error {
        corrupt(self.table, column, problem)
    }

    pub(crate) fn opt_text(&self, column: &str) -> Result<Option<&'r str>> {
        D::text(self.row, column).map_err(|e| self.corrupt(column, e))
    }

    pub(crate) fn text(&self, column: &str) -> Result<&'r str> {
        self.opt_text(column)?
            .ok_or_else(|| self.corrupt(column, "unexpected NULL"))
    }

    pub(crate) fn string(&self, column: &str) -> Result<String> {
        self.text(column).map(str::to_owned)
    }

    pub(crate) fn opt_string(&self, column: &str) -> Result<Option<String>> {
        Ok(self.opt_text(column)?.map(str::to_owned))
    }

    pub(crate) fn opt_int(&self, column: &str) -> Result<Option<i64>> {
        D::int(self.row, column).map_err(|e| self.corrupt(column, e))
    }

    pub(crate) fn int(&self, column: &str) -> Result<i64> {
        self.opt_int(column)?
            .ok_or_else(|| self.corrupt(column, "unexpected NULL"))
    }

    fn to_u32(&self, column: &str, n: i64) -> Result<u32> {
        u32::try_from(n).map_err(|_| self.corrupt(column, format!("{n} is out of range")))
    }

    pub(crate) fn u32(&self, column: &str) -> Result<u32> {
        self.to_u32(column, self.int(column)?)
    }

    pub(crate) fn opt_u32(&self, column: &str) -> Result<Option<u32>> {
        self.opt_int(column)?
            .map(|n| self.to_u32(column, n))
            .transpose()
    }

    pub(crate) fn bool(&self, column: &str) -> Result<bool> {
        match self.int(column)? {
            0 => Ok(false),
            1 => Ok(true),
            n => Err(self.corrupt(column, format!("{n} is not a boolean (0 or 1)"))),
        }
    }

    pub(crate) fn u64(&self, column: &str) -> Result<u64> {
        let n = self.int(column)?;
        u64::try_from(n).map_err(|_| self.corrupt(column, format!("{n} is out of range")))
    }

    pub(crate) fn time(&self, column: &str) -> Result<Timestamp> {
        self.int(column).map(Timestamp)
    }

    pub(crate) fn opt_time(&self, column: &str) -> Result<Option<Timestamp>> {
        Ok(self.opt_int(column)?.map(Timestamp))
    }

    fn parse_uuid(&self, column: &str, s: &str) -> Result<Uuid> {
        Uuid::parse_str(s).map_err(|e| self.corrupt(column, format!("invalid uuid `{s}`: {e}")))
    }

    pub(crate) fn uuid(&self, column: &str) -> Result<Uuid> {
        self.parse_uuid(column, self.text(column)?)
    }

    pub(crate) fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>> {
        self.opt_text(column)?
            .map(|s| self.parse_uuid(column, s))
            .transpose()
    }

    fn parse_json(&self, column: &str, s: &str) -> Result<Value> {
        harmonia_storage::json::parse(s)
            .map_err(|e| self.corrupt(column, format!("invalid JSON: {e}")))
    }

    /// A JSON column kept as text (checked, not decoded).
    pub(crate) fn raw_json(&self, column: &str) -> Result<harmonia_storage::json::RawJson> {
        harmonia_storage::json::RawJson::parse(self.text(column)?.to_owned())
            .map_err(|e| self.corrupt(column, format!("invalid JSON: {e}")))
    }

    pub(crate) fn json(&self, column: &str) -> Result<Value> {
        self.parse_json(column, self.text(column)?)
    }

    pub(crate) fn opt_json(&self, column: &str) -> Result<Option<Value>> {
        self.opt_text(column)?
            .map(|s| self.parse_json(column, s))
            .transpose()
    }

    /// A status (or any enum spelled as text) parsed with its `FromStr`.
    pub(crate) fn parsed<T: FromStr<Err = String>>(&self, column: &str) -> Result<T> {
        self.text(column)?
            .parse()
            .map_err(|e: String| self.corrupt(column, e))
    }
}

/// A row of `events` ([`event_columns`]).
pub(crate) fn event<D: Dialect>(row: &Row<D>) -> Result<EventRecord> {
    let c = Columns::<D>::new(row, "events");
    Ok(EventRecord {
        execution: ExecutionId(c.uuid("execution")?),
        seq: c.u64("seq")?,
        at: c.time("at")?,
        kind: c.string("kind")?,
        data: c.raw_json("data")?,
    })
}

/// A row of `executions` ([`execution_columns`]).
pub(crate) fn execution<D: Dialect>(row: &Row<D>) -> Result<ExecutionRecord> {
    let c = Columns::<D>::new(row, "executions");
    let parent = match (
        c.opt_uuid("parent_execution")?,
        c.opt_string("parent_task")?,
    ) {
        (Some(execution), Some(task)) => Some(ParentLink {
            execution: ExecutionId(execution),
            task,
            item: c.opt_u32("parent_item")?,
        }),
        (None, None) => None,
        (Some(_), None) => return Err(c.corrupt("parent_task", "NULL beside a parent execution")),
        (None, Some(_)) => {
            return Err(c.corrupt("parent_execution", "NULL beside a parent task"));
        }
    };
    // An origin is two columns: a kind (NULL for executions recorded before origins
    // were), and whom, which only a kind may have.
    let origin = match (c.opt_text("origin_kind")?, c.opt_string("origin_by")?) {
        (Some(kind), by) => Some(Origin {
            kind: kind
                .parse()
                .map_err(|e: String| c.corrupt("origin_kind", e))?,
            by,
        }),
        (None, None) => None,
        (None, Some(_)) => return Err(c.corrupt("origin_kind", "NULL beside an origin_by")),
    };
    Ok(ExecutionRecord {
        id: ExecutionId(c.uuid("id")?),
        workflow_id: WorkflowId(c.uuid("workflow_id")?),
        workflow: c.string("workflow")?,
        version: c.u32("version")?,
        status: c.parsed("status")?,
        // NULL when no inputs row exists: one is written with every new execution.
        inputs: std::sync::Arc::new(c.opt_json("inputs")?.unwrap_or(serde_json::Value::Null)),
        outputs: c.opt_json("outputs")?,
        error: c.opt_json("error")?,
        parent,
        retry_of: c.opt_uuid("retry_of")?.map(ExecutionId),
        origin,
        created_at: c.time("created_at")?,
        started_at: c.opt_time("started_at")?,
        ended_at: c.opt_time("ended_at")?,
        updated_at: c.time("updated_at")?,
        owner: c.opt_string("owner")?,
        fence: c.u64("fence")?,
        parked: c.bool("parked")?,
    })
}

/// A row of `task_runs` ([`task_run_columns`]).
pub(crate) fn task_run<D: Dialect>(row: &Row<D>) -> Result<TaskRunRecord> {
    let c = Columns::<D>::new(row, "task_runs");
    let item = match c.int("item")? {
        TASK_ITSELF => None,
        n => Some(u32::try_from(n).map_err(|_| c.corrupt("item", format!("{n} is out of range")))?),
    };
    Ok(TaskRunRecord {
        execution: ExecutionId(c.uuid("execution")?),
        task: c.string("task")?,
        item,
        status: c.parsed("status")?,
        attempts: c.u32("attempts")?,
        output: c.opt_json("output")?,
        error: c.opt_json("error")?,
        skip_reason: c.opt_string("skip_reason")?,
        started_at: c.opt_time("started_at")?,
        ended_at: c.opt_time("ended_at")?,
        wait: c.opt_json("wait")?,
        wait_for: c.opt_string("wait_for")?,
        wait_key: c.opt_string("wait_key")?,
    })
}

/// A row of `timers` ([`timer_columns`]).
pub(crate) fn timer<D: Dialect>(row: &Row<D>) -> Result<TimerRecord> {
    let c = Columns::<D>::new(row, "timers");
    Ok(TimerRecord {
        execution: ExecutionId(c.uuid("execution")?),
        key: c.string("key")?,
        due: c.time("due")?,
    })
}

/// A row of `inbox` ([`inbox_columns`]).
pub(crate) fn inbox_event<D: Dialect>(row: &Row<D>) -> Result<InboxEvent> {
    let c = Columns::<D>::new(row, "inbox");
    Ok(InboxEvent {
        seq: c.u64("seq")?,
        source: c.string("source")?,
        id: c.string("id")?,
        ty: c.string("type")?,
        received_at: c.time("received_at")?,
        event: c.raw_json("event")?,
        routed_at: c.opt_time("routed_at")?,
        deliveries: c.opt_json("deliveries")?,
    })
}

/// A row of `idempotency` ([`idempotency_columns`]).
pub(crate) fn idempotency<D: Dialect>(row: &Row<D>) -> Result<IdempotencyRecord> {
    let c = Columns::<D>::new(row, "idempotency");
    Ok(IdempotencyRecord {
        scope: c.string("scope")?,
        key: c.string("key")?,
        body_hash: c.string("body_hash")?,
        execution: ExecutionId(c.uuid("execution")?),
        created_at: c.time("created_at")?,
        expires_at: c.time("expires_at")?,
    })
}

/// Decodes a `tokens` row.
pub(crate) fn token<D: Dialect>(row: &Row<D>) -> Result<TokenRecord> {
    let c = Columns::<D>::new(row, "tokens");
    Ok(TokenRecord {
        id: c.string("id")?,
        name: c.string("name")?,
        role: c.string("role")?,
        hash: c.string("hash")?,
        created_at: c.time("created_at")?,
    })
}

/// Decodes every row with `decode`, stopping at the first that fails.
pub(crate) fn all<D: Dialect, T>(
    rows: &[Row<D>],
    decode: fn(&Row<D>) -> Result<T>,
) -> Result<Vec<T>> {
    rows.iter().map(decode).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_messages_name_the_table_and_column() {
        let e = corrupt("executions", "status", "unknown status `done`");
        assert_eq!(
            e.to_string(),
            "corrupt record: executions.status: unknown status `done`"
        );
    }
}
