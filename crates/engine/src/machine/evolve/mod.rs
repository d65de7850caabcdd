//! Folding one event into the state.
//!
//! `evolve` never decides anything: it records what the event says, keeps the counters
//! and worklists right, and returns the effects that follow directly from the event
//! (a timer to set, running attempts to abort, the end of the execution). Events that
//! no longer apply (the result of an attempt that was cancelled meanwhile, a timer of a
//! unit that moved on) change nothing: replay and live operation see the same log and
//! must agree.
//!
//! One module per family of events: `execution` (start, cancel, pause, the end),
//! `tasks` (the decisions about whole tasks), `attempts` (an attempt's start, wait,
//! signal and result, and retries), `timers`. This module routes an event to its
//! family and holds what several families share.

mod attempts;
mod execution;
mod tasks;

pub(crate) use tasks::reopenable;
mod timers;

use harmonia_storage::{TaskStatus, Timestamp};
use serde_json::Value;

use super::Effect;
use super::state::Execution;
use crate::event::{Event, TimerKey, Wait};

/// The task and unit an event names, if they exist.
pub(crate) fn locate(x: &Execution, task: &str, item: Option<u32>) -> Option<(usize, u32)> {
    let t = x.task_index(task)?;
    let u = x.tasks[t].unit_of(item)?;
    Some((t, u))
}

/// Whether attempt `attempt` of unit `(t, u)` is the one in progress.
pub(crate) fn current(x: &Execution, t: usize, u: u32, attempt: u32) -> bool {
    let unit = &x.tasks[t].units[u as usize];
    unit.attempt == attempt && matches!(unit.status, TaskStatus::Running | TaskStatus::Queued)
}

/// The unit of `task` (`item`) whose current attempt is `attempt` and waits on
/// something `on` accepts.
pub(super) fn waiting(
    x: &Execution,
    task: &str,
    item: Option<u32>,
    attempt: u32,
    on: impl Fn(&Wait) -> bool,
) -> Option<(usize, u32)> {
    let (t, u) = locate(x, task, item)?;
    let waits = x.tasks[t].units[u as usize].wait.as_deref().is_some_and(on);
    (current(x, t, u, attempt) && waits).then_some((t, u))
}

/// Ends the wait of unit `u` of task `t` (its result comes as another event).
pub(super) fn end_wait(x: &mut Execution, t: usize, u: u32) {
    x.tasks[t].units[u as usize].wait = None;
    x.mark_unit(t, u);
}

/// Applies `event` (which happened at `at`) to `x`.
pub(crate) fn evolve(x: &mut Execution, event: &Event, at: Timestamp) -> Vec<Effect> {
    x.seq += 1;
    let mut effects = Vec::new();
    match event {
        Event::ExecutionStarted { .. }
        | Event::CancelRequested { .. }
        | Event::Paused
        | Event::Resumed
        | Event::Stopping { .. }
        | Event::Ending { .. }
        | Event::ExecutionSucceeded { .. }
        | Event::ExecutionFailed { .. }
        | Event::ExecutionCancelled => execution::apply(x, event, at, &mut effects),
        Event::TaskStarted { .. }
        | Event::TaskSkipped { .. }
        | Event::TaskSucceeded { .. }
        | Event::TaskFailed { .. }
        | Event::TaskCancelled { .. }
        | Event::TaskRecovered { .. }
        | Event::TaskHeld { .. }
        | Event::TaskDecided { .. } => tasks::apply(x, event, at, &mut effects),
        Event::AttemptStarted { .. }
        | Event::AttemptWaiting { .. }
        | Event::SignalReceived { .. }
        | Event::AttemptSucceeded { .. }
        | Event::AttemptFailed { .. }
        | Event::RetryScheduled { .. } => attempts::apply(x, event, at, &mut effects),
        Event::TimerFired { key } => timers::apply(x, key, at, &mut effects),
    }
    effects
}

pub(super) fn succeed_unit(x: &mut Execution, t: usize, u: u32, output: Value, at: Timestamp) {
    let unit = &mut x.tasks[t].units[u as usize];
    unit.output = Some(output);
    unit.error = None;
    unit.wait = None;
    unit.ended_at = Some(at);
    x.set_unit(t, u, TaskStatus::Succeeded);
    unit_ended(x, t);
}

/// A unit ended: its slot is free, and the task may be complete.
pub(super) fn unit_ended(x: &mut Execution, t: usize) {
    if x.tasks[t].all_units_terminal() {
        x.completions.push_back(t);
    } else {
        x.dispatch.push_back(t);
    }
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
