//! The execution queries role: reading the read models that [`ExecutionLog::commit`]
//! writes (executions and their task runs), for the API, recovery and retries.
//!
//! Contract, checked for every backend by the shared suite (`suite::queries`):
//! - A row reads back exactly as it was last committed (its `inputs` as first written).
//! - `executions` lists newest first (ids sort by creation), filtered by workflow name,
//!   status, id prefix, origin kinds (an execution without an origin matches no kind),
//!   the trigger that started it (an origin of a trigger's kind with that `by`), text
//!   its inputs' stored JSON contains (case-sensitive, literal: `%`, `_` and `*` are
//!   plain characters) and a creation-time window (`since` inclusive, `until`
//!   exclusive), after a cursor (the id of the previous page's last execution), at most
//!   `limit` (0 means [`DEFAULT_LIMIT`](crate::DEFAULT_LIMIT)).
//! - `unfinished` lists the executions whose status is not terminal (pending, running,
//!   paused), oldest first: what the engine resumes after a restart.
//! - `task_runs` orders by task name (bytewise), then the task's own row before its
//!   fan-out items, by index.
//!
//! Which node owns an execution, and claiming it, is the [`Nodes`](crate::Nodes) role's.
//!
//! [`ExecutionLog::commit`]: crate::ExecutionLog::commit

use async_trait::async_trait;

use crate::records::{ExecutionQuery, ExecutionRecord, TaskRunRecord};
use crate::{ExecutionId, Result};

/// Queries over the read models of executions.
#[async_trait]
pub trait ExecutionQueries: Send + Sync {
    /// One execution.
    async fn execution(&self, id: ExecutionId) -> Result<Option<ExecutionRecord>>;

    /// Executions matching `query`, newest first.
    async fn executions(&self, query: &ExecutionQuery) -> Result<Vec<ExecutionRecord>>;

    /// Executions that have not ended (status pending, running or paused), oldest
    /// first.
    async fn unfinished(&self) -> Result<Vec<ExecutionRecord>>;

    /// The task rows of an execution: each task (`item: None`) and each fan-out item,
    /// ordered by task name then item.
    async fn task_runs(&self, execution: ExecutionId) -> Result<Vec<TaskRunRecord>>;
}
