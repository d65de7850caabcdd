//! Metrics of the engine, through the `metrics` facade (a no-op until the binary installs
//! a recorder, such as the server's Prometheus exporter).
//!
//! - `harmonia_executions_started_total`, `harmonia_executions_finished_total{status}`;
//! - `harmonia_task_runs_total{type, status}` and `harmonia_task_duration_seconds{type}`,
//!   counted when a task ends;
//! - `harmonia_ready_queue_depth`: attempts waiting for a concurrency slot;
//! - `harmonia_running_attempts`: attempts running outside the loop;
//! - `harmonia_commit_events` and `harmonia_commit_seconds`: the size and latency of
//!   each group commit.

use std::time::Duration;

use harmonia_storage::TaskStatus;

use crate::event::Event;
use crate::machine::Execution;

/// Counts what an event says, for the execution it belongs to (after it was applied).
pub(super) fn event(x: &Execution, event: &Event) {
    match event {
        Event::ExecutionStarted { .. } => {
            metrics::counter!("harmonia_executions_started_total").increment(1)
        }
        Event::ExecutionSucceeded { .. } => finished("succeeded"),
        Event::ExecutionFailed { .. } => finished("failed"),
        Event::ExecutionCancelled => finished("cancelled"),
        Event::TaskSucceeded { task }
        | Event::TaskFailed { task, .. }
        | Event::TaskSkipped { task, .. }
        | Event::TaskCancelled { task } => {
            let Some(t) = x.task_index(task) else { return };
            let ts = &x.tasks[t];
            let kind = x.plan.tasks[t].kind.clone();
            let status = match ts.status {
                TaskStatus::Succeeded => "succeeded",
                TaskStatus::Failed => "failed",
                TaskStatus::Skipped => "skipped",
                _ => "cancelled",
            };
            metrics::counter!("harmonia_task_runs_total", "type" => kind.clone(), "status" => status).increment(1);
            if let (Some(start), Some(end)) = (ts.started_at, ts.ended_at) {
                metrics::histogram!("harmonia_task_duration_seconds", "type" => kind)
                    .record(end.since(start).as_secs_f64());
            }
        }
        _ => {}
    }
}

fn finished(status: &'static str) {
    metrics::counter!("harmonia_executions_finished_total", "status" => status).increment(1);
}

/// Records one group commit.
pub(super) fn commit(events: usize, took: Duration) {
    metrics::histogram!("harmonia_commit_events").record(events as f64);
    metrics::histogram!("harmonia_commit_seconds").record(took.as_secs_f64());
}

/// Records the depth of the ready queue, the attempts running and the executions in
/// memory.
pub(super) fn load(ready: usize, running: usize, loaded: usize) {
    metrics::gauge!("harmonia_ready_queue_depth").set(ready as f64);
    metrics::gauge!("harmonia_running_attempts").set(running as f64);
    metrics::gauge!("harmonia_executions_in_memory").set(loaded as f64);
}
