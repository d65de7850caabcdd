//! A task's inputs after evaluation: its `with:` as its attempt saw it, rebuilt from
//! the execution's log, for people debugging a failure (the URL actually called, the
//! body actually sent).
//!
//! The log does not record evaluated parameters (they may hold secrets). But what
//! `with:` reads is recorded, and immutable once recorded: the inputs, `$params`,
//! `$execution`, the outputs of the tasks upstream (a task starts only once they have
//! ended) and the fan-out item. So [`Handle::evaluated_with`] replays the log
//! (`scheduler::replayed`, as a restart does), takes the task's context as the
//! scheduler would (`Execution::context`), and evaluates `with:` again.
//!
//! Invariants:
//! - No secret is read: `$secrets` is bound to an object whose every value is `***`
//!   (one entry per secret `with:` names), never to the engine's secrets; and the value
//!   of every expression that reads `$secrets` is replaced by `***`, whatever the task's
//!   kind, as the scheduler does for tasks without an effect outside. An error in such
//!   an expression has its message withheld (`harmonia_expr::Error::Withheld`).
//! - The evaluation is bounded by the engine's `Limits` and runs on the blocking pool,
//!   at most `eval::MAX_OFFLOADED` at once (jq has no fuel): never on the async runtime.
//! - Nothing is written: the replayed state is thrown away.
//!
//! `$tasks` holds the tasks ended when asked: those upstream (all an expression may
//! name) are exactly as the attempt saw them; one that ended later is there too, for
//! the rare expression that reads `$tasks` as a whole.

use harmonia_expr::{PathSeg, Val, Var};
use harmonia_storage::{ExecutionId, TaskStatus, Timestamp};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::event::SkipReason;
use crate::machine::Execution;
use crate::scheduler::{Handle, replayed};

/// What a masked secret reads as.
pub const MASK: &str = "***";

/// A task's `with:`, evaluated as its attempt saw it (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluatedWith {
    /// The task.
    pub task: String,
    /// Its fan-out item (`None` for a plain task).
    pub item: Option<u32>,
    /// `with:` evaluated (`null` for a task without one), every value computed from
    /// `$secrets` replaced by `***`.
    pub with: Value,
    /// Whether some value was replaced by `***`.
    pub secrets_redacted: bool,
    /// When it was evaluated.
    pub evaluated_at: Timestamp,
}

impl Handle {
    /// Task `task`'s `with:` (of its fan-out item `item`) evaluated against what
    /// execution `id` recorded (see the module doc).
    ///
    /// Errors: [`Error::UnknownExecution`], [`Error::UnknownTask`];
    /// [`Error::InvalidItem`] for `item` given to a task without `for_each`, missing for
    /// one with it, or out of its range; [`Error::NotStarted`] for a task that has not
    /// started (or never will); [`Error::Evaluation`] when `with:` fails.
    pub async fn evaluated_with(
        &self,
        id: ExecutionId,
        task: &str,
        item: Option<u32>,
    ) -> Result<EvaluatedWith> {
        let record = self
            .store()
            .execution(id)
            .await?
            .ok_or(Error::UnknownExecution(id))?;
        let x = replayed(self.store(), self.plans(), &record).await?;
        let t = x.task_index(task).ok_or_else(|| Error::UnknownTask {
            task: task.to_string(),
            workflow: x.workflow.clone(),
            version: x.version,
            tasks: x.plan.tasks.iter().map(|t| t.name.clone()).collect(),
        })?;
        let unit = unit(&x, t, item)?;
        let mut ctx = x.context(t, unit);
        let plan = x.plan.clone();
        drop(x);
        ctx.set(Var::Secrets, masked_secrets(&plan.tasks[t].with));
        let limits = self.limits;
        let evaluated = self
            .inputs_offload
            .run(move || {
                let mut redacted = false;
                plan.tasks[t]
                    .with
                    .eval_mapped(&ctx, &limits, &mut |program, value| {
                        if program.reads(Var::Secrets) {
                            redacted = true;
                            Val::from(Value::String(MASK.into()))
                        } else {
                            value
                        }
                    })
                    .and_then(|v| v.to_json(limits.max_output_bytes))
                    .map(|with| (with, redacted))
            })
            .await
            // Evaluation does not panic (`harmonia_expr`): the runtime is stopping.
            .ok_or(Error::Stopped)?;
        let (with, secrets_redacted) =
            evaluated.map_err(|e| Error::Evaluation(format!("`with` failed: {e}")))?;
        Ok(EvaluatedWith {
            task: task.to_string(),
            item,
            with,
            secrets_redacted,
            evaluated_at: Timestamp::now(),
        })
    }
}

/// `$secrets` as this evaluation sees it: every secret `with` names, as `***`.
fn masked_secrets(with: &harmonia_expr::ValueTemplate) -> Val {
    let mut names = std::collections::BTreeSet::new();
    with.for_each_template(&mut |_, t| {
        for p in t.programs() {
            for r in p.var_paths() {
                if r.var == Var::Secrets
                    && let Some(PathSeg::Key(name)) = r.path.first()
                {
                    names.insert(name.clone());
                }
            }
        }
    });
    Val::object(
        names
            .into_iter()
            .map(|n| (n, Val::from(Value::String(MASK.into())))),
    )
}

/// The unit of task `t` whose context `item` asks for (`None` for a plain task), once
/// the task has started.
fn unit(x: &Execution, t: usize, item: Option<u32>) -> Result<Option<u32>> {
    let name = &x.plan.tasks[t].name;
    let fans_out = x.plan.tasks[t].for_each.is_some();
    if !fans_out && let Some(i) = item {
        return Err(Error::InvalidItem(format!(
            "`item` is {i}, but task `{name}` has no `for_each`: leave `item` out"
        )));
    }
    let state = &x.tasks[t];
    // A plain task has its unit once started; a fan-out its items (maybe none).
    if state.units.is_empty() && !state.fan_out {
        return Err(not_started(x, t));
    }
    if !fans_out {
        return Ok(None);
    }
    let n = state.units.len();
    let range = if n == 0 {
        "it has no items".to_string()
    } else {
        format!("its items are 0 to {}", n - 1)
    };
    match item {
        None => Err(Error::InvalidItem(format!(
            "task `{name}` fans out: give `item` ({range})"
        ))),
        Some(i) if (i as usize) >= n => Err(Error::InvalidItem(format!(
            "`item` is {i}, out of the range of task `{name}`: {range}"
        ))),
        Some(i) => Ok(Some(i)),
    }
}

/// Why task `t`, which has no unit, has not started: the first task upstream without
/// an outcome yet, or what else keeps it.
fn not_started(x: &Execution, t: usize) -> Error {
    let name = x.plan.tasks[t].name.clone();
    let waiting = x.plan.tasks[t]
        .needs
        .iter()
        .copied()
        .find(|&n| !x.tasks[n].status.is_terminal());
    let state = &x.tasks[t];
    let message = match (waiting, state.status) {
        (Some(up), _) => format!(
            "task `{name}` has not started: task `{}`, upstream of it, has no output yet (it is {})",
            x.plan.tasks[up].name, x.tasks[up].status
        ),
        (None, TaskStatus::Skipped) => format!(
            "task `{name}` did not run: it was skipped ({}), so its `with` was never evaluated",
            state.skip_reason.map_or("", SkipReason::as_str)
        ),
        (None, TaskStatus::Succeeded) => format!(
            "task `{name}` did not run in this execution: its output was reused from the execution it retries"
        ),
        (None, _) if x.status.is_terminal() => format!(
            "task `{name}` did not start: the execution ended ({}) before it",
            x.status
        ),
        (None, _) => format!("task `{name}` has not started yet"),
    };
    Error::NotStarted {
        task: name,
        upstream: waiting.map(|up| x.plan.tasks[up].name.clone()),
        message,
    }
}
