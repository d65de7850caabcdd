//! The execution log role: appending events and the read-model rows they changed, in one
//! atomic commit, and reading an execution's events back.
//!
//! This is what makes an execution durable: the engine's scheduler commits each turn's
//! events with the rows of executions and task runs they changed, the durable timers
//! they armed or cleared and the idempotency keys of the executions they started (a
//! transactional outbox, as Temporal's history service does), and replays an execution
//! from its events after a restart.
//!
//! Contract, checked for every backend by the shared suite (`suite::log`):
//! - `commit` is atomic: all of a batch is visible afterwards, or none of it.
//! - A batch with an event whose `(execution, seq)` already exists (stored, or earlier
//!   in the same batch) fails with [`Error::Conflict`] and writes nothing: two writers
//!   of one execution. The engine numbers events consecutively from 1; the store only
//!   checks uniqueness.
//! - Read-model rows are inserted or replaced by key (an execution by id, a task run by
//!   execution, task and item); within a batch, the last row of a key wins.
//! - An execution row's `inputs` never change: `commit` writes them when it inserts the
//!   row, and a later write of the row keeps the stored ones, so a writer sends them
//!   once (later writes may carry `null`). Large inputs are then written once, not at
//!   every change of the execution's status. So is its identity (workflow id, name and
//!   version, creation time, parent, the execution it retries, its origin): a later
//!   write changes the rest only (and a SQL store rewrites no index on those columns at
//!   every step).
//! - A batch with a JSON value nested deeper than [`crate::json::MAX_STORED_DEPTH`]
//!   fails with [`Error::Invalid`] and writes nothing: what is written can always be
//!   read back.
//! - Conditions, decided inside the commit's transaction by [`commit::decide`] (whose
//!   module doc has the rules in full): an execution of [`CommitBatch::fences`] whose
//!   stored fence differs (or that has no row) is *fenced*; an idempotency record whose
//!   (scope, key) an unexpired record of another execution holds is a *duplicate* (an
//!   expired one is replaced). Every write of a fenced execution or of one with a
//!   duplicate key (its events, its row, its task runs, its timers set or cleared, its
//!   idempotency records) is left out, the rest of the batch is written, and the
//!   [`CommitReport`] names what was left out. A batch without fences and idempotency
//!   records leaves nothing out.
//! - Timers are inserted or replaced by (execution, key); `timers_cleared` deletes by
//!   the same key (absent ones are fine), before the batch's sets, so a key both set and
//!   cleared stays set (a timer is never lost; a stale one fires and is ignored). When
//!   the batch leaves an execution's row with a terminal status, all of that execution's
//!   timers are deleted, those the batch sets included.
//! - An execution row stores its `owner`, `fence` and `parked` as the record says.
//! - Events of an execution come back in `seq` order.
//! - A committed batch survives the process being killed.

use async_trait::async_trait;

#[cfg(doc)]
use crate::Error;
#[cfg(doc)]
use crate::commit;
use crate::records::{CommitBatch, CommitReport, EventRecord};
use crate::{ExecutionId, Result};

/// The append-only event log of executions, with the read models committed beside it.
#[async_trait]
pub trait ExecutionLog: Send + Sync {
    /// Writes a batch atomically, but for the executions its conditions leave out,
    /// which the report names (see the module doc).
    async fn commit(&self, batch: &CommitBatch) -> Result<CommitReport>;

    /// Commits `batch` as [`ExecutionLog::commit`] would, on the calling thread and
    /// blocking it for the store's own work, when the store can do so without waiting
    /// on anything else (SQLite's log connection, free; the memory store). `None`: it
    /// cannot now (another backend, a batch it leaves to `commit`, the connection busy
    /// or stopped), nothing was written, and the caller commits with
    /// [`ExecutionLog::commit`]. It blocks: only for a thread that does nothing else
    /// meanwhile (the engine's scheduler thread), never a runtime's worker.
    fn commit_here(&self, batch: &CommitBatch) -> Option<Result<CommitReport>> {
        let _ = batch;
        None
    }

    /// The event log of an execution, in order.
    async fn events(&self, execution: ExecutionId) -> Result<Vec<EventRecord>>;

    /// The events of an execution after `seq`, in order: what a watcher on another
    /// node than the execution's reads as the log grows.
    async fn events_after(&self, execution: ExecutionId, seq: u64) -> Result<Vec<EventRecord>>;
}
