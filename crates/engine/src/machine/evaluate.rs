//! The decisions that evaluate expressions, as jobs that run in the turn or off it.
//!
//! Two decisions of the machine depend on expressions: whether a task starts and over
//! which items (its `if` and `for_each`), and the execution's `outputs`. Each is a
//! [`Job`]: a value holding what the evaluation reads (the plan, the context), with a
//! pure `run`. `decide` first tries a job inside the turn ([`crate::eval::Budget`]);
//! when that is too slow it marks the task (or the execution) as evaluating, emits
//! [`super::Effect::Evaluate`], and decides nothing for it until the result comes back
//! through [`super::evaluated`]. Results are kept in the state only until the decision
//! that uses them is made; nothing of this is logged, so a replay after a crash
//! evaluates again (the job is pure, so it reaches the same answer).

use std::sync::Arc;

use harmonia_expr::{Context, Limits, Var};
use harmonia_model::{Condition, ErrorClass, ForEach, Plan};
use serde_json::Value;

use super::state::Execution;
use crate::event::TaskError;

/// What a task's `if` and `for_each` say.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StartOutcome {
    /// It runs: once, or once per item.
    Run(Option<Vec<Value>>),
    /// Its `if` is false.
    Skip,
    /// An expression failed.
    Fail(TaskError),
}

/// Where an evaluation of a decision is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pending<T> {
    /// Running off the turn.
    Evaluating,
    /// Done; the decision that uses it is next.
    Done(T),
}

/// An evaluation to run off the turn.
#[derive(Debug, Clone)]
pub(crate) enum Job {
    /// Whether (and over what) task `task` starts.
    Start {
        /// The task's index in the plan.
        task: usize,
        /// The plan.
        plan: Arc<Plan>,
        /// The task's context.
        ctx: Context,
    },
    /// The execution's outputs.
    Outputs {
        /// The plan.
        plan: Arc<Plan>,
        /// The execution's context.
        ctx: Context,
    },
}

impl PartialEq for Job {
    /// Jobs are the same when they evaluate the same decision (contexts are values
    /// derived from the state, and compare as such only in tests).
    fn eq(&self, other: &Job) -> bool {
        match (self, other) {
            (Job::Start { task: a, .. }, Job::Start { task: b, .. }) => a == b,
            (Job::Outputs { .. }, Job::Outputs { .. }) => true,
            _ => false,
        }
    }
}

/// The result of a [`Job`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Evaluated {
    /// Of [`Job::Start`].
    Start {
        /// The task.
        task: usize,
        /// What its expressions say.
        outcome: StartOutcome,
    },
    /// Of [`Job::Outputs`]: the outputs, or why they could not be computed.
    Outputs(Result<Value, TaskError>),
}

impl Job {
    /// Runs the evaluation under `limits`.
    pub(crate) fn run(&self, limits: &Limits) -> Evaluated {
        match self {
            Job::Start { task, plan, ctx } => Evaluated::Start {
                task: *task,
                outcome: start(plan, *task, ctx, limits),
            },
            Job::Outputs { plan, ctx } => Evaluated::Outputs(outputs(plan, ctx, limits)),
        }
    }

    /// What to record when the job could not run at all (it panicked): a failure that
    /// says so, instead of a task waiting forever.
    pub(crate) fn failed(&self, why: &str) -> Evaluated {
        let error = TaskError::new(
            ErrorClass::Expression,
            format!("internal error while evaluating: {why}"),
        );
        match self {
            Job::Start { task, .. } => Evaluated::Start {
                task: *task,
                outcome: StartOutcome::Fail(error),
            },
            Job::Outputs { .. } => Evaluated::Outputs(Err(error)),
        }
    }
}

/// Whether task `t` has expressions to evaluate before it starts.
pub(crate) fn has_start_expressions(plan: &Plan, t: usize) -> bool {
    let pt = &plan.tasks[t];
    matches!(pt.condition, Condition::When(_)) || pt.for_each.is_some()
}

/// The job deciding whether task `t` of `x` starts.
pub(crate) fn start_job(x: &Execution, t: usize) -> Job {
    Job::Start {
        task: t,
        plan: x.plan.clone(),
        ctx: x.context(t, None),
    }
}

/// The job computing the outputs of `x`.
pub(crate) fn outputs_job(x: &Execution) -> Job {
    let ctx = Context::new()
        .with(Var::Inputs, x.ctx.inputs.clone())
        .with(Var::Params, x.ctx.params.clone())
        .with(Var::Execution, x.ctx.execution.clone())
        .with(Var::Tasks, x.ctx.tasks.clone());
    Job::Outputs {
        plan: x.plan.clone(),
        ctx,
    }
}

fn start(plan: &Plan, t: usize, ctx: &Context, limits: &Limits) -> StartOutcome {
    let pt = &plan.tasks[t];
    match &pt.condition {
        Condition::Always => {}
        Condition::Never => return StartOutcome::Skip,
        Condition::When(cond) => match cond.eval(ctx, limits) {
            Ok(v) if v.is_truthy() => {}
            Ok(_) => return StartOutcome::Skip,
            Err(e) => {
                return StartOutcome::Fail(TaskError::new(
                    ErrorClass::Expression,
                    format!("`if` failed: {e}"),
                ));
            }
        },
    }
    let Some(source) = &pt.for_each else {
        return StartOutcome::Run(None);
    };
    let value = match source {
        ForEach::Items(vt) => vt.eval(ctx, limits),
        ForEach::Expr(t) => t.eval(ctx, limits),
    }
    .and_then(|v| v.to_json(limits.max_output_bytes));
    match value {
        Ok(Value::Array(items)) => StartOutcome::Run(Some(items)),
        Ok(other) => StartOutcome::Fail(TaskError::new(
            ErrorClass::Expression,
            format!(
                "`for_each` must yield a list, but it yielded {}",
                describe(&other)
            ),
        )),
        Err(e) => StartOutcome::Fail(TaskError::new(
            ErrorClass::Expression,
            format!("`for_each` failed: {e}"),
        )),
    }
}

fn outputs(plan: &Plan, ctx: &Context, limits: &Limits) -> Result<Value, TaskError> {
    let mut out = serde_json::Map::new();
    for (name, template) in &plan.outputs {
        let v = template
            .eval(ctx, limits)
            .and_then(|v| v.to_json(limits.max_output_bytes))
            .map_err(|e| {
                TaskError::new(
                    ErrorClass::Expression,
                    format!("output `{name}` failed: {e}"),
                )
            })?;
        out.insert(name.clone(), v);
    }
    Ok(Value::Object(out))
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
