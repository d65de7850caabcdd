//! Waiting attempts: beginning a wait, delivering a signal, ending a wait at its
//! timeout.
//!
//! 1. A waiting kind's attempt evaluates its `with:` (without secrets) and its kind's
//!    [`Waiting::begin`], in the turn when quick, off it otherwise. The attempt's
//!    `AttemptStarted` and `AttemptWaiting` are then recorded together; a child
//!    (`workflow`) is resolved first (see `children`).
//! 2. A signal for a task ([`Handle::signal`](super::Handle::signal)) or an event for
//!    every wait on its type ([`Handle::deliver_event`](super::Handle::deliver_event))
//!    is judged by the kind against the wait's recorded spec. A refusal changes nothing
//!    and is answered at once. An answer records `SignalReceived` at once (it ends the
//!    wait, so that a second answer, or the timeout, finds nothing to end), then the
//!    attempt's result with the task's `output:` applied; the sender is answered once
//!    that result is committed.
//! 3. At the wait's `until`, the kind's [`Waiting::expire`] gives the result, recorded
//!    after the `TimerFired` that ends the wait.
//!
//! The wait is in the log, so it survives a restart: `resume` arms its timer again
//! with the time left, and signals find it in the state.

use harmonia_storage::{ExecutionId, TaskStatus, Timestamp};
use serde_json::Value;
use tokio::sync::oneshot;

use super::output::Applied;
use super::runner::PrepareJob;
use super::service::{After, Service};
use super::{Command, Delivery, SignalReply};
use crate::error::Error;
use crate::event::{Event, TaskError, TimerKey, Wait};
use crate::kinds::{Answer, Begin, Run, Signal, Waiter};
use crate::machine::AttemptRef;

/// A child execution a `workflow` attempt asks for.
#[derive(Debug, Clone)]
pub(crate) struct ChildCall {
    pub(crate) workflow: String,
    pub(crate) version: Option<u32>,
    pub(crate) inputs: Value,
}

impl Service {
    /// Evaluates a waiting attempt's `with:` and its kind's `begin`: in the turn when
    /// quick, off it otherwise.
    pub(super) fn prepare_wait(
        &mut self,
        id: ExecutionId,
        a: AttemptRef,
        recovered: bool,
        job: PrepareJob,
    ) {
        let Some(kind) = self
            .executions
            .get(&id)
            .and_then(|x| self.kinds.get(&x.plan.tasks[a.task].kind))
            .cloned()
        else {
            return;
        };
        let begin = move |job: &PrepareJob, limits: &harmonia_expr::Limits| {
            let call = job.run(limits)?.call;
            match kind.run() {
                Run::Waiting(w) => w.begin(&call),
                _ => Err(super::dispatch::internal("beginning a wait")),
            }
        };
        let limits = self.config.limits;
        match self.budget.inline(&limits, |l| begin(&job, l)) {
            Some(begin) => self.begin_wait(id, a, recovered, begin),
            None => {
                let tx = self.tx.clone();
                let offload = self.offload.clone();
                self.rt.spawn(async move {
                    let begin = offload
                        .run(move || begin(&job, &job.limits))
                        .await
                        .unwrap_or_else(|| Err(super::dispatch::internal("evaluating `with`")));
                    let _ = tx
                        .send(Command::Prepared {
                            execution: id,
                            attempt: a,
                            recovered,
                            begin,
                        })
                        .await;
                });
            }
        }
    }

    /// Records what a waiting attempt waits on, or its failure to begin.
    pub(super) fn begin_wait(
        &mut self,
        id: ExecutionId,
        a: AttemptRef,
        recovered: bool,
        begin: Result<Begin, TaskError>,
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
        let started = Event::AttemptStarted {
            task: task.clone(),
            item: a.item,
            attempt: a.attempt,
            recovered,
        };
        let waiting = |wait: Wait| Event::AttemptWaiting {
            task: task.clone(),
            item: a.item,
            attempt: a.attempt,
            wait: Box::new(wait),
        };
        let next = match begin {
            Ok(Begin::Child {
                workflow,
                version,
                inputs,
            }) => {
                let call = ChildCall {
                    workflow,
                    version,
                    inputs,
                };
                self.batch.after.push(After::ResolveChild(id, a, call));
                return;
            }
            Ok(Begin::Sleep { until }) => waiting(Wait::Timer { due: until }),
            Ok(Begin::Signal {
                name,
                key,
                spec,
                until,
            }) => waiting(Wait::Signal {
                name,
                key,
                spec,
                until,
            }),
            Err(error) => Event::AttemptFailed {
                task: task.clone(),
                item: a.item,
                attempt: a.attempt,
                error,
                usage: None,
            },
        };
        self.batch.work.push_back((id, started));
        self.batch.work.push_back((id, next));
    }

    /// Delivers a signal to the waiting attempt of `task` (its item `item`).
    pub(super) fn signal(
        &mut self,
        id: ExecutionId,
        task: &str,
        item: Option<u32>,
        signal: Signal,
        reply: oneshot::Sender<Result<Delivery, Error>>,
    ) {
        match self.signal_target(id, task, item, &signal.name) {
            Err(e) => {
                let _ = reply.send(Err(e));
            }
            Ok(a) => match self.judge(id, a, &signal) {
                Answer::Refused(r) => {
                    let _ = reply.send(Err(Error::Refused(r)));
                }
                Answer::Ignored => {
                    let _ = reply.send(Err(Error::Refused(crate::kinds::Refusal::new(format!(
                        "task `{task}` does not take this `{}` signal",
                        signal.name
                    )))));
                }
                Answer::Done(raw) => {
                    self.answered(id, a, &signal, raw, Some(reply));
                }
            },
        }
    }

    /// Delivers an event to every attempt waiting on its type whose kind takes it.
    pub(super) fn deliver_event(
        &mut self,
        event: Value,
        reply: oneshot::Sender<Result<Vec<Delivery>, Error>>,
    ) {
        let ty = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut waiting = Vec::new();
        for (id, x) in &self.executions {
            for (t, state) in x.tasks.iter().enumerate() {
                if state.status != TaskStatus::Running {
                    continue;
                }
                for (u, unit) in state.units.iter().enumerate() {
                    if let Some(Wait::Signal {
                        name,
                        key: Some(key),
                        ..
                    }) = unit.wait.as_deref()
                        && name == crate::kinds::EVENT_SIGNAL
                        && key == ty
                    {
                        waiting.push((
                            *id,
                            AttemptRef {
                                task: t,
                                item: state.item_of(u as u32),
                                attempt: unit.attempt,
                            },
                        ));
                    }
                }
            }
        }
        let signal = Signal {
            name: crate::kinds::EVENT_SIGNAL.into(),
            payload: event,
            by: None,
        };
        let mut delivered = Vec::new();
        for (id, a) in waiting {
            self.guarded(id, |s| {
                if let Answer::Done(raw) = s.judge(id, a, &signal) {
                    delivered.extend(s.delivery(id, a));
                    s.answered(id, a, &signal, raw, None);
                }
            });
        }
        self.batch
            .after
            .push(After::ReplyEvent(reply, Ok(delivered)));
    }

    /// Ends a signal wait whose `until` passed, with what its kind decides.
    pub(super) fn expire_wait(&mut self, id: ExecutionId, key: TimerKey) {
        let TimerKey::Wait {
            task,
            item,
            attempt,
        } = &key
        else {
            return;
        };
        let Some(a) = self.waiting_attempt(id, task, *item, *attempt) else {
            return; // Answered, cancelled or superseded meanwhile.
        };
        let now = Timestamp::now();
        let Some(raw) = self.with_waiter(id, a, now, |w, waiter| w.expire(waiter)) else {
            return;
        };
        self.record(id, Event::TimerFired { key });
        self.finish_wait(id, a, raw, None);
    }

    /// Answers a signal for an execution that is not running here: it ended, or it
    /// does not exist.
    pub(super) fn signal_elsewhere(&self, id: ExecutionId, task: String, reply: SignalReply) {
        let store = self.store.clone();
        self.rt.spawn(async move {
            let answer = match store.execution(id).await {
                Ok(Some(r)) => Err(Error::NotWaiting {
                    id,
                    task,
                    why: format!("the execution is {}", r.status),
                }),
                Ok(None) => Err(Error::UnknownExecution(id)),
                Err(e) => Err(e.into()),
            };
            let _ = reply.send(answer);
        });
    }

    /// The attempt of `task` waiting on a signal named `name`, or why there is none.
    fn signal_target(
        &self,
        id: ExecutionId,
        task: &str,
        item: Option<u32>,
        name: &str,
    ) -> Result<AttemptRef, Error> {
        let Some(x) = self.executions.get(&id) else {
            return Err(Error::UnknownExecution(id));
        };
        let Some(t) = x.task_index(task) else {
            return Err(Error::UnknownTask {
                task: task.to_string(),
                workflow: x.workflow.clone(),
                version: x.version,
                tasks: x.plan.tasks.iter().map(|t| t.name.clone()).collect(),
            });
        };
        let waits_for = |unit: &crate::machine::Unit| {
            unit.status == TaskStatus::Running
                && matches!(unit.wait.as_deref(), Some(Wait::Signal { name: n, .. }) if n == name)
        };
        let state = &x.tasks[t];
        let units: Vec<u32> = match item {
            Some(i) => state.unit_of(Some(i)).into_iter().collect(),
            None => (0..state.units.len() as u32)
                .filter(|u| waits_for(&state.units[*u as usize]))
                .collect(),
        };
        match units.as_slice() {
            [u] if waits_for(&state.units[*u as usize]) => Ok(AttemptRef {
                task: t,
                item: state.item_of(*u),
                attempt: state.units[*u as usize].attempt,
            }),
            [] | [_] => Err(Error::NotWaiting {
                id,
                task: task.to_string(),
                why: match (item, state.status) {
                    (Some(i), _) if state.unit_of(Some(i)).is_none() => {
                        format!("it has no item {i}")
                    }
                    (_, TaskStatus::Running) => format!("it is running, not waiting for an {name}"),
                    (_, status) => format!("it is {status}"),
                },
            }),
            several => Err(Error::NotWaiting {
                id,
                task: task.to_string(),
                why: format!("{} of its items wait; say which with `item`", several.len()),
            }),
        }
    }

    /// Attempt `attempt` of `task` (`item`), if it waits on a signal.
    fn waiting_attempt(
        &self,
        id: ExecutionId,
        task: &str,
        item: Option<u32>,
        attempt: u32,
    ) -> Option<AttemptRef> {
        let x = self.executions.get(&id)?;
        let t = x.task_index(task)?;
        let u = x.tasks[t].unit_of(item)?;
        let unit = &x.tasks[t].units[u as usize];
        let waits = unit.status == TaskStatus::Running
            && matches!(unit.wait.as_deref(), Some(Wait::Signal { .. }))
            && attempt == unit.attempt;
        waits.then_some(AttemptRef {
            task: t,
            item,
            attempt: unit.attempt,
        })
    }

    /// What the kind of a waiting attempt says of `signal`.
    fn judge(&self, id: ExecutionId, a: AttemptRef, signal: &Signal) -> Answer {
        self.with_waiter(id, a, Timestamp::now(), |w, waiter| {
            w.signal(waiter, signal)
        })
        .unwrap_or(Answer::Ignored)
    }

    /// Calls `f` with the waiting kind of attempt `a` and the attempt as it sees it.
    fn with_waiter<T>(
        &self,
        id: ExecutionId,
        a: AttemptRef,
        now: Timestamp,
        f: impl FnOnce(&dyn crate::kinds::Waiting, &Waiter<'_>) -> T,
    ) -> Option<T> {
        let x = self.executions.get(&id)?;
        let plan_task = &x.plan.tasks[a.task];
        let kind = self.kinds.get(&plan_task.kind)?;
        let Run::Waiting(w) = kind.run() else {
            return None;
        };
        let u = x.tasks[a.task].unit_of(a.item)?;
        let Some(Wait::Signal { spec, .. }) = x.tasks[a.task].units[u as usize].wait.as_deref()
        else {
            return None;
        };
        let ctx = x.context(a.task, Some(u));
        let waiter = Waiter {
            task: &plan_task.name,
            spec,
            ctx: &ctx,
            deferred: &plan_task.deferred,
            limits: &self.config.limits,
            now,
        };
        Some(f(w, &waiter))
    }

    fn delivery(&self, id: ExecutionId, a: AttemptRef) -> Option<Delivery> {
        let x = self.executions.get(&id)?;
        Some(Delivery {
            execution: id,
            task: x.plan.tasks[a.task].name.clone(),
            item: a.item,
            attempt: a.attempt,
            result: None,
        })
    }

    /// Records that attempt `a` took `signal`, then its result.
    fn answered(
        &mut self,
        id: ExecutionId,
        a: AttemptRef,
        signal: &Signal,
        raw: Result<Value, TaskError>,
        reply: Option<SignalReply>,
    ) {
        let Some(task) = self
            .executions
            .get(&id)
            .map(|x| x.plan.tasks[a.task].name.clone())
        else {
            return;
        };
        self.record(
            id,
            Event::SignalReceived {
                task,
                item: a.item,
                attempt: a.attempt,
                name: signal.name.clone(),
                by: signal.by.as_ref().map(|b| b.name.clone()),
            },
        );
        self.finish_wait(id, a, raw, reply);
    }

    /// Applies the task's `output:` to a waiting attempt's raw result and records it
    /// (in the turn when quick, off it otherwise), then answers `reply`.
    pub(super) fn finish_wait(
        &mut self,
        id: ExecutionId,
        a: AttemptRef,
        raw: Result<Value, TaskError>,
        reply: Option<SignalReply>,
    ) {
        match self.apply_output(id, a, raw) {
            Applied::Now(result) => self.wait_ended(id, a, result, reply),
            Applied::Later(later) => later.then(move |result| Command::WaitEnded {
                execution: id,
                attempt: a,
                result,
                reply,
            }),
            Applied::Gone => {}
        }
    }

    /// Records a waiting attempt's finished result and answers `reply` once it is
    /// committed.
    pub(super) fn wait_ended(
        &mut self,
        id: ExecutionId,
        a: AttemptRef,
        result: Result<Value, TaskError>,
        reply: Option<SignalReply>,
    ) {
        let delivery = self.delivery(id, a);
        if let Some(event) = self.result_event(id, a, result.clone()) {
            self.record(id, event);
        }
        if let Some(reply) = reply {
            let answer = delivery
                .map(|d| d.with_result(result))
                .ok_or(Error::UnknownExecution(id));
            self.batch.after.push(After::ReplySignal(reply, answer));
        }
    }
}
