//! The timers role: the durable timers of executions, and the task runs that wait on a
//! signal, for the engine to arm its timers and route signals after a restart.
//!
//! Timers and waits are written by [`ExecutionLog::commit`] (timers in
//! [`CommitBatch::timers_set`] and [`CommitBatch::timers_cleared`], waits as fields of
//! [`TaskRunRecord`]); this role reads them.
//!
//! Contract, checked for every backend by the shared suite (`suite::timers`):
//! - `timers` lists every stored timer, ordered by `due`, then execution and key. An
//!   execution whose row was written with a terminal status has no timers (the commit
//!   deleted them).
//! - `waiting` lists the task runs whose status is running and whose `wait_for` is the
//!   given name (and `wait_key` the given key; `None`: any key, none included), of
//!   executions whose row exists and has not ended; ordered by execution, then as
//!   `task_runs` orders them.
//!
//! [`ExecutionLog::commit`]: crate::ExecutionLog::commit
//! [`CommitBatch::timers_set`]: crate::CommitBatch::timers_set
//! [`CommitBatch::timers_cleared`]: crate::CommitBatch::timers_cleared

use async_trait::async_trait;

use crate::Result;
use crate::records::{TaskRunRecord, TimerRecord};

/// Durable timers, and the waits of running attempts.
#[async_trait]
pub trait Timers: Send + Sync {
    /// Every timer, ordered by due time.
    async fn timers(&self) -> Result<Vec<TimerRecord>>;

    /// The running task runs of unfinished executions that wait for `wait_for` (with
    /// routing key `wait_key`; `None`: any key).
    async fn waiting(&self, wait_for: &str, wait_key: Option<&str>) -> Result<Vec<TaskRunRecord>>;
}
