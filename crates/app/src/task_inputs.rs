//! A task's inputs after evaluation: [`Executions::task_inputs`] answers the `with:`
//! of a task (or of one fan-out item) as its attempt saw it, evaluated again from what
//! the execution recorded (see `harmonia_engine::EvaluatedWith`).
//!
//! Invariants: no secret is read or answered (every value computed from `$secrets` is
//! `***`); the evaluation is bounded by the engine's limits and runs off the async
//! runtime; nothing is written. Errors say what to fix: an unknown execution or task
//! is [`Error::NotFound`], a wrong `item` [`Error::InvalidRequest`] with the valid
//! range, a task that has not started [`Error::NotStarted`] with the task upstream
//! that has no output yet, a failed evaluation [`Error::Evaluation`].

use harmonia_engine::EvaluatedWith;
use harmonia_storage::ExecutionId;

use crate::{Error, Executions, Result};

impl Executions {
    /// Task `task`'s `with:` (of its fan-out item `item`, which a task with `for_each`
    /// needs and any other refuses), evaluated against execution `id`'s recorded state,
    /// secrets masked.
    pub async fn task_inputs(
        &self,
        id: ExecutionId,
        task: &str,
        item: Option<u32>,
    ) -> Result<EvaluatedWith> {
        use harmonia_engine::Error as E;
        match self.0.handle.evaluated_with(id, task, item).await {
            Ok(evaluated) => Ok(evaluated),
            Err(e @ E::UnknownTask { .. }) => Err(Error::NotFound(e.to_string())),
            Err(e) => Err(e.into()),
        }
    }
}
