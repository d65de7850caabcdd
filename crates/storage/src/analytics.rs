//! The analytics role: aggregates over the read models (executions and their task
//! runs) that answer "what fails most, and what is slow", computed by the store, so
//! that they stay fast however many executions it holds (no record is read whole, and
//! nothing comes back row by row).
//!
//! Contract, checked for every backend by the shared suite (`suite::analytics`):
//! - A [`Window`] selects the executions created in `[since, until)` (as
//!   `ExecutionQueries::executions` filters them), of one workflow when it names one.
//!   An execution belongs to the window it was created in, whatever its status now.
//!   The task runs of a window are the task rows (`item: None`) of its executions: a
//!   fan-out counts once, as its task (its items are inside the task's row).
//! - A duration is `ended_at - started_at` in milliseconds, of a row that has both
//!   (one that ended; a skipped task has no start). A task row's `started_at` is when the task started (became ready), so its
//!   duration includes waiting for a slot, retries and their delays.
//! - Percentiles are nearest-rank: the `p`th percentile of `n` sorted values is the
//!   value at rank `ceil(p * n / 100)` (from 1). [`DurationStats::of`] is the
//!   definition; every backend gives exactly its numbers.
//! - Groups of durations are ordered slowest first: by p95, then max, descending,
//!   then by workflow and task name (bytewise), at most `limit` of them
//!   ([`slowest_first`]). A task group also sums its runs' attempts.
//! - Failures are grouped by (workflow, task, error class, error message), where
//!   class and message are the `class` and `message` fields of the stored error (JSON
//!   objects as the engine writes them; a missing field is `None`, a field that is not
//!   a string its JSON text: [`error_field`], [`FailureGroups`]). An execution's
//!   error names the task that failed it in its `task` field. Each group counts its
//!   rows and gives the newest (largest) execution id as an example. A failed task
//!   run is a task row with status `failed`.
//! - Queue waits read the event log (the read models do not keep when a task's first
//!   attempt started): for each task of the newest `sample` executions of the window
//!   (by creation), the time from the first event of kind `ready_kind` to the first
//!   of kind `started_kind` whose JSON has the same `task` field. Only tasks with
//!   both events count.
//! - The backlog is about now, not a window: executions not ended and, of those
//!   executions, the task rows and fan-out items with status `queued`, and those
//!   running that wait for a signal named [`WORKER_SIGNAL`] (external workers'
//!   queues).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value;

use crate::{ExecutionId, ExecutionStatus, Result, Timestamp};

/// The name of the signal a `worker` task's attempt waits for (`wait_for`), which the
/// backlog counts.
pub const WORKER_SIGNAL: &str = "worker";

/// Which executions an aggregate is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Created at or after this time.
    pub since: Timestamp,
    /// Created before this time.
    pub until: Timestamp,
    /// Only executions of this workflow (by name).
    pub workflow: Option<String>,
}

/// How many executions have each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Created, not started yet.
    pub pending: u64,
    /// Running.
    pub running: u64,
    /// Paused.
    pub paused: u64,
    /// Ended well.
    pub succeeded: u64,
    /// Ended with an error.
    pub failed: u64,
    /// Stopped by a user.
    pub cancelled: u64,
}

impl StatusCounts {
    /// Adds `n` executions of `status`.
    pub fn add(&mut self, status: ExecutionStatus, n: u64) {
        let slot = match status {
            ExecutionStatus::Pending => &mut self.pending,
            ExecutionStatus::Running => &mut self.running,
            ExecutionStatus::Paused => &mut self.paused,
            ExecutionStatus::Succeeded => &mut self.succeeded,
            ExecutionStatus::Failed => &mut self.failed,
            ExecutionStatus::Cancelled => &mut self.cancelled,
        };
        *slot = slot.saturating_add(n);
    }

    /// Every execution counted.
    pub fn total(&self) -> u64 {
        self.open() + self.ended()
    }

    /// Those that have ended (succeeded, failed or cancelled).
    pub fn ended(&self) -> u64 {
        self.succeeded + self.failed + self.cancelled
    }

    /// Those that have not ended (pending, running or paused).
    pub fn open(&self) -> u64 {
        self.pending + self.running + self.paused
    }
}

/// The distribution of some durations, in milliseconds (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationStats {
    /// How many durations (at least 1).
    pub count: u64,
    /// The median.
    pub p50: i64,
    /// The 95th percentile.
    pub p95: i64,
    /// The 99th percentile.
    pub p99: i64,
    /// The longest.
    pub max: i64,
}

impl DurationStats {
    /// The stats of `sorted` (ascending); `None` when it is empty. This is the
    /// definition every backend follows: the `p`th percentile is the value at rank
    /// `ceil(p * n / 100)`, from 1.
    pub fn of(sorted: &[i64]) -> Option<DurationStats> {
        let n = sorted.len();
        let max = *sorted.last()?;
        let at = |p: usize| sorted[rank(p, n) - 1];
        Some(DurationStats {
            count: n as u64,
            p50: at(50),
            p95: at(95),
            p99: at(99),
            max,
        })
    }
}

/// The nearest rank (from 1) of the `p`th percentile of `n` values: `ceil(p * n /
/// 100)`, at least 1.
pub fn rank(p: usize, n: usize) -> usize {
    (p.saturating_mul(n).saturating_add(99) / 100).clamp(1, n.max(1))
}

/// What the executions of a window amount to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionSummary {
    /// By status.
    pub counts: StatusCounts,
    /// The durations of those that ended (and had started).
    pub durations: Option<DurationStats>,
}

/// The executions created in one bucket of a window, by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesBucket {
    /// Its position: it covers `[origin + index * bucket, origin + (index + 1) *
    /// bucket)`.
    pub index: u64,
    /// How many of each status.
    pub counts: StatusCounts,
}

/// What durations are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Executions, by workflow.
    Workflow,
    /// Task runs, by workflow and task.
    Task,
}

/// The durations of a group: a workflow's executions, or one task's runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationGroup {
    /// The workflow.
    pub workflow: String,
    /// The task (grouped by task only).
    pub task: Option<String>,
    /// Their durations.
    pub durations: DurationStats,
    /// The attempts these task runs made (every attempt of the task and of its fan-out
    /// items); `None` for executions and for queue waits.
    pub attempts: Option<u64>,
}

/// `groups` in the contract's order, slowest first (by p95, then max, descending;
/// then by workflow and task), the first `limit` of them.
pub fn slowest_first(mut groups: Vec<DurationGroup>, limit: usize) -> Vec<DurationGroup> {
    groups.sort_by(|a, b| {
        (b.durations.p95, b.durations.max)
            .cmp(&(a.durations.p95, a.durations.max))
            .then_with(|| (&a.workflow, &a.task).cmp(&(&b.workflow, &b.task)))
    });
    groups.truncate(limit);
    groups
}

/// The kinds of events a queue wait is measured between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitKinds<'a> {
    /// The event that makes a task ready (the engine's `task_started`).
    pub ready: &'a str,
    /// The event of an attempt starting (the engine's `attempt_started`).
    pub started: &'a str,
}

/// Queue waits of tasks, from the event log of a sample of a window's executions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueWaits {
    /// How many executions' logs were read (the newest of the window, at most the
    /// sample asked for).
    pub sampled: u64,
    /// By workflow and task, in no particular order.
    pub groups: Vec<DurationGroup>,
}

/// Failures that share a workflow, a task, an error class and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureGroup {
    /// The workflow.
    pub workflow: String,
    /// The task: the failed task run's; for an execution, the task its error names.
    pub task: Option<String>,
    /// The error's `class`.
    pub class: Option<String>,
    /// The error's `message`.
    pub message: Option<String>,
    /// How many.
    pub count: u64,
    /// The newest execution among them.
    pub example: ExecutionId,
}

/// A field of a stored error, as text: a string as it is, any other value as its JSON
/// text; `None` when the error is not an object, or the field is absent or `null`.
pub fn error_field(error: Option<&Value>, name: &str) -> Option<String> {
    match error?.get(name)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Failures, grouped as the contract says while they are added.
#[derive(Debug, Clone, Default)]
pub struct FailureGroups {
    groups: BTreeMap<FailureKey, (u64, ExecutionId)>,
}

/// (workflow, task, class, message).
type FailureKey = (String, Option<String>, Option<String>, Option<String>);

impl FailureGroups {
    /// A failure in `workflow` (of `task`; for an execution, the task its error
    /// names), with its stored `error`, in `execution`.
    pub fn add(
        &mut self,
        workflow: &str,
        task: Option<String>,
        error: Option<&Value>,
        execution: ExecutionId,
    ) {
        let key = (
            workflow.to_owned(),
            task,
            error_field(error, "class"),
            error_field(error, "message"),
        );
        let slot = self.groups.entry(key).or_insert((0, execution));
        slot.0 += 1;
        slot.1 = slot.1.max(execution);
    }

    /// The groups, by workflow, task, class and message.
    pub fn into_groups(self) -> Vec<FailureGroup> {
        self.groups
            .into_iter()
            .map(
                |((workflow, task, class, message), (count, example))| FailureGroup {
                    workflow,
                    task,
                    class,
                    message,
                    count,
                    example,
                },
            )
            .collect()
    }
}

/// The failures of a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failures {
    /// Failed executions, grouped.
    pub executions: Vec<FailureGroup>,
    /// Failed task runs, grouped.
    pub task_runs: Vec<FailureGroup>,
}

/// What is in flight now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Executions not ended (pending, running or paused).
    pub open_executions: u64,
    /// Task rows and fan-out items of those executions waiting for a free slot
    /// (status `queued`).
    pub queued_task_runs: u64,
    /// Task rows and fan-out items of those executions waiting for an external worker
    /// (offered on a queue, or leased).
    pub worker_task_runs: u64,
}

/// Aggregates over executions and task runs (see the module doc).
#[async_trait]
pub trait Analytics: Send + Sync {
    /// The executions of `window`: by status, and the durations of those that ended.
    async fn execution_summary(&self, window: &Window) -> Result<ExecutionSummary>;

    /// The executions of `window` by status, per workflow, by workflow name.
    async fn status_by_workflow(&self, window: &Window) -> Result<Vec<(String, StatusCounts)>>;

    /// The executions of `window` by status in buckets of `bucket_ms` (at least 1) by
    /// creation time, counted from `origin` (at or before `since`); only buckets with
    /// executions, in order.
    async fn execution_series(
        &self,
        window: &Window,
        origin: Timestamp,
        bucket_ms: i64,
    ) -> Result<Vec<SeriesBucket>>;

    /// The durations of ended executions (by workflow) or task runs (by workflow and
    /// task, with their attempts) of `window`, slowest first, at most `limit` groups.
    async fn durations(
        &self,
        window: &Window,
        by: GroupBy,
        limit: usize,
    ) -> Result<Vec<DurationGroup>>;

    /// The queue waits of tasks, from the logs of the newest `sample` executions of
    /// `window`.
    async fn queue_waits(
        &self,
        window: &Window,
        sample: usize,
        kinds: WaitKinds<'_>,
    ) -> Result<QueueWaits>;

    /// The failed executions and failed task runs of `window`, grouped.
    async fn failures(&self, window: &Window) -> Result<Failures>;

    /// What is in flight now, of one workflow when `workflow` names one.
    async fn backlog(&self, workflow: Option<&str>) -> Result<Backlog>;

    /// The size of the database in bytes, when the store has one.
    async fn database_size(&self) -> Result<Option<u64>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        let s = DurationStats::of(&values);
        assert_eq!(
            s,
            Some(DurationStats {
                count: 100,
                p50: 50,
                p95: 95,
                p99: 99,
                max: 100
            })
        );
        let one = DurationStats::of(&[7]);
        assert_eq!(one.map(|s| (s.p50, s.p99, s.max)), Some((7, 7, 7)));
        let three = DurationStats::of(&[10, 20, 30]);
        // ceil(1.5) = 2, ceil(2.85) = 3.
        assert_eq!(three.map(|s| (s.p50, s.p95)), Some((20, 30)));
        assert_eq!(DurationStats::of(&[]), None);
        assert_eq!((rank(50, 0), rank(50, 2), rank(99, 1000)), (1, 1, 990));
    }

    #[test]
    fn counts_add_up() {
        let mut c = StatusCounts::default();
        c.add(ExecutionStatus::Failed, 2);
        c.add(ExecutionStatus::Running, 1);
        c.add(ExecutionStatus::Succeeded, 3);
        assert_eq!((c.total(), c.ended(), c.open()), (6, 5, 1));
    }
}
