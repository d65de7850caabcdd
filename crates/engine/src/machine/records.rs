//! The read models of an execution: the rows the store keeps for queries.
//!
//! Built from the state for what changed since the last call (the dirty set), so a
//! commit writes only the rows its events touched. A plain task has one row (task and
//! unit together); a fan-out has a task row plus one row per item.

use harmonia_storage::{ExecutionRecord, TaskRunRecord, TaskStatus, Timestamp};
use serde_json::Value;

use super::state::Execution;
use crate::event::{TaskError, Wait};

/// The wait columns of a task row: the wait as JSON, what it waits for (a signal's
/// name, or `timer`, `child`, `worker`) and its routing key (an event's type, a
/// worker's queue), so that the store can find the tasks an event or an answer is for.
fn waiting(wait: Option<&Wait>) -> (Option<Value>, Option<String>, Option<String>) {
    let Some(wait) = wait else {
        return (None, None, None);
    };
    let (wait_for, wait_key) = match wait {
        Wait::Timer { .. } => ("timer".to_string(), None),
        Wait::Child { .. } => ("child".to_string(), None),
        Wait::Signal { name, key, .. } => (name.clone(), key.clone()),
    };
    (serde_json::to_value(wait).ok(), Some(wait_for), wait_key)
}

/// Rows to write after a batch of events.
#[derive(Debug, Clone, Default)]
pub(crate) struct Records {
    /// The execution row, if it changed.
    pub execution: Option<ExecutionRecord>,
    /// Task rows that changed.
    pub task_runs: Vec<TaskRunRecord>,
}

impl Execution {
    /// The execution's row as it is now.
    pub(crate) fn record(&self, now: Timestamp) -> ExecutionRecord {
        self.row(now, self.inputs.clone(), self.is_parked())
    }

    /// The row with these inputs (the stored row's never change, see `take_records`)
    /// and whether it is parked (see [`Execution::is_parked`]).
    fn row(&self, now: Timestamp, inputs: std::sync::Arc<Value>, parked: bool) -> ExecutionRecord {
        ExecutionRecord {
            id: self.id,
            workflow_id: self.workflow_id,
            workflow: self.workflow.clone(),
            version: self.version,
            status: self.status,
            inputs,
            outputs: self.outputs.clone(),
            error: self.error.as_ref().map(TaskError::to_json),
            parent: self.parent.clone(),
            retry_of: self.retry_of,
            origin: self.origin.clone(),
            created_at: self.started_at,
            started_at: Some(self.started_at),
            ended_at: self.ended_at,
            updated_at: now,
            owner: None,
            fence: self.fence,
            parked,
        }
    }

    /// The row of task `t` (`item: None`) or of one of its fan-out items.
    pub(crate) fn task_record(&self, t: usize, item: Option<u32>) -> TaskRunRecord {
        let ts = &self.tasks[t];
        let name = self.plan.tasks[t].name.clone();
        match item {
            Some(u) => {
                let unit = &ts.units[u as usize];
                let (wait, wait_for, wait_key) = waiting(unit.wait.as_deref());
                TaskRunRecord {
                    execution: self.id,
                    task: name,
                    item: Some(u),
                    status: unit.status,
                    attempts: unit.attempt,
                    output: unit.output.clone(),
                    error: unit.error.as_ref().map(TaskError::to_json),
                    skip_reason: None,
                    started_at: unit.started_at,
                    ended_at: unit.ended_at,
                    wait,
                    wait_for,
                    wait_key,
                }
            }
            None => {
                let unit = (!ts.fan_out).then(|| ts.units.first()).flatten();
                // A running plain task shows its unit's finer status (queued, retrying).
                let status = match (ts.status, unit) {
                    (TaskStatus::Running, Some(u)) => u.status,
                    (s, _) => s,
                };
                let (wait, wait_for, wait_key) = waiting(unit.and_then(|u| u.wait.as_deref()));
                let error = ts
                    .error
                    .as_ref()
                    .or_else(|| unit.and_then(|u| u.error.as_ref()));
                TaskRunRecord {
                    execution: self.id,
                    task: name,
                    item: None,
                    status,
                    attempts: ts.attempts(),
                    output: ts.output.clone(),
                    error: error.map(TaskError::to_json),
                    skip_reason: ts.skip_reason.map(|r| r.as_str().to_string()),
                    started_at: ts.started_at,
                    ended_at: ts.ended_at,
                    wait,
                    wait_for,
                    wait_key,
                }
            }
        }
    }

    /// The rows changed since the last call, and clears the changes.
    pub(crate) fn take_records(&mut self, now: Timestamp) -> Records {
        let rows = std::mem::take(&mut self.dirty.rows);
        let mut task_runs = Vec::with_capacity(rows.len());
        for (t, item) in rows {
            task_runs.push(self.task_record(t, item));
            match item {
                Some(u) => self.tasks[t].units[u as usize].dirty = false,
                None => self.tasks[t].dirty = false,
            }
        }
        // The inputs go with the row's first write only: they never change, and the
        // store keeps them. They may be megabytes, and many times that as a value: once
        // in the row (and in the first event, written in the same commit), the state
        // keeps only what expressions read (`$inputs`), and `inputs` becomes `null`.
        // Whether it is parked is in its row (a restart loads only the others): a
        // change of it alone rewrites the row.
        //
        // The row is written when the execution's own state changed, not at each of
        // its tasks' steps (their rows say those): a step of a chain then writes no
        // page of `executions`. `updated_at` is when the row last changed. Besides
        // the transitions that mark it, a status or parking that differs from the
        // stored row's rewrites it, whatever path changed it.
        let parked = self.is_parked();
        if !self.row_stored || parked != self.parked_stored || self.status != self.status_stored {
            self.dirty.execution = true;
        }
        let execution = std::mem::take(&mut self.dirty.execution).then(|| {
            self.parked_stored = parked;
            self.status_stored = self.status;
            let inputs = if self.row_stored {
                std::sync::Arc::new(Value::Null)
            } else {
                std::mem::replace(&mut self.inputs, std::sync::Arc::new(Value::Null))
            };
            self.row_stored = true;
            self.row(now, inputs, parked)
        });
        Records {
            execution,
            task_runs,
        }
    }
}
