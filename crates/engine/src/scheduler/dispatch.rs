//! Turning dispatched attempts into running work.
//!
//! - `set` and `transform` (pure, when inline execution is on) run inside the turn,
//!   queued after the events of the turn: their start and result are recorded in the
//!   same batch as their cause, unless the turn is full (then in the next one). One
//!   that is too slow for the turn (see `crate::eval`) is recorded as started and runs
//!   on the blocking pool; its result comes back as a command.
//! - `sleep` evaluates its duration and waits on a durable timer.
//! - `workflow` resolves its child definition off the loop (a store read), then starts
//!   the child (see `children`).
//! - Everything else waits in the ready queue for one of the `max_concurrency` slots,
//!   in dispatch order. [`Service::pump`] records its `AttemptStarted` and launches it
//!   only once that batch is committed (`After::Launch`): no side effect starts before
//!   its attempt is durable, so after a crash every call that was made is in the log
//!   (and runs again as `recovered`).
//!
//! The `with:` of every attempt is evaluated in the turn when it is quick and off it
//! otherwise, like the rest of the expressions.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt as _;

use harmonia_model::{Dur, ErrorClass};
use harmonia_storage::{ExecutionId, TaskStatus, Timestamp};
use serde_json::Value;

use super::Command;
use super::runner::{self, PrepareJob, Prepared};
use super::service::{After, Service};
use crate::event::{Event, TaskError, Wait};
use crate::executors::Executor;
use crate::machine::AttemptRef;

/// An attempt to launch once its start is committed.
pub(super) struct Launch {
    pub(super) id: ExecutionId,
    pub(super) attempt: AttemptRef,
    pub(super) executor: Arc<dyn Executor>,
    pub(super) job: PrepareJob,
    /// Its call, when `with:` was evaluated in the turn.
    pub(super) prepared: Option<Prepared>,
}

impl Service {
    /// Handles a `Dispatch` effect for attempt `a` of execution `id`.
    pub(super) fn dispatch(&mut self, id: ExecutionId, a: AttemptRef, recovered: bool) {
        let Some(x) = self.executions.get(&id) else {
            return;
        };
        let kind = x.plan.tasks[a.task].kind.clone();
        let limits = self.config.limits;
        match kind.as_str() {
            "sleep" | "workflow" => {
                // What they are given becomes a timer or a child's inputs: no secrets.
                let job = PrepareJob::new(x, a, &self.secrets, limits, false);
                match self.budget.inline(&limits, |l| job.run(l)) {
                    Some(prepared) => {
                        let params = prepared.map(|p| p.call.params);
                        self.prepared(id, a, recovered, params);
                    }
                    None => {
                        let tx = self.tx.clone();
                        let offload = self.offload.clone();
                        tokio::spawn(async move {
                            let params = offload
                                .run(move || job.run(&job.limits).map(|p| p.call.params))
                                .await
                                .unwrap_or_else(|| Err(internal("evaluating `with`")));
                            let _ = tx
                                .send(Command::Prepared {
                                    execution: id,
                                    attempt: a,
                                    recovered,
                                    params,
                                })
                                .await;
                        });
                    }
                }
            }
            _ => {
                let executor = self.executors.get(&kind).cloned();
                match executor {
                    Some(executor) if self.config.inline_pure_tasks && executor.pure() => {
                        self.batch.pure.push(id, (a, recovered));
                    }
                    _ => self.batch.after.push(After::Spawn(id, a, recovered)),
                }
            }
        }
    }

    /// Runs a pure attempt in the turn, or, when it is too slow for it, records its start
    /// and runs it on the blocking pool.
    pub(super) fn run_pure(&mut self, id: ExecutionId, a: AttemptRef, recovered: bool) {
        let Some(x) = self.executions.get(&id) else {
            return;
        };
        let Some(u) = x.tasks[a.task].unit_of(a.item) else {
            return;
        };
        let unit = &x.tasks[a.task].units[u as usize];
        if unit.status != TaskStatus::Queued || unit.attempt + 1 != a.attempt {
            return; // Cancelled or superseded while it waited for its turn.
        }
        let Some(executor) = self.executors.get(&x.plan.tasks[a.task].kind).cloned() else {
            return;
        };
        let limits = self.config.limits;
        let started = started_event(x.plan.tasks[a.task].name.clone(), a, recovered);
        let job = PrepareJob::new(x, a, &self.secrets, limits, false);
        let inline = self
            .budget
            .inline(&limits, |l| runner::run_pure(&job, executor.as_ref(), l));
        self.batch.work.push_back((id, started));
        match inline {
            Some(result) => {
                if let Some(done) = self.result_event(id, a, result) {
                    self.batch.work.push_back((id, done));
                }
            }
            None => {
                let tx = self.tx.clone();
                let offload = self.offload.clone();
                tokio::spawn(async move {
                    let result = offload
                        .run(move || runner::run_pure(&job, executor.as_ref(), &job.limits))
                        .await
                        .unwrap_or_else(|| Err(internal("running the task")));
                    let _ = tx
                        .send(Command::AttemptDone {
                            execution: id,
                            attempt: a,
                            result,
                        })
                        .await;
                });
            }
        }
    }

    /// Goes on with a `sleep` or `workflow` attempt once its `with:` is evaluated.
    pub(super) fn prepared(
        &mut self,
        id: ExecutionId,
        a: AttemptRef,
        recovered: bool,
        params: Result<Value, TaskError>,
    ) {
        let Some(x) = self.executions.get(&id) else {
            return;
        };
        let Some(u) = x.tasks[a.task].unit_of(a.item) else {
            return;
        };
        let unit = &x.tasks[a.task].units[u as usize];
        if unit.status != TaskStatus::Queued || unit.attempt + 1 != a.attempt {
            return; // Cancelled or superseded while `with:` was evaluated.
        }
        let task = x.plan.tasks[a.task].name.clone();
        let kind = x.plan.tasks[a.task].kind.clone();
        let started = started_event(task.clone(), a, recovered);
        let failed = |error| Event::AttemptFailed {
            task: task.clone(),
            item: a.item,
            attempt: a.attempt,
            error,
        };
        if kind == "workflow" {
            match params {
                Ok(params) => self.batch.after.push(After::ResolveChild(id, a, params)),
                Err(error) => {
                    self.batch.work.push_back((id, started));
                    self.batch.work.push_back((id, failed(error)));
                }
            }
            return;
        }
        let duration = params.and_then(|params| {
            let text = params
                .get("duration")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Dur::parse(&text)
                .map_err(|m| TaskError::new(ErrorClass::Validation, format!("`duration`: {m}")))
        });
        self.batch.work.push_back((id, started));
        let next = match duration {
            Ok(d) => Event::AttemptWaiting {
                task: task.clone(),
                item: a.item,
                attempt: a.attempt,
                wait: Wait::Timer {
                    due: Timestamp::now().plus(d.get()),
                },
            },
            Err(error) => failed(error),
        };
        self.batch.work.push_back((id, next));
    }

    /// Starts ready attempts while slots are free: records each start, and launches it
    /// once that record is committed.
    pub(super) fn pump(&mut self) {
        // Draining: nothing new starts; what waits for a slot starts at the next start.
        if self.drain.is_some() {
            return;
        }
        while self.running.len() < self.config.max_concurrency {
            let Some((id, a, recovered)) = self.ready.pop_front() else {
                break;
            };
            let Some(x) = self.executions.get(&id) else {
                continue;
            };
            let Some(u) = x.tasks[a.task].unit_of(a.item) else {
                continue;
            };
            let unit = &x.tasks[a.task].units[u as usize];
            if unit.status != TaskStatus::Queued || unit.attempt + 1 != a.attempt {
                continue; // Cancelled or superseded while waiting for a slot.
            }
            let kind = x.plan.tasks[a.task].kind.clone();
            let started = started_event(x.plan.tasks[a.task].name.clone(), a, recovered);
            let Some(executor) = self.executors.get(&kind).cloned() else {
                let error = TaskError::new(
                    ErrorClass::Validation,
                    format!("this engine has no executor for the `{kind}` task type"),
                );
                self.record(id, started);
                if let Some(done) = self.result_event(id, a, Err(error)) {
                    self.record(id, done);
                }
                continue;
            };
            let limits = self.config.limits;
            let job = PrepareJob::new(x, a, &self.secrets, limits, !executor.pure());
            let prepared = match self.budget.inline(&limits, |l| job.run(l)) {
                Some(Err(error)) => {
                    self.record(id, started);
                    if let Some(done) = self.result_event(id, a, Err(error)) {
                        self.record(id, done);
                    }
                    continue;
                }
                Some(Ok(mut p)) => {
                    p.call.limits = limits;
                    Some(p)
                }
                None => None,
            };
            self.running.insert((id, a), job.cancel.clone());
            self.record(id, started);
            self.batch.after.push(After::Launch(Box::new(Launch {
                id,
                attempt: a,
                executor,
                job,
                prepared,
            })));
        }
    }

    /// Runs a launched attempt: its `with:` if it is not evaluated yet, the executor,
    /// then its `output:`, off the turn; the result comes back as a command.
    pub(super) fn launch(&self, launch: Launch) {
        let tx = self.tx.clone();
        let offload = self.offload.clone();
        tokio::spawn(async move {
            let Launch {
                id,
                attempt,
                executor,
                job,
                prepared,
            } = launch;
            // An executor that panics (a bug) fails its attempt instead of leaving it
            // running forever.
            let result = AssertUnwindSafe(run_launched(&offload, executor, job, prepared))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    tracing::error!(
                        execution_id = %id,
                        panic = %super::panic_message(panic.as_ref()),
                        "an executor panicked"
                    );
                    Err(internal("running the task"))
                });
            let _ = tx
                .send(Command::AttemptDone {
                    execution: id,
                    attempt,
                    result,
                })
                .await;
        });
    }
}

async fn run_launched(
    offload: &crate::eval::Offload,
    executor: Arc<dyn Executor>,
    job: PrepareJob,
    prepared: Option<Prepared>,
) -> Result<Value, TaskError> {
    if job.cancel.is_cancelled() {
        return Err(TaskError::new(
            ErrorClass::Cancelled,
            "the attempt was cancelled before it started",
        ));
    }
    let job = Arc::new(job);
    let prepared = match prepared {
        Some(p) => p,
        None => {
            let j = job.clone();
            offload
                .run(move || j.run(&j.limits))
                .await
                .unwrap_or_else(|| Err(internal("evaluating `with`")))?
        }
    };
    let Prepared { call, output } = prepared;
    let texts = call.secret_texts.clone();
    let raw = if executor.pure() {
        // A pure executor evaluates expressions: on the pool, not a runtime thread.
        offload
            .run(move || {
                executor
                    .run_inline(&call)
                    .unwrap_or_else(|| Err(internal("running a pure task")))
            })
            .await
            .unwrap_or_else(|| Err(internal("running the task")))
    } else {
        runner::run(executor, call).await
    };
    offload
        .run(move || job.finish(raw, output.as_ref(), &job.limits, &texts))
        .await
        .unwrap_or_else(|| Err(internal("finishing the task")))
}

fn started_event(task: String, a: AttemptRef, recovered: bool) -> Event {
    Event::AttemptStarted {
        task,
        item: a.item,
        attempt: a.attempt,
        recovered,
    }
}

/// The error of work that could not run (it panicked, or the runtime is stopping).
pub(super) fn internal(what: &str) -> TaskError {
    TaskError::new(
        ErrorClass::Validation,
        format!("internal error while {what}; the server log has the details"),
    )
}
