//! The execution log role: appending events and the read-model rows they changed, in one
//! atomic commit, and reading an execution's events back.
//!
//! This is what makes an execution durable: the engine's scheduler commits each turn's
//! events with the rows of executions and task runs they changed (a transactional
//! outbox, as Temporal's history service does), and replays an execution from its
//! events after a restart.
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
//!   every change of the execution's status.
//! - A batch with a JSON value nested deeper than [`crate::json::MAX_STORED_DEPTH`]
//!   fails with [`Error::Invalid`] and writes nothing: what is written can always be
//!   read back.
//! - Events of an execution come back in `seq` order.
//! - A committed batch survives the process being killed.

use async_trait::async_trait;

#[cfg(doc)]
use crate::Error;
use crate::records::{CommitBatch, EventRecord};
use crate::{ExecutionId, Result};

/// The append-only event log of executions, with the read models committed beside it.
#[async_trait]
pub trait ExecutionLog: Send + Sync {
    /// Writes a batch atomically (see the module doc).
    async fn commit(&self, batch: &CommitBatch) -> Result<()>;

    /// The event log of an execution, in order.
    async fn events(&self, execution: ExecutionId) -> Result<Vec<EventRecord>>;
}
