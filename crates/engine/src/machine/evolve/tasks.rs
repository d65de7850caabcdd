//! Decisions about whole tasks: started (with its fan-out items), skipped, succeeded,
//! failed, cancelled; and cancelling a task's units.

use harmonia_model::OnError;
use harmonia_storage::{ExecutionStatus, TaskStatus, Timestamp};
use serde_json::Value;

use crate::event::{Decision, Event, Wait};
use crate::machine::state::{Execution, start_task};
use crate::machine::{AttemptRef, Effect};

/// Applies an event of this family.
pub(super) fn apply(x: &mut Execution, event: &Event, at: Timestamp, effects: &mut Vec<Effect>) {
    match event {
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
                // A handler's failure is recorded and changes nothing of the outcome.
                if x.plan.tasks[t].on_error == OnError::Fail
                    && x.plan.tasks[t].phase == harmonia_model::Phase::Main
                    // A fallback's failure is its task's to report.
                    && x.plan.tasks[t].falls_back_for.is_none()
                    && x.stopping.is_none()
                    && x.failed_task.is_none()
                {
                    x.failed_task = Some(t);
                }
            }
        }
        Event::TaskRecovered { task, output } => {
            if let Some(t) = x.task_index(task)
                && x.tasks[t].status == TaskStatus::Running
            {
                let ts = &mut x.tasks[t];
                ts.output = Some(output.clone());
                ts.status = TaskStatus::Succeeded;
                ts.recovered = true;
                // What it recovered from stays readable.
                ts.error = ts.units.iter().rev().find_map(|u| u.error.clone());
                ts.ended_at = Some(at);
                x.task_ended(t);
            }
        }
        Event::TaskHeld { task, error } => {
            if let Some(t) = x.task_index(task)
                && x.tasks[t].status == TaskStatus::Running
            {
                x.tasks[t].status = TaskStatus::Held;
                x.tasks[t].error = Some(error.clone());
                x.mark_task(t);
                x.paused = true;
                x.status = ExecutionStatus::Paused;
                x.dirty.execution = true;
            }
        }
        Event::TaskDecided { task, decision } => {
            if let Some(t) = x.task_index(task) {
                if x.tasks[t].status == TaskStatus::Held {
                    decide_held(x, t, decision, at);
                } else if reopenable(x, t) {
                    reopen_failed(x, t, decision, at);
                }
            }
        }
        Event::TaskCancelled { task } => {
            if let Some(t) = x.task_index(task)
                && !x.tasks[t].status.is_terminal()
            {
                cancel_task(x, t, at, effects);
            }
        }
        _ => {}
    }
}

/// Whether failed task `t` of a paused execution can be decided again: nothing
/// downstream of it has run (every task downstream is pending or was skipped).
pub(crate) fn reopenable(x: &Execution, t: usize) -> bool {
    x.status == ExecutionStatus::Paused
        && x.tasks[t].status == TaskStatus::Failed
        && x.plan.tasks[t].phase == harmonia_model::Phase::Main
        && downstream(x, t)
            .iter()
            .all(|&d| matches!(x.tasks[d].status, TaskStatus::Pending | TaskStatus::Skipped))
}

/// The tasks downstream of `t` (through `dependents`).
fn downstream(x: &Execution, t: usize) -> Vec<usize> {
    let mut seen = vec![false; x.tasks.len()];
    let mut stack = x.plan.tasks[t].dependents.clone();
    let mut out = Vec::new();
    while let Some(d) = stack.pop() {
        if !std::mem::replace(&mut seen[d], true) {
            out.push(d);
            stack.extend(x.plan.tasks[d].dependents.iter().copied());
        }
    }
    out
}

/// A person's decision for failed task `t` of a paused execution (see `reopenable`):
/// the tasks skipped because of it are pending again, and it is retried, takes an
/// output, or fails the execution. The execution stays paused until it is resumed.
fn reopen_failed(x: &mut Execution, t: usize, decision: &Decision, at: Timestamp) {
    if *decision == Decision::Fail {
        if x.stopping.is_none() && x.failed_task.is_none() {
            x.failed_task = Some(t);
        }
        return;
    }
    for d in downstream(x, t) {
        if x.tasks[d].status == TaskStatus::Skipped {
            let ts = &mut x.tasks[d];
            ts.status = TaskStatus::Pending;
            ts.skip_reason = None;
            ts.ended_at = None;
            x.open_tasks += 1;
            x.mark_task(d);
        }
    }
    x.open_tasks += 1;
    x.tasks[t].status = TaskStatus::Held;
    decide_held(x, t, decision, at);
    // Reopened under a person's pause: it stays paused until they resume it.
    x.paused = true;
    x.status = ExecutionStatus::Paused;
}

/// A person's decision for held task `t`; the execution goes on once no task is held.
fn decide_held(x: &mut Execution, t: usize, decision: &Decision, at: Timestamp) {
    match decision {
        Decision::Retry => {
            x.tasks[t].status = TaskStatus::Running;
            for u in 0..x.tasks[t].units.len() as u32 {
                if x.tasks[t].units[u as usize].status == TaskStatus::Failed {
                    let unit = &mut x.tasks[t].units[u as usize];
                    unit.failures = 0;
                    unit.ended_at = None;
                    x.set_unit(t, u, TaskStatus::Pending);
                    x.tasks[t].requeue.push_back(u);
                }
            }
            x.mark_task(t);
            x.dispatch.push_back(t);
        }
        Decision::Skip { output } => {
            let ts = &mut x.tasks[t];
            ts.status = TaskStatus::Succeeded;
            ts.output = Some(output.clone());
            ts.ended_at = Some(at);
            x.task_ended(t);
        }
        Decision::Fail => {
            x.tasks[t].status = TaskStatus::Failed;
            x.tasks[t].ended_at = Some(at);
            x.task_ended(t);
            if x.stopping.is_none() && x.failed_task.is_none() {
                x.failed_task = Some(t);
            }
        }
    }
    if !x.tasks.iter().any(|ts| ts.status == TaskStatus::Held) {
        x.paused = false;
        x.status = ExecutionStatus::Running;
        x.dirty.execution = true;
        x.dispatch.extend(0..x.tasks.len());
    }
}

/// Cancels every unit of task `t` that has not ended, and the task itself.
pub(super) fn cancel_task(x: &mut Execution, t: usize, at: Timestamp, effects: &mut Vec<Effect>) {
    cancel_units(x, t, at, true, effects);
    let ts = &mut x.tasks[t];
    ts.status = TaskStatus::Cancelled;
    ts.ended_at = Some(at);
    x.task_ended(t);
}

/// Cancels the units of `t` that have not ended; running ones only if `running`.
/// Queued units are aborted too: the scheduler may have started them already.
pub(super) fn cancel_units(
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
        match (status, unit.wait.as_deref()) {
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
