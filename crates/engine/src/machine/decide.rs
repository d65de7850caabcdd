//! Deciding what follows from the state: the state machine's judgement.
//!
//! `decide` returns the next fact to record, or `None` when nothing more follows. The
//! caller applies each decision before asking again, so decisions cascade (a skipped task
//! makes its dependents candidates, which may be skipped in turn) until the state is
//! settled. Decisions may evaluate expressions (`if`, `for_each`, `outputs`) and draw
//! jitter from the environment's random source; because they are recorded as events,
//! replay never needs to decide again.

use harmonia_model::{Condition, ErrorClass, ForEach, Join};
use harmonia_storage::TaskStatus;
use serde_json::Value;

use super::Env;
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
        return Some(end(x, env));
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

fn completion(x: &Execution, t: usize) -> Option<Event> {
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
        let mut error = unit
            .error
            .clone()
            .unwrap_or_else(|| TaskError::new(ErrorClass::Validation, "failed"));
        if ts.fan_out {
            error.item = Some(u as u32);
            error.message = format!("item {u} failed: {}", error.message);
        }
        return Some(Event::TaskFailed { task, error });
    }
    if ts.units.iter().any(|u| u.status == TaskStatus::Cancelled) {
        return Some(Event::TaskCancelled { task });
    }
    Some(Event::TaskSucceeded { task })
}

fn candidate(x: &Execution, t: usize, env: &Env) -> Option<Event> {
    if x.tasks[t].status != TaskStatus::Pending {
        return None;
    }
    let pt = &x.plan.tasks[t];
    let deps: Vec<TaskStatus> = pt.needs.iter().map(|&n| x.tasks[n].status).collect();
    if deps.iter().any(|s| !s.is_terminal()) {
        return None;
    }
    let task = pt.name.clone();
    if x.stopping.is_some() {
        return Some(Event::TaskCancelled { task });
    }
    let ok = |s: &TaskStatus| *s == TaskStatus::Succeeded;
    let runs = match pt.join {
        Join::All => deps.iter().all(ok),
        Join::Any => deps.iter().any(ok),
        Join::AllDone => true,
    };
    if !runs {
        return Some(Event::TaskSkipped {
            task,
            reason: SkipReason::Upstream,
        });
    }
    let ctx = x.context(t, None);
    match &pt.condition {
        Condition::Always => {}
        Condition::Never => {
            return Some(Event::TaskSkipped {
                task,
                reason: SkipReason::Condition,
            });
        }
        Condition::When(cond) => match cond.eval(&ctx, &env.limits) {
            Ok(v) if v.is_truthy() => {}
            Ok(_) => {
                return Some(Event::TaskSkipped {
                    task,
                    reason: SkipReason::Condition,
                });
            }
            Err(e) => {
                return Some(Event::TaskFailed {
                    task,
                    error: TaskError::new(ErrorClass::Expression, format!("`if` failed: {e}")),
                });
            }
        },
    }
    let items = match &pt.for_each {
        None => None,
        Some(source) => {
            let value = match source {
                ForEach::Items(vt) => vt.eval(&ctx, &env.limits),
                ForEach::Expr(t) => t.eval(&ctx, &env.limits),
            }
            .and_then(|v| v.to_json(env.limits.max_output_bytes));
            match value {
                Ok(Value::Array(items)) => Some(items),
                Ok(other) => {
                    return Some(Event::TaskFailed {
                        task,
                        error: TaskError::new(
                            ErrorClass::Expression,
                            format!(
                                "`for_each` must yield a list, but it yielded {}",
                                describe(&other)
                            ),
                        ),
                    });
                }
                Err(e) => {
                    return Some(Event::TaskFailed {
                        task,
                        error: TaskError::new(
                            ErrorClass::Expression,
                            format!("`for_each` failed: {e}"),
                        ),
                    });
                }
            }
        }
    };
    Some(Event::TaskStarted { task, items })
}

fn end(x: &Execution, env: &Env) -> Event {
    match &x.stopping {
        Some(StopReason::TaskFailed { task }) => {
            let t = x.task_index(task);
            let cause = t.and_then(|t| x.tasks[t].error.clone());
            let mut error =
                cause.unwrap_or_else(|| TaskError::new(ErrorClass::Validation, "failed"));
            error.message = format!("task `{task}` failed: {}", error.message);
            error.task = Some(task.clone());
            Event::ExecutionFailed { error }
        }
        Some(StopReason::Timeout) => {
            let limit = x
                .plan
                .timeout
                .map(|d| harmonia_model::Dur(d).to_string())
                .unwrap_or_default();
            Event::ExecutionFailed {
                error: TaskError::new(
                    ErrorClass::Timeout,
                    format!("the workflow did not finish within its timeout of {limit}"),
                ),
            }
        }
        Some(StopReason::Cancelled { .. }) => Event::ExecutionCancelled,
        None => outputs(x, env),
    }
}

fn outputs(x: &Execution, env: &Env) -> Event {
    let ctx = harmonia_expr::Context::new()
        .with(harmonia_expr::Var::Inputs, x.ctx.inputs.clone())
        .with(harmonia_expr::Var::Params, x.ctx.params.clone())
        .with(harmonia_expr::Var::Execution, x.ctx.execution.clone())
        .with(harmonia_expr::Var::Tasks, x.ctx.tasks.clone());
    let mut out = serde_json::Map::new();
    for (name, template) in &x.plan.outputs {
        match template
            .eval(&ctx, &env.limits)
            .and_then(|v| v.to_json(env.limits.max_output_bytes))
        {
            Ok(v) => {
                out.insert(name.clone(), v);
            }
            Err(e) => {
                return Event::ExecutionFailed {
                    error: TaskError::new(
                        ErrorClass::Expression,
                        format!("output `{name}` failed: {e}"),
                    ),
                };
            }
        }
    }
    Event::ExecutionSucceeded {
        outputs: Value::Object(out),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", Value::String(s.chars().take(40).collect())),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}
