//! Deciding what follows from the state: the state machine's judgement.
//!
//! `decide` returns the next fact to record, or `None` when nothing more follows. The
//! caller applies each decision before asking again, so decisions cascade (a skipped task
//! makes its dependents candidates, which may be skipped in turn) until the state is
//! settled. Decisions may evaluate expressions (`if`, `for_each`, `outputs`: see
//! `evaluate`, which may defer them off the turn) and draw jitter from the
//! environment's random source; because they are recorded as events, replay never needs
//! to decide again.
//!
//! Skipped or cancelled: a task whose dependencies make it impossible is `skipped`,
//! `upstream_failed` when one of them failed and `upstream_skipped` otherwise; one that
//! never starts because the execution is stopping (a cancel, the workflow's timeout, a
//! failure elsewhere) is `cancelled`.

use harmonia_model::{Condition, ErrorClass, Join, Phase};
use harmonia_storage::TaskStatus;
use serde_json::Value;

use super::Env;
use super::evaluate::{self, Evaluated, Pending, StartOutcome};
use super::state::Execution;
use crate::event::{Event, SkipReason, StopReason, TaskError};

/// The longest wait a `Retry-After` can impose.
const MAX_RETRY_AFTER_MS: u64 = 3_600_000;

pub(crate) fn decide(x: &mut Execution, env: &mut Env) -> Option<Event> {
    if x.status.is_terminal() {
        return None;
    }
    if let Some(reason) = &x.cancel_requested
        && !matches!(x.stopping, Some(StopReason::Cancelled { .. }))
    {
        return Some(Event::Stopping {
            reason: StopReason::Cancelled {
                reason: reason.clone(),
            },
        });
    }
    if x.timed_out
        && !matches!(
            x.stopping,
            Some(StopReason::Timeout | StopReason::Cancelled { .. })
        )
    {
        return Some(Event::Stopping {
            reason: StopReason::Timeout,
        });
    }
    if let Some(t) = x.failed_task
        && x.stopping.is_none()
    {
        return Some(Event::Stopping {
            reason: StopReason::TaskFailed {
                task: x.plan.tasks[t].name.clone(),
            },
        });
    }
    while let Some((t, u)) = x.retries.pop_front() {
        if let Some(e) = retry(x, t, u, env) {
            return Some(e);
        }
    }
    while let Some(t) = x.completions.pop_front() {
        if let Some(e) = completion(x, t) {
            return Some(e);
        }
    }
    while let Some(t) = x.candidates.pop_front() {
        if let Some(e) = candidate(x, t, env) {
            return Some(e);
        }
    }
    if x.open_tasks == 0 {
        return end(x, env);
    }
    None
}

fn retry(x: &Execution, t: usize, u: u32, env: &mut Env) -> Option<Event> {
    let unit = &x.tasks[t].units.get(u as usize)?;
    if unit.status != TaskStatus::Retrying || unit.retry_due.is_some() {
        return None;
    }
    let policy = &x.plan.tasks[t].retry;
    let mut delay = policy.delay(unit.failures, env.sample());
    if let Some(ms) = unit.error.as_ref().and_then(|e| e.retry_after_ms) {
        delay = delay.max(std::time::Duration::from_millis(ms.min(MAX_RETRY_AFTER_MS)));
    }
    Some(Event::RetryScheduled {
        task: x.plan.tasks[t].name.clone(),
        item: x.tasks[t].item_of(u),
        attempt: unit.attempt + 1,
        due: env.now.plus(delay),
    })
}

fn completion(x: &mut Execution, t: usize) -> Option<Event> {
    let ts = &x.tasks[t];
    if ts.status != TaskStatus::Running || !ts.all_units_terminal() {
        return None;
    }
    let task = x.plan.tasks[t].name.clone();
    if let Some((u, unit)) = ts
        .units
        .iter()
        .enumerate()
        .find(|(_, u)| u.status == TaskStatus::Failed)
    {
        // Every attempt failed: its fallback, if it has one, decides.
        if let Some(f) = x.plan.tasks[t].fallback {
            match x.tasks[f].status {
                TaskStatus::Succeeded => {
                    let output = x.tasks[f].output.clone().unwrap_or(Value::Null);
                    return Some(Event::TaskRecovered { task, output });
                }
                s if !s.is_terminal() => {
                    // It starts (or runs): the task waits for it.
                    x.candidates.push_back(f);
                    return None;
                }
                _ => {}
            }
        }
        let mut error = unit
            .error
            .clone()
            .unwrap_or_else(|| TaskError::new(ErrorClass::Validation, "failed"));
        if ts.fan_out {
            error.item = Some(u as u32);
            error.message = format!("item {u} failed: {}", error.message);
        }
        // `on_error: pause`: a person decides, unless the execution is stopping anyway.
        if x.plan.tasks[t].on_error == harmonia_model::OnError::Pause
            && x.plan.tasks[t].phase == Phase::Main
            && x.stopping.is_none()
            && x.cancel_requested.is_none()
        {
            return Some(Event::TaskHeld { task, error });
        }
        return Some(Event::TaskFailed { task, error });
    }
    if ts.units.iter().any(|u| u.status == TaskStatus::Cancelled) {
        return Some(Event::TaskCancelled { task });
    }
    Some(Event::TaskSucceeded { task })
}

fn candidate(x: &mut Execution, t: usize, env: &mut Env) -> Option<Event> {
    if x.tasks[t].status != TaskStatus::Pending {
        return None;
    }
    if let Some(of) = x.plan.tasks[t].falls_back_for {
        let task = &x.tasks[of];
        let waiting = task.status == TaskStatus::Running
            && task.all_units_terminal()
            && task.units.iter().any(|u| u.status == TaskStatus::Failed);
        if task.status.is_terminal() && !waiting {
            x.tasks[t].start = None;
            return Some(Event::TaskSkipped {
                task: x.plan.tasks[t].name.clone(),
                reason: SkipReason::NotNeeded,
            });
        }
        if !waiting {
            // Its task has not failed (yet): decided when it ends.
            return None;
        }
    }
    let handler = x.plan.tasks[t].phase != Phase::Main;
    if handler {
        // A handler waits for every task to end, and runs only for its outcome.
        let outcome = x.ending.as_deref()?;
        if !x.plan.tasks[t].phase.runs_on(outcome_status(outcome)) {
            x.tasks[t].start = None;
            return Some(Event::TaskSkipped {
                task: x.plan.tasks[t].name.clone(),
                reason: SkipReason::OtherOutcome,
            });
        }
        if let Some(of) = x.plan.tasks[t].compensates
            && x.tasks[of].status != TaskStatus::Succeeded
        {
            x.tasks[t].start = None;
            return Some(Event::TaskSkipped {
                task: x.plan.tasks[t].name.clone(),
                reason: SkipReason::NothingToUndo,
            });
        }
    }
    let pt = &x.plan.tasks[t];
    let deps: Vec<TaskStatus> = pt.needs.iter().map(|&n| x.tasks[n].status).collect();
    if deps.iter().any(|s| !s.is_terminal()) {
        return None;
    }
    let task = pt.name.clone();
    let ok = |s: &TaskStatus| *s == TaskStatus::Succeeded;
    let runs = match pt.join {
        Join::All => deps.iter().all(ok),
        Join::Any => deps.iter().any(ok),
        Join::AllDone => true,
    };
    if !runs {
        // Its dependencies make it impossible: skipped, saying which way; unless they
        // were themselves cancelled, which is the execution stopping.
        x.tasks[t].start = None;
        return Some(if deps.contains(&TaskStatus::Failed) {
            Event::TaskSkipped {
                task,
                reason: SkipReason::UpstreamFailed,
            }
        } else if deps.contains(&TaskStatus::Cancelled) {
            Event::TaskCancelled { task }
        } else {
            Event::TaskSkipped {
                task,
                reason: SkipReason::UpstreamSkipped,
            }
        });
    }
    let stopped = if handler {
        x.handlers_stopped
    } else {
        x.stopping.is_some()
    };
    if stopped {
        x.tasks[t].start = None;
        return Some(Event::TaskCancelled { task });
    }
    let outcome = match x.tasks[t].start.take() {
        Some(Pending::Done(outcome)) => outcome,
        Some(Pending::Evaluating) => {
            x.tasks[t].start = Some(Pending::Evaluating);
            return None;
        }
        // `if: false` is known without evaluating anything.
        None if matches!(x.plan.tasks[t].condition, Condition::Never) => StartOutcome::Skip,
        None if !evaluate::has_start_expressions(&x.plan, t) => StartOutcome::Run(None),
        None => {
            let job = evaluate::start_job(x, t);
            let limits = env.limits;
            match env.budget.inline(&limits, |l| job.run(l)) {
                Some(Evaluated::Start { outcome, .. }) => outcome,
                _ => {
                    x.tasks[t].start = Some(Pending::Evaluating);
                    x.evaluations.push(job);
                    return None;
                }
            }
        }
    };
    Some(match outcome {
        StartOutcome::Run(items) => Event::TaskStarted { task, items },
        StartOutcome::Skip => Event::TaskSkipped {
            task,
            reason: SkipReason::Condition,
        },
        StartOutcome::Fail(error) => Event::TaskFailed { task, error },
    })
}

/// The status an outcome event ends an execution with.
fn outcome_status(outcome: &Event) -> &'static str {
    match outcome {
        Event::ExecutionSucceeded { .. } => "succeeded",
        Event::ExecutionFailed { .. } => "failed",
        _ => "cancelled",
    }
}

/// Every open task has ended: the outcome, recorded as `Ending` first when the
/// workflow has handlers (they run, then the outcome is recorded as it is).
fn end(x: &mut Execution, env: &mut Env) -> Option<Event> {
    if let Some(outcome) = &x.ending {
        return Some(outcome.as_ref().clone());
    }
    let outcome = outcome(x, env)?;
    if x.plan.tasks.iter().any(|t| t.phase != Phase::Main) {
        return Some(Event::Ending {
            outcome: Box::new(outcome),
        });
    }
    Some(outcome)
}

fn outcome(x: &mut Execution, env: &mut Env) -> Option<Event> {
    match &x.stopping {
        Some(StopReason::TaskFailed { task }) => {
            let t = x.task_index(task);
            let cause = t.and_then(|t| x.tasks[t].error.clone());
            let mut error =
                cause.unwrap_or_else(|| TaskError::new(ErrorClass::Validation, "failed"));
            error.message = format!("task `{task}` failed: {}", error.message);
            error.task = Some(task.clone());
            Some(Event::ExecutionFailed { error })
        }
        Some(StopReason::Timeout) => {
            let limit = x
                .plan
                .timeout
                .map(|d| harmonia_model::Dur(d).to_string())
                .unwrap_or_default();
            Some(Event::ExecutionFailed {
                error: TaskError::new(
                    ErrorClass::Timeout,
                    format!("the workflow did not finish within its timeout of {limit}"),
                ),
            })
        }
        Some(StopReason::Cancelled { .. }) => Some(Event::ExecutionCancelled),
        None => outputs(x, env),
    }
}

fn outputs(x: &mut Execution, env: &mut Env) -> Option<Event> {
    let result = match x.outputs_eval.take() {
        Some(Pending::Done(result)) => result,
        Some(Pending::Evaluating) => {
            x.outputs_eval = Some(Pending::Evaluating);
            return None;
        }
        None if x.plan.outputs.is_empty() => Ok(Value::Object(serde_json::Map::new())),
        None => {
            let job = evaluate::outputs_job(x);
            let limits = env.limits;
            match env.budget.inline(&limits, |l| job.run(l)) {
                Some(Evaluated::Outputs(result)) => result,
                _ => {
                    x.outputs_eval = Some(Pending::Evaluating);
                    x.evaluations.push(job);
                    return None;
                }
            }
        }
    };
    Some(match result {
        Ok(outputs) => Event::ExecutionSucceeded { outputs },
        Err(error) => Event::ExecutionFailed { error },
    })
}
