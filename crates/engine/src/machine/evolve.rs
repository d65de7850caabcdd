//! Folding one event into the state.
//!
//! `evolve` never decides anything: it records what the event says, keeps the counters
//! and worklists right, and returns the effects that follow directly from the event
//! (a timer to set, running attempts to abort, the end of the execution). Events that
//! no longer apply (the result of an attempt that was cancelled meanwhile, a timer of a
//! unit that moved on) change nothing: replay and live operation see the same log and
//! must agree.

use harmonia_model::{ErrorClass, OnError};
use harmonia_storage::{ExecutionStatus, TaskStatus, Timestamp};
use serde_json::Value;

use super::state::{Execution, start_task};
use super::{AttemptRef, Effect};
use crate::event::{Event, StopReason, TimerKey, Wait};

/// The task and unit an event names, if they exist.
pub(crate) fn locate(x: &Execution, task: &str, item: Option<u32>) -> Option<(usize, u32)> {
    let t = x.task_index(task)?;
    let u = x.tasks[t].unit_of(item)?;
    Some((t, u))
}

/// Whether attempt `attempt` of unit `(t, u)` is the one in progress.
fn current(x: &Execution, t: usize, u: u32, attempt: u32) -> bool {
    let unit = &x.tasks[t].units[u as usize];
    unit.attempt == attempt && matches!(unit.status, TaskStatus::Running | TaskStatus::Queued)
}

/// Applies `event` (which happened at `at`) to `x`.
pub(crate) fn evolve(x: &mut Execution, event: &Event, at: Timestamp) -> Vec<Effect> {
    x.seq += 1;
    let mut effects = Vec::new();
    match event {
        Event::ExecutionStarted { reused, .. } => {
            // The state is created from this event (see `machine::start`); applying it
            // takes in the reused outputs of a retried execution and arms the timeout.
            for r in reused {
                if let Some(t) = x.task_index(&r.task)
                    && x.tasks[t].status == TaskStatus::Pending
                {
                    let ts = &mut x.tasks[t];
                    ts.status = TaskStatus::Succeeded;
                    ts.output = Some(r.output.clone());
                    ts.started_at = Some(at);
                    ts.ended_at = Some(at);
                    x.task_ended(t);
                }
            }
            if let Some(timeout) = x.plan.timeout {
                effects.push(Effect::SetTimer {
                    key: TimerKey::Timeout,
                    due: x.started_at.plus(timeout),
                });
            }
        }
        Event::TaskStarted { task, items } => {
            if let Some(t) = x.task_index(task)
                && x.tasks[t].status == TaskStatus::Pending
            {
                start_task(x, t, items.as_ref(), at);
            }
        }
        Event::TaskSkipped { task, reason } => {
            if let Some(t) = x.task_index(task)
                && x.tasks[t].status == TaskStatus::Pending
            {
                let ts = &mut x.tasks[t];
                ts.status = TaskStatus::Skipped;
                ts.skip_reason = Some(*reason);
                ts.ended_at = Some(at);
                x.task_ended(t);
            }
        }
        Event::AttemptStarted {
            task,
            item,
            attempt,
            ..
        } => {
            if let Some((t, u)) = locate(x, task, *item) {
                let unit = &x.tasks[t].units[u as usize];
                if !unit.status.is_terminal() && *attempt > unit.attempt {
                    let unit = &mut x.tasks[t].units[u as usize];
                    unit.attempt = *attempt;
                    unit.retry_due = None;
                    unit.wait = None;
                    unit.started_at.get_or_insert(at);
                    let task_state = &mut x.tasks[t];
                    task_state.next = task_state.next.max(u + 1);
                    task_state.started_at.get_or_insert(at);
                    x.set_unit(t, u, TaskStatus::Running);
                    x.mark_unit(t, u);
                }
            }
        }
        Event::AttemptWaiting {
            task,
            item,
            attempt,
            wait,
        } => {
            if let Some((t, u)) = locate(x, task, *item)
                && current(x, t, u, *attempt)
            {
                x.tasks[t].units[u as usize].wait = Some(wait.clone());
                x.mark_unit(t, u);
                if let Some((key, due)) = wait_timer(task, *item, *attempt, wait) {
                    effects.push(Effect::SetTimer { key, due });
                }
            }
        }
        Event::SignalReceived {
            task,
            item,
            attempt,
            name,
            ..
        } => {
            // Only a wait for this signal ends; before the wait begins, or after it
            // ended, a signal changes nothing.
            if let Some((t, u)) = locate(x, task, *item)
                && current(x, t, u, *attempt)
                && matches!(&x.tasks[t].units[u as usize].wait, Some(Wait::Signal { name: n, .. }) if n == name)
            {
                x.tasks[t].units[u as usize].wait = None;
                x.mark_unit(t, u);
            }
        }
        Event::AttemptSucceeded {
            task,
            item,
            attempt,
            output,
        } => {
            if let Some((t, u)) = locate(x, task, *item)
                && current(x, t, u, *attempt)
            {
                succeed_unit(x, t, u, output.clone(), at);
            }
        }
        Event::AttemptFailed {
            task,
            item,
            attempt,
            error,
        } => {
            if let Some((t, u)) = locate(x, task, *item)
                && current(x, t, u, *attempt)
            {
                let retry = &x.plan.tasks[t].retry;
                let unit = &mut x.tasks[t].units[u as usize];
                unit.failures += 1;
                unit.error = Some(error.clone());
                unit.wait = None;
                let retried = x.stopping.is_none()
                    && error.class != ErrorClass::Cancelled
                    && retry.should_retry(error.class, unit.failures);
                if retried {
                    x.set_unit(t, u, TaskStatus::Retrying);
                    x.retries.push_back((t, u));
                } else {
                    x.tasks[t].units[u as usize].ended_at = Some(at);
                    x.set_unit(t, u, TaskStatus::Failed);
                    // A fan-out fails fast: items not started yet will not start.
                    cancel_units(x, t, at, false, &mut effects);
                    unit_ended(x, t);
                }
            }
        }
        Event::RetryScheduled {
            task,
            item,
            attempt,
            due,
        } => {
            if let Some((t, u)) = locate(x, task, *item) {
                let unit = &mut x.tasks[t].units[u as usize];
                if unit.status == TaskStatus::Retrying && unit.retry_due.is_none() {
                    unit.retry_due = Some(*due);
                    x.mark_unit(t, u);
                    effects.push(Effect::SetTimer {
                        key: TimerKey::Retry {
                            task: task.clone(),
                            item: *item,
                            attempt: *attempt,
                        },
                        due: *due,
                    });
                }
            }
        }
        Event::TimerFired { key } => match key {
            TimerKey::Timeout => {
                if !x.status.is_terminal() {
                    x.timed_out = true;
                }
            }
            TimerKey::Retry {
                task,
                item,
                attempt,
            } => {
                if let Some((t, u)) = locate(x, task, *item) {
                    let unit = &x.tasks[t].units[u as usize];
                    if unit.status == TaskStatus::Retrying && unit.attempt + 1 == *attempt {
                        x.tasks[t].units[u as usize].retry_due = None;
                        x.set_unit(t, u, TaskStatus::Pending);
                        x.tasks[t].requeue.push_back(u);
                        x.dispatch.push_back(t);
                    }
                }
            }
            TimerKey::Sleep {
                task,
                item,
                attempt,
            } => {
                if let Some((t, u)) = locate(x, task, *item)
                    && current(x, t, u, *attempt)
                    && matches!(x.tasks[t].units[u as usize].wait, Some(Wait::Timer { .. }))
                {
                    succeed_unit(x, t, u, Value::Null, at);
                }
            }
            // The end of a signal wait: what it means is the task's kind's to decide,
            // and comes next as the attempt's result (see `scheduler::waits`). The wait
            // ends here, so that no signal can end it too.
            TimerKey::Wait {
                task,
                item,
                attempt,
            } => {
                if let Some((t, u)) = locate(x, task, *item)
                    && current(x, t, u, *attempt)
                    && matches!(x.tasks[t].units[u as usize].wait, Some(Wait::Signal { .. }))
                {
                    x.tasks[t].units[u as usize].wait = None;
                    x.mark_unit(t, u);
                }
            }
        },
        Event::TaskSucceeded { task } => {
            if let Some(t) = x.task_index(task)
                && x.tasks[t].status == TaskStatus::Running
            {
                let ts = &mut x.tasks[t];
                let output = if ts.fan_out {
                    Value::Array(
                        ts.units
                            .iter()
                            .map(|u| u.output.clone().unwrap_or(Value::Null))
                            .collect(),
                    )
                } else {
                    ts.units
                        .first()
                        .and_then(|u| u.output.clone())
                        .unwrap_or(Value::Null)
                };
                ts.output = Some(output);
                ts.status = TaskStatus::Succeeded;
                ts.ended_at = Some(at);
                x.task_ended(t);
            }
        }
        Event::TaskFailed { task, error } => {
            if let Some(t) = x.task_index(task)
                && matches!(x.tasks[t].status, TaskStatus::Running | TaskStatus::Pending)
            {
                let ts = &mut x.tasks[t];
                ts.status = TaskStatus::Failed;
                ts.error = Some(error.clone());
                ts.ended_at = Some(at);
                x.task_ended(t);
                if x.plan.tasks[t].on_error == OnError::Fail
                    && x.stopping.is_none()
                    && x.failed_task.is_none()
                {
                    x.failed_task = Some(t);
                }
            }
        }
        Event::TaskCancelled { task } => {
            if let Some(t) = x.task_index(task)
                && !x.tasks[t].status.is_terminal()
            {
                cancel_task(x, t, at, &mut effects);
            }
        }
        Event::CancelRequested { reason } => {
            if !x.status.is_terminal() {
                x.cancel_requested = Some(reason.clone());
            }
        }
        Event::Paused => {
            if x.status == ExecutionStatus::Running {
                x.paused = true;
                x.status = ExecutionStatus::Paused;
                x.dirty.execution = true;
            }
        }
        Event::Resumed => {
            if x.status == ExecutionStatus::Paused {
                x.paused = false;
                x.status = ExecutionStatus::Running;
                x.dirty.execution = true;
                x.dispatch.extend(0..x.tasks.len());
            }
        }
        Event::Stopping { reason } => stop(x, reason, at, &mut effects),
        Event::ExecutionSucceeded { outputs } => {
            if !x.status.is_terminal() {
                x.outputs = Some(outputs.clone());
                finish(x, ExecutionStatus::Succeeded, at, &mut effects);
            }
        }
        Event::ExecutionFailed { error } => {
            if !x.status.is_terminal() {
                x.error = Some(error.clone());
                finish(x, ExecutionStatus::Failed, at, &mut effects);
            }
        }
        Event::ExecutionCancelled => {
            if !x.status.is_terminal() {
                finish(x, ExecutionStatus::Cancelled, at, &mut effects);
            }
        }
    }
    effects
}

fn succeed_unit(x: &mut Execution, t: usize, u: u32, output: Value, at: Timestamp) {
    let unit = &mut x.tasks[t].units[u as usize];
    unit.output = Some(output);
    unit.error = None;
    unit.wait = None;
    unit.ended_at = Some(at);
    x.set_unit(t, u, TaskStatus::Succeeded);
    unit_ended(x, t);
}

/// A unit ended: its slot is free, and the task may be complete.
fn unit_ended(x: &mut Execution, t: usize) {
    if x.tasks[t].all_units_terminal() {
        x.completions.push_back(t);
    } else {
        x.dispatch.push_back(t);
    }
}

fn finish(x: &mut Execution, status: ExecutionStatus, at: Timestamp, effects: &mut Vec<Effect>) {
    x.status = status;
    x.ended_at = Some(at);
    x.paused = false;
    x.dirty.execution = true;
    effects.push(Effect::Finished);
}

/// Cancels every unit of task `t` that has not ended, and the task itself.
fn cancel_task(x: &mut Execution, t: usize, at: Timestamp, effects: &mut Vec<Effect>) {
    cancel_units(x, t, at, true, effects);
    let ts = &mut x.tasks[t];
    ts.status = TaskStatus::Cancelled;
    ts.ended_at = Some(at);
    x.task_ended(t);
}

/// The timer a wait arms, if any: a sleep's end, or a signal wait's `until`.
pub(crate) fn wait_timer(
    task: &str,
    item: Option<u32>,
    attempt: u32,
    wait: &Wait,
) -> Option<(TimerKey, Timestamp)> {
    let task = task.to_string();
    match wait {
        Wait::Timer { due } => Some((
            TimerKey::Sleep {
                task,
                item,
                attempt,
            },
            *due,
        )),
        Wait::Signal {
            until: Some(until), ..
        } => Some((
            TimerKey::Wait {
                task,
                item,
                attempt,
            },
            *until,
        )),
        _ => None,
    }
}

/// Cancels the units of `t` that have not ended; running ones only if `running`.
/// Queued units are aborted too: the scheduler may have started them already.
fn cancel_units(
    x: &mut Execution,
    t: usize,
    at: Timestamp,
    running: bool,
    effects: &mut Vec<Effect>,
) {
    for u in 0..x.tasks[t].units.len() as u32 {
        let unit = &x.tasks[t].units[u as usize];
        let status = unit.status;
        if status.is_terminal() || (status == TaskStatus::Running && !running) {
            continue;
        }
        let item = x.tasks[t].item_of(u);
        match (status, &unit.wait) {
            (TaskStatus::Running, Some(Wait::Child { execution })) => {
                effects.push(Effect::CancelChild(*execution));
            }
            (TaskStatus::Running, _) => effects.push(Effect::Abort(AttemptRef {
                task: t,
                item,
                attempt: unit.attempt,
            })),
            (TaskStatus::Queued, _) => effects.push(Effect::Abort(AttemptRef {
                task: t,
                item,
                attempt: unit.attempt + 1,
            })),
            _ => {}
        }
        let unit = &mut x.tasks[t].units[u as usize];
        unit.ended_at = Some(at);
        unit.retry_due = None;
        unit.wait = None;
        x.set_unit(t, u, TaskStatus::Cancelled);
    }
    if x.tasks[t].status == TaskStatus::Running && x.tasks[t].all_units_terminal() {
        x.completions.push_back(t);
    }
}

/// The execution stops starting work; a timeout or a cancel also stops running work.
fn stop(x: &mut Execution, reason: &StopReason, at: Timestamp, effects: &mut Vec<Effect>) {
    if x.status.is_terminal() {
        return;
    }
    let hard = !matches!(reason, StopReason::TaskFailed { .. });
    let escalates = hard && matches!(x.stopping, None | Some(StopReason::TaskFailed { .. }));
    if x.stopping.is_some() && !escalates {
        return;
    }
    x.stopping = Some(reason.clone());
    x.dirty.execution = true;
    for t in 0..x.tasks.len() {
        match x.tasks[t].status {
            // A cancel or a timeout ends every task that has not started. After a failure
            // (a soft stop), each is decided once its dependencies have ended: skipped if
            // one of them failed (`upstream_failed`), cancelled otherwise (see `decide`).
            TaskStatus::Pending if hard => cancel_task(x, t, at, effects),
            TaskStatus::Pending => x.candidates.push_back(t),
            TaskStatus::Running => cancel_units(x, t, at, hard, effects),
            _ => {}
        }
    }
    x.completions.extend(0..x.tasks.len());
}
