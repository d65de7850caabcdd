//! A bug in one execution fails that execution, not the engine.
//!
//! Everything the scheduler does to one execution's state (applying an event, taking in
//! an evaluation, going on deciding, running a pure task) runs under [`Service::guarded`].
//! A panic there means the state can no longer be trusted: the execution is failed on
//! the spot with an error that says what happened (an `ExecutionFailed` event after
//! what was already recorded, its unfinished tasks cancelled in the read model, its
//! running attempts stopped, its waiters and parent told), and the engine goes on with
//! the others. Likewise at recovery, an execution whose log cannot be read or replayed
//! is marked failed instead of staying `running` forever, or taking the process down at
//! every start.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use harmonia_model::ErrorClass;
use harmonia_storage::{CommitBatch, ExecutionId, ExecutionRecord, ExecutionStatus, Timestamp};

use super::service::{After, Service};
use crate::event::{Event, TaskError};
use crate::machine;

/// The text of a panic's payload.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// The error an execution fails with after an internal error.
fn internal_error(what: &str, message: &str) -> TaskError {
    TaskError::new(
        ErrorClass::Validation,
        format!(
            "internal error {what}: {message}; the execution was stopped (this is a bug in Harmonia: the server log has the details)"
        ),
    )
}

impl Service {
    /// Runs `f`, which works on execution `id`; if it panics, fails that execution.
    pub(super) fn guarded(&mut self, id: ExecutionId, f: impl FnOnce(&mut Service)) {
        let Some(before) = self.executions.get(&id).map(|x| x.seq) else {
            return;
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(self))) {
            let message = panic_message(panic.as_ref());
            self.poison(id, before, &message);
        }
    }

    /// Fails execution `id` after a panic, whose state was at event `before` when the
    /// work that panicked began.
    fn poison(&mut self, id: ExecutionId, before: u64, message: &str) {
        tracing::error!(execution_id = %id, panic = %message, "internal error in an execution: it is failed; the engine goes on");
        let last = self
            .batch
            .events
            .iter()
            .rev()
            .find(|e| e.execution == id)
            .map_or(before, |e| e.seq.max(before));
        let now = Timestamp::now();
        let error = internal_error("while running it", message);
        let Some(x) = self.executions.get_mut(&id) else {
            return;
        };
        machine::abandon(x, error.clone(), now);
        x.seq = last + 1;
        self.push_event(id, last + 1, now, Event::ExecutionFailed { error });
        for ((execution, _), token) in &self.running {
            if *execution == id {
                token.cancel();
            }
        }
        // Telling the parent applies its state machine: guarded too, by its own id.
        if let Some(parent) = self.executions.get(&id).and_then(|x| x.parent.clone()) {
            self.guarded(parent.execution, |s| s.deliver_to_parent(id));
        }
        self.batch.after.push(After::Finished(id));
    }

    /// Marks an execution that cannot be recovered as failed, in the read model.
    pub(super) async fn unrecoverable(&self, record: &ExecutionRecord, why: &str) {
        unrecoverable(self.store.as_ref(), record, why).await;
    }
}

/// Marks an execution that cannot be recovered (its log does not replay) as failed,
/// in the read model.
pub(super) async fn unrecoverable(
    store: &dyn harmonia_storage::Store,
    record: &ExecutionRecord,
    why: &str,
) {
    tracing::error!(execution_id = %record.id, error = %why, "cannot recover execution: it is marked failed");
    let now = Timestamp::now();
    let error = internal_error("while recovering it", why);
    let failed = ExecutionRecord {
        status: ExecutionStatus::Failed,
        error: Some(error.to_json()),
        ended_at: Some(now),
        updated_at: now,
        ..record.clone()
    };
    let batch = CommitBatch {
        executions: vec![failed],
        ..CommitBatch::default()
    };
    if let Err(e) = store.commit(&batch).await {
        tracing::error!(execution_id = %record.id, error = %e, "cannot mark the execution failed");
    }
}
