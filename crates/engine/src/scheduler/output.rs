//! Applying a task's `output:` to a finished attempt's raw result when the attempt did
//! not run on the pool (a wait that ended, a child that ended): in the scheduler's
//! turn when it is quick, on the blocking pool when it is not, like every expression.
//!
//! Invariant: off the turn, the result comes back as the command the caller makes of
//! it; nothing is recorded here.

use harmonia_storage::ExecutionId;
use serde_json::Value;
use tokio::sync::mpsc;

use super::Command;
use super::runner::PrepareJob;
use super::service::Service;
use crate::eval::Offload;
use crate::event::TaskError;
use crate::machine::AttemptRef;

/// Where an applied output is.
pub(super) enum Applied {
    /// Done in the turn.
    Now(Result<Value, TaskError>),
    /// Too slow for the turn: [`Later::then`] runs it on the pool.
    Later(Box<Later>),
    /// The execution is not in memory any more.
    Gone,
}

/// An output to apply off the turn.
pub(super) struct Later {
    job: PrepareJob,
    raw: Result<Value, TaskError>,
    output: Option<harmonia_expr::Template>,
    offload: Offload,
    tx: mpsc::Sender<Command>,
}

impl Later {
    /// Applies it on the pool and sends the command `then` makes of the result.
    pub(super) fn then(
        self: Box<Self>,
        then: impl FnOnce(Result<Value, TaskError>) -> Command + Send + 'static,
    ) {
        let Later {
            job,
            raw,
            output,
            offload,
            tx,
        } = *self;
        tokio::spawn(async move {
            let result = offload
                .run(move || job.finish(raw, output.as_ref(), &job.limits, &[]))
                .await
                .unwrap_or_else(|| Err(super::dispatch::internal("finishing the task")));
            let _ = tx.send(then(result)).await;
        });
    }
}

impl Service {
    /// Applies the `output:` of attempt `a` of execution `id` to `raw`.
    pub(super) fn apply_output(
        &mut self,
        id: ExecutionId,
        a: AttemptRef,
        raw: Result<Value, TaskError>,
    ) -> Applied {
        let Some(x) = self.executions.get(&id) else {
            return Applied::Gone;
        };
        let job = PrepareJob::new(x, a, &self.secrets, self.config.limits, false);
        let output = x.plan.tasks[a.task].output.clone();
        let limits = self.config.limits;
        match self.budget.inline(&limits, |l| {
            job.finish(raw.clone(), output.as_ref(), l, &[])
        }) {
            Some(result) => Applied::Now(result),
            None => Applied::Later(Box::new(Later {
                job,
                raw,
                output,
                offload: self.offload.clone(),
                tx: self.tx.clone(),
            })),
        }
    }
}
