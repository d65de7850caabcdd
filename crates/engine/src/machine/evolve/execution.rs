//! The execution's own events: its start (reused outputs, the workflow's timeout),
//! cancel, pause and resume, stopping, and its end.

use harmonia_storage::{ExecutionStatus, TaskStatus, Timestamp};

use harmonia_model::Phase;
use serde_json::{Value, json};

use crate::event::{Event, StopReason, TimerKey};
use crate::machine::Effect;
use crate::machine::state::Execution;

/// Applies an event of this family.
pub(super) fn apply(x: &mut Execution, event: &Event, at: Timestamp, effects: &mut Vec<Effect>) {
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
        Event::CancelRequested { reason } if !x.status.is_terminal() => {
            x.cancel_requested = Some(reason.clone());
        }
        Event::Paused if x.status == ExecutionStatus::Running => {
            x.paused = true;
            x.status = ExecutionStatus::Paused;
            x.dirty.execution = true;
        }
        Event::Resumed if x.status == ExecutionStatus::Paused => {
            x.paused = false;
            x.status = ExecutionStatus::Running;
            x.dirty.execution = true;
            x.dispatch.extend(0..x.tasks.len());
        }
        Event::Stopping { reason } => stop(x, reason, at, effects),
        Event::Ending { outcome } if x.ending.is_none() && !x.status.is_terminal() => {
            begin_handlers(x, outcome);
        }
        Event::ExecutionSucceeded { outputs } if !x.status.is_terminal() => {
            x.outputs = Some(outputs.clone());
            finish(x, ExecutionStatus::Succeeded, at, effects);
        }
        Event::ExecutionFailed { error } if !x.status.is_terminal() => {
            x.error = Some(error.clone());
            finish(x, ExecutionStatus::Failed, at, effects);
        }
        Event::ExecutionCancelled if !x.status.is_terminal() => {
            finish(x, ExecutionStatus::Cancelled, at, effects);
        }
        // Events of other families, and events that no longer apply.
        _ => {}
    }
}

fn finish(x: &mut Execution, status: ExecutionStatus, at: Timestamp, effects: &mut Vec<Effect>) {
    x.status = status;
    x.ended_at = Some(at);
    x.paused = false;
    x.dirty.execution = true;
    effects.push(Effect::Finished);
}

/// The execution stops starting work; a timeout or a cancel also stops running work.
fn stop(x: &mut Execution, reason: &StopReason, at: Timestamp, effects: &mut Vec<Effect>) {
    if x.status.is_terminal() {
        return;
    }
    let hard = !matches!(reason, StopReason::TaskFailed { .. });
    if x.ending.is_some() {
        // The handlers are running: a cancel or a timeout now stops them (the outcome
        // stays the one recorded in `Ending`).
        if !hard || x.handlers_stopped {
            return;
        }
        x.handlers_stopped = true;
    } else {
        let escalates = hard && matches!(x.stopping, None | Some(StopReason::TaskFailed { .. }));
        if x.stopping.is_some() && !escalates {
            return;
        }
        x.stopping = Some(reason.clone());
    }
    x.dirty.execution = true;
    for t in 0..x.tasks.len() {
        // Handlers are not the tasks' to stop: they run once the tasks have ended.
        if x.plan.tasks[t].phase != Phase::Main && x.ending.is_none() {
            continue;
        }
        match x.tasks[t].status {
            // A cancel or a timeout ends every task that has not started. After a failure
            // (a soft stop), each is decided once its dependencies have ended: skipped if
            // one of them failed (`upstream_failed`), cancelled otherwise (see `decide`).
            TaskStatus::Pending if hard => super::tasks::cancel_task(x, t, at, effects),
            TaskStatus::Pending => x.candidates.push_back(t),
            TaskStatus::Running => super::tasks::cancel_units(x, t, at, hard, effects),
            _ => {}
        }
    }
    x.completions.extend(0..x.tasks.len());
}

/// Every task has ended with `outcome`: `$execution` says it, and the handlers become
/// open tasks (those without `needs` are candidates; `decide` skips those of another
/// outcome).
fn begin_handlers(x: &mut Execution, outcome: &Event) {
    x.ending = Some(Box::new(outcome.clone()));
    let (status, error) = match outcome {
        Event::ExecutionSucceeded { .. } => ("succeeded", Value::Null),
        Event::ExecutionFailed { error } => (
            "failed",
            json!({"task": error.task, "class": error.class, "message": error.message}),
        ),
        _ => ("cancelled", Value::Null),
    };
    x.ctx.execution = harmonia_expr::Val::from(json!({
        "id": x.id.to_string(),
        "workflow": x.workflow,
        "version": x.version,
        "started_at": x.started_at.to_string(),
        "status": status,
        "error": error,
    }));
    for t in 0..x.tasks.len() {
        if x.plan.tasks[t].phase == Phase::Main {
            continue;
        }
        x.open_tasks += 1;
        if x.plan.tasks[t].needs.is_empty() {
            x.candidates.push_back(t);
        }
    }
}
