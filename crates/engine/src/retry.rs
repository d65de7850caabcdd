//! Retry from failure: a new execution that reuses what succeeded.
//!
//! The new execution is linked to the original (`retry_of`), runs the same inputs, and is
//! pinned to the original's workflow version unless the caller asks for the latest. The
//! tasks that run again are:
//! - every task that did not succeeded in the original (failed, cancelled, skipped,
//!   never started);
//! - the task named by `from`, if any;
//! - on a newer version, every task whose definition changed, and every task that is new;
//! - and everything downstream of those (their inputs may change).
//!
//! Every other task succeeded in the original and its output is reused: the new
//! execution starts with it, and it does not run. [`RetryPlan`] is the preview: it is
//! computed from the store alone, before anything starts.

use std::collections::{BTreeSet, HashMap};

use harmonia_storage::{ExecutionId, ExecutionStatus, Store, TaskStatus};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::event::Reused;
use crate::plans::{Plans, Workflow};

/// How to retry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryOptions {
    /// Run this task and everything downstream of it again, even if it succeeded.
    pub from: Option<String>,
    /// Run on the workflow's latest version instead of the original's.
    pub latest_version: bool,
}

/// What a retry will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryPlan {
    /// The execution retried.
    pub original: ExecutionId,
    /// The workflow.
    pub workflow: String,
    /// The version the retry runs.
    pub version: u32,
    /// Tasks that run again, in definition order.
    pub rerun: Vec<String>,
    /// Tasks whose outputs are reused, in definition order.
    pub reused: Vec<String>,
}

/// Everything needed to start the retry.
pub(crate) struct Prepared {
    pub(crate) plan: RetryPlan,
    pub(crate) workflow: Workflow,
    pub(crate) inputs: Value,
    pub(crate) reused: Vec<Reused>,
}

/// Works out the retry of execution `id`.
pub(crate) async fn prepare(
    store: &dyn Store,
    plans: &Plans,
    id: ExecutionId,
    options: &RetryOptions,
) -> Result<Prepared> {
    let original = store
        .execution(id)
        .await?
        .ok_or(Error::UnknownExecution(id))?;
    let conflict = |why: &str| Error::Conflict {
        id,
        operation: "retry",
        status: format!("{}{why}", original.status),
    };
    if !original.status.is_terminal() {
        return Err(conflict(""));
    }
    if original.status == ExecutionStatus::Succeeded && options.from.is_none() {
        return Err(conflict(" (name a task to run again from, with `from`)"));
    }
    let old = plans
        .get(&original.workflow, Some(original.version))
        .await?;
    let workflow = if options.latest_version {
        plans.get(&original.workflow, None).await?
    } else {
        old.clone()
    };
    let plan = &workflow.plan;
    if let Some(from) = &options.from
        && plan.task_index(from).is_none()
    {
        return Err(Error::UnknownTask {
            task: from.clone(),
            workflow: workflow.record.name.clone(),
            version: workflow.record.version,
            tasks: plan.tasks.iter().map(|t| t.name.clone()).collect(),
        });
    }

    let runs = store.task_runs(id).await?;
    let succeeded: HashMap<&str, Option<&Value>> = runs
        .iter()
        .filter(|r| r.item.is_none() && r.status == TaskStatus::Succeeded)
        .map(|r| (r.task.as_str(), r.output.as_ref()))
        .collect();

    // Seeds: what must run again on its own account.
    let mut rerun: BTreeSet<usize> = BTreeSet::new();
    for (i, task) in plan.tasks.iter().enumerate() {
        let changed = workflow.record.version != old.record.version
            && old.plan.workflow.tasks.get(&task.name) != plan.workflow.tasks.get(&task.name);
        if !succeeded.contains_key(task.name.as_str())
            || changed
            || options.from.as_deref() == Some(task.name.as_str())
        {
            rerun.insert(i);
        }
    }
    // Everything downstream too.
    let mut stack: Vec<usize> = rerun.iter().copied().collect();
    while let Some(i) = stack.pop() {
        for &d in &plan.tasks[i].dependents {
            if rerun.insert(d) {
                stack.push(d);
            }
        }
    }

    let mut reused = Vec::new();
    let mut reused_names = Vec::new();
    for (i, task) in plan.tasks.iter().enumerate() {
        if !rerun.contains(&i) {
            let output = succeeded
                .get(task.name.as_str())
                .copied()
                .flatten()
                .cloned()
                .unwrap_or(Value::Null);
            reused.push(Reused {
                task: task.name.clone(),
                output,
            });
            reused_names.push(task.name.clone());
        }
    }
    let inputs = plan
        .prepare_inputs(Value::clone(&original.inputs))
        .map_err(Error::InvalidInputs)?;
    Ok(Prepared {
        plan: RetryPlan {
            original: id,
            workflow: workflow.record.name.clone(),
            version: workflow.record.version,
            rerun: rerun.iter().map(|&i| plan.tasks[i].name.clone()).collect(),
            reused: reused_names,
        },
        workflow,
        inputs,
        reused,
    })
}
