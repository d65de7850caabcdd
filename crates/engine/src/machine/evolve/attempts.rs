//! An attempt's life: started, waiting (and its wait's timer), a signal taken, its
//! result, and the retry it may lead to.

use harmonia_model::ErrorClass;
use harmonia_storage::{TaskStatus, Timestamp};

use super::{current, end_wait, locate, succeed_unit, unit_ended, waiting};
use crate::event::{Event, TimerKey, Wait};
use crate::machine::Effect;
use crate::machine::state::Execution;

/// Adds an attempt's LLM tokens to its execution's: whether or not the result is
/// still current, the tokens were spent.
fn count_tokens(x: &mut Execution, usage: Option<crate::event::TokenUsage>) {
    if let Some(u) = usage {
        x.tokens_used = x.tokens_used.saturating_add(u.total());
    }
}

/// Applies an event of this family.
pub(super) fn apply(x: &mut Execution, event: &Event, at: Timestamp, effects: &mut Vec<Effect>) {
    match event {
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
                    let raised = *attempt - unit.attempt;
                    unit.attempt = *attempt;
                    unit.retry_due = None;
                    unit.wait = None;
                    unit.started_at.get_or_insert(at);
                    let task_state = &mut x.tasks[t];
                    task_state.attempts_total = task_state.attempts_total.saturating_add(raised);
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
                if let Some((key, due)) = super::wait_timer(task, *item, *attempt, wait) {
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
            let signal = |w: &Wait| matches!(w, Wait::Signal { name: n, .. } if n == name);
            if let Some((t, u)) = waiting(x, task, *item, *attempt, signal) {
                end_wait(x, t, u);
            }
        }
        Event::AttemptSucceeded {
            task,
            item,
            attempt,
            output,
            usage,
        } => {
            count_tokens(x, *usage);
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
            usage,
        } => {
            count_tokens(x, *usage);
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
                    && !error.permanent
                    && retry.should_retry(error.class, unit.failures);
                if retried {
                    x.set_unit(t, u, TaskStatus::Retrying);
                    x.retries.push_back((t, u));
                } else {
                    x.tasks[t].units[u as usize].ended_at = Some(at);
                    x.set_unit(t, u, TaskStatus::Failed);
                    // A fan-out fails fast: items not started yet will not start.
                    super::tasks::cancel_units(x, t, at, false, effects);
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
        _ => {}
    }
}
