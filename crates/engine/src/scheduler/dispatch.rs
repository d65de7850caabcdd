//! Turning dispatched attempts into running work.
//!
//! - `set` and `transform` (when inline execution is on) run right away, inside the
//!   turn: their start and result are recorded in the same batch as their cause.
//! - `sleep` evaluates its duration and waits on a durable timer, also inside the turn.
//! - `workflow` resolves its child definition off the loop (a store read), then starts
//!   the child (see `children`).
//! - Everything else waits in the ready queue for one of the `max_concurrency` slots,
//!   in dispatch order, and runs as its own tokio task; its result comes back as a
//!   command.

use harmonia_model::{Dur, ErrorClass};
use harmonia_storage::{TaskStatus, Timestamp};
use serde_json::Value;

use super::Command;
use super::runner;
use super::service::{After, Service};
use crate::event::{Event, TaskError, Wait};
use crate::machine::AttemptRef;

impl Service {
    /// Handles a `Dispatch` effect for attempt `a` of execution `id`.
    pub(super) fn dispatch(
        &mut self,
        id: harmonia_storage::ExecutionId,
        a: AttemptRef,
        recovered: bool,
    ) {
        let Some(x) = self.executions.get(&id) else {
            return;
        };
        let kind = x.plan.tasks[a.task].kind.as_str();
        let task = x.plan.tasks[a.task].name.clone();
        let started = Event::AttemptStarted {
            task: task.clone(),
            item: a.item,
            attempt: a.attempt,
            recovered,
        };
        match kind {
            "sleep" => {
                let outcome =
                    runner::prepare(x, a, &self.secrets, &self.config.limits).and_then(|p| {
                        let text = p
                            .call
                            .params
                            .get("duration")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        Dur::parse(&text).map_err(|m| {
                            TaskError::new(ErrorClass::Validation, format!("`duration`: {m}"))
                        })
                    });
                self.batch.work.push_back((id, started));
                let next = match outcome {
                    Ok(d) => Event::AttemptWaiting {
                        task,
                        item: a.item,
                        attempt: a.attempt,
                        wait: Wait::Timer {
                            due: Timestamp::now().plus(d.get()),
                        },
                    },
                    Err(error) => Event::AttemptFailed {
                        task,
                        item: a.item,
                        attempt: a.attempt,
                        error,
                    },
                };
                self.batch.work.push_back((id, next));
            }
            "workflow" => match runner::prepare(x, a, &self.secrets, &self.config.limits) {
                Ok(p) => self
                    .batch
                    .after
                    .push(After::ResolveChild(id, a, p.call.params)),
                Err(error) => {
                    self.batch.work.push_back((id, started));
                    self.batch.work.push_back((
                        id,
                        Event::AttemptFailed {
                            task,
                            item: a.item,
                            attempt: a.attempt,
                            error,
                        },
                    ));
                }
            },
            _ => {
                let executor = self.executors.get(kind).cloned();
                if self.config.inline_pure_tasks
                    && let Some(executor) = &executor
                {
                    // Prepared only to ask; executors that cannot run inline say None.
                    match runner::prepare(x, a, &self.secrets, &self.config.limits) {
                        Ok(p) => {
                            if let Some(raw) = executor.run_inline(&p.call) {
                                let result = runner::finish(
                                    raw,
                                    p.output.as_ref(),
                                    &p.call.ctx,
                                    &self.config.limits,
                                    &self.secrets,
                                );
                                let done = self.result_event(id, a, result);
                                self.batch.work.push_back((id, started));
                                if let Some(done) = done {
                                    self.batch.work.push_back((id, done));
                                }
                                return;
                            }
                        }
                        Err(error) => {
                            self.batch.work.push_back((id, started));
                            let done = self.result_event(id, a, Err(error));
                            if let Some(done) = done {
                                self.batch.work.push_back((id, done));
                            }
                            return;
                        }
                    }
                }
                self.batch.after.push(After::Spawn(id, a, recovered));
            }
        }
    }

    /// Starts ready attempts while slots are free.
    pub(super) fn pump(&mut self) {
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
            let task = x.plan.tasks[a.task].name.clone();
            let kind = x.plan.tasks[a.task].kind.clone();
            let started = Event::AttemptStarted {
                task: task.clone(),
                item: a.item,
                attempt: a.attempt,
                recovered,
            };
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
            let prepared = match runner::prepare(x, a, &self.secrets, &self.config.limits) {
                Ok(p) => p,
                Err(error) => {
                    self.record(id, started);
                    if let Some(done) = self.result_event(id, a, Err(error)) {
                        self.record(id, done);
                    }
                    continue;
                }
            };
            self.running.insert((id, a), prepared.call.cancel.clone());
            self.record(id, started);
            let tx = self.tx.clone();
            let secrets = self.secrets.clone();
            let limits = self.config.limits;
            let runner::Prepared { call, output, .. } = prepared;
            let ctx = call.ctx.clone();
            tokio::spawn(async move {
                let raw = runner::run(executor, call).await;
                let result = runner::finish(raw, output.as_ref(), &ctx, &limits, &secrets);
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
