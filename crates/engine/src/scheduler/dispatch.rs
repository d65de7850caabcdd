//! Turning dispatched attempts into running work, by the mode of the task's kind.
//!
//! - Inline kinds (`set`, `transform`; when inline execution is on) run inside the
//!   turn, queued after the events of the turn: their start and result are recorded in
//!   the same batch as their cause, unless the turn is full (then in the next one). One
//!   that is too slow for the turn (see `crate::eval`) is recorded as started and runs
//!   on the blocking pool; its result comes back as a command.
//! - Waiting kinds (`sleep`, `workflow`, `approval`, `wait_event`) evaluate their
//!   `with:` (without secrets) and say what they wait on; see `waits`.
//! - Spawned kinds wait in the ready queue for one of the `max_concurrency` slots,
//!   in dispatch order. [`Service::pump`], at the end of the turn that dispatched
//!   them, records the `AttemptStarted` of those that get a slot, in the same batch
//!   as what caused them (step N's success and step N+1's start: one commit per
//!   step), and launches each only once that batch is committed (`After::Launch`): no
//!   side effect starts before its attempt is durable, so after a crash every call
//!   that was made is in the log (and runs again as `recovered`).
//!
//! The `with:` of every attempt is evaluated in the turn when it is quick and off it
//! otherwise, like the rest of the expressions.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt as _;

use harmonia_model::ErrorClass;
use harmonia_storage::{ExecutionId, TaskStatus};
use serde_json::Value;

use super::Command;
use super::runner::{self, PrepareJob, Prepared};
use super::service::{After, Service};
use crate::eval::Budget;
use crate::event::{Event, TaskError};
use crate::kinds::{Run, TaskKind, TokenLedger};
use crate::machine::AttemptRef;

/// An attempt to launch once its start is committed.
pub(super) struct Launch {
    pub(super) id: ExecutionId,
    pub(super) attempt: AttemptRef,
    pub(super) kind: Arc<dyn TaskKind>,
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
        let kind = self.kinds.get(&x.plan.tasks[a.task].kind).cloned();
        match kind.as_deref().map(TaskKind::run) {
            Some(Run::Waiting(_)) => {
                // What they are given is recorded (a wait) or becomes a child's inputs:
                // no secrets.
                let job = PrepareJob::new(x, a, &self.secrets, self.config.limits, false);
                self.prepare_wait(id, a, recovered, job);
            }
            Some(Run::Inline(_)) if self.config.inline_pure_tasks => {
                self.batch.pure.push(id, (a, recovered));
            }
            // Spawned, inline ones when inline execution is off, and a kind this engine
            // does not have (`pump` records why it cannot run). They wait for a slot
            // in dispatch order; the turn's `pump` records the starts of those that
            // get one, so that a result and the start it leads to share a commit.
            _ => self.ready.push_back((id, a, recovered)),
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
        let Some(kind) = self.kinds.get(&x.plan.tasks[a.task].kind).cloned() else {
            return;
        };
        let limits = self.config.limits;
        let started = started_event(x.plan.tasks[a.task].name.clone(), a, recovered);
        let job = PrepareJob::new(x, a, &self.secrets, limits, false);
        let inline = self
            .budget
            .inline(&limits, |l| runner::run_pure(&job, kind.as_ref(), l));
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
                self.rt.spawn(async move {
                    let result = offload
                        .run(move || runner::run_pure(&job, kind.as_ref(), &job.limits))
                        .await
                        .unwrap_or_else(|| Err(internal("running the task")));
                    let _ = tx
                        .send(Command::AttemptDone {
                            execution: id,
                            attempt: a,
                            result,
                            usage: None,
                        })
                        .await;
                });
            }
        }
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
            let name = x.plan.tasks[a.task].kind.clone();
            let started = started_event(x.plan.tasks[a.task].name.clone(), a, recovered);
            let Some(kind) = self.kinds.get(&name).cloned() else {
                let error = TaskError::new(
                    ErrorClass::Validation,
                    format!("this engine cannot run the `{name}` task type"),
                );
                self.record(id, started);
                if let Some(done) = self.result_event(id, a, Err(error)) {
                    self.record(id, done);
                }
                continue;
            };
            let limits = self.config.limits;
            let spawned = matches!(kind.run(), Run::Spawned(_));
            let job = PrepareJob::new(x, a, &self.secrets, limits, spawned);
            // A pure kind prepares, runs and finishes in one go when launched.
            let pure = matches!(kind.run(), Run::Inline(_));
            let quick = if pure {
                None
            } else {
                self.budget.inline(&limits, |l| job.run(l))
            };
            let prepared = match quick {
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
                kind,
                job,
                prepared,
            })));
        }
    }

    /// Runs a launched attempt: its `with:` if it is not evaluated yet, the kind,
    /// then its `output:`, off the turn; the result comes back as a command.
    ///
    /// A pure kind's attempt (inline execution off) is CPU work under a turn's limits,
    /// or one trip to the pool: it runs here, on the scheduler's own thread, right
    /// after the commit that recorded its start, while that commit's time for them
    /// lasts (see [`Service::run_here`]); else as a task on this thread once the turn
    /// is over. Either way its result comes back without waking another thread. Every
    /// other kind runs on the caller's runtime, where the network and the store are.
    pub(super) fn launch(&mut self, launch: Box<Launch>) {
        let pure = matches!(launch.kind.run(), Run::Inline(_));
        let launch = if pure {
            match self.run_here(launch) {
                Ok(()) => return,
                Err(launch) => launch,
            }
        } else {
            launch
        };
        let tx = self.tx.clone();
        let offload = self.offload.clone();
        let task = async move {
            let Launch {
                id,
                attempt,
                kind,
                job,
                prepared,
            } = *launch;
            // A kind that panics (a bug) fails its attempt instead of leaving it
            // running forever.
            let tokens = TokenLedger::default();
            let result =
                AssertUnwindSafe(run_launched(&offload, kind, job, prepared, tokens.clone()))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| {
                        tracing::error!(
                            execution_id = %id,
                            panic = %super::panic_message(panic.as_ref()),
                            "a task kind panicked"
                        );
                        Err(internal("running the task"))
                    });
            let _ = tx
                .send(Command::AttemptDone {
                    execution: id,
                    attempt,
                    result,
                    usage: tokens.spent(),
                })
                .await;
        };
        if pure {
            tokio::spawn(task);
        } else {
            self.rt.spawn(task);
        }
    }
}

impl Service {
    /// Runs a pure kind's launched attempt now, under what is left of the time the
    /// current commit's launches have in all (one turn's evaluation time, see
    /// `crate::eval`), and queues its result for the next turn as the command its task
    /// would have sent. A task spawned for it cost more than a step of a chain's own
    /// work: the future moved into the runtime and polled, then the command through
    /// the channel. Gives the launch back, untouched in effect, when it cannot finish
    /// here: cancelled before it started, out of time, or run into its slice (then it
    /// runs again as a task, which is safe: it is pure).
    fn run_here(&mut self, launch: Box<Launch>) -> std::result::Result<(), Box<Launch>> {
        if launch.job.cancel.is_cancelled() {
            return Err(launch);
        }
        let (job, kind) = (&launch.job, launch.kind.as_ref());
        let ran = self.here.inline(&job.limits, |l| {
            std::panic::catch_unwind(AssertUnwindSafe(|| runner::run_pure(job, kind, l)))
        });
        let result = match ran {
            None => return Err(launch),
            Some(Ok(result)) => result,
            Some(Err(panic)) => {
                tracing::error!(
                    execution_id = %launch.id,
                    panic = %super::panic_message(panic.as_ref()),
                    "a task kind panicked"
                );
                Err(internal("running the task"))
            }
        };
        self.ran_here.push_back(Command::AttemptDone {
            execution: launch.id,
            attempt: launch.attempt,
            result,
            usage: None,
        });
        Ok(())
    }
}

async fn run_launched(
    offload: &crate::eval::Offload,
    kind: Arc<dyn TaskKind>,
    job: PrepareJob,
    prepared: Option<Prepared>,
    tokens: TokenLedger,
) -> Result<Value, TaskError> {
    if job.cancel.is_cancelled() {
        return Err(TaskError::new(
            ErrorClass::Cancelled,
            "the attempt was cancelled before it started",
        ));
    }
    if matches!(kind.run(), Run::Inline(_)) {
        // A pure kind launched as an attempt of its own (inline execution off): its
        // `with:`, its work and its `output:` in one go, right here when that is quick
        // (as a turn would, see `crate::eval`), else in one trip to the pool.
        let limits = job.limits;
        if let Some(result) =
            Budget::turn().inline(&limits, |l| runner::run_pure(&job, kind.as_ref(), l))
        {
            return result;
        }
        return offload
            .run(move || runner::run_pure(&job, kind.as_ref(), &job.limits))
            .await
            .unwrap_or_else(|| Err(internal("running the task")));
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
    let Prepared { mut call, output } = prepared;
    // What the kind reports spending reaches the recorded result through `tokens`.
    call.tokens = call.tokens.reporting_to(&tokens);
    let texts = call.secret_texts.clone();
    let raw = match kind.run() {
        Run::Spawned(k) => runner::run(k, call).await,
        _ => Err(internal("launching a waiting task")),
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
