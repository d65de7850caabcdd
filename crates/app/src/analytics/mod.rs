//! Analytics: what fails most, and what is slow, over a window of executions; and what
//! the server uses now.
//!
//! Every aggregate is the store's ([`harmonia_storage::Analytics`], whose module doc
//! is the contract: which executions a window holds, what a duration is, nearest-rank
//! percentiles), so that it stays fast however many executions are stored; this use
//! case resolves the window ([`window`]), asks the store, and shapes the answer:
//! - [`Analytics::summary`]: executions by status, success rate (succeeded / ended),
//!   throughput (ended executions per minute of the window that has passed), duration
//!   percentiles of the ended ones, and the executions open now (task attempts are
//!   per task, in [`Analytics::durations`]: counting them means reading every task
//!   row of the window, which the summary does not);
//! - [`Analytics::timeseries`]: executions by status per bucket of creation time,
//!   every bucket over the window, empty ones included, starting at round times;
//! - [`Analytics::durations`]: per workflow, or per workflow and task, slowest first
//!   (by p95); per task also the attempts and the queue wait, from the event log of the newest
//!   [`QUEUE_SAMPLE`] executions of the window (the read models do not keep when a
//!   task's first attempt started);
//! - [`Analytics::errors`]: failures by error class, task, workflow and message
//!   pattern (`errors.rs`);
//! - [`Analytics::resources`]: this process's CPU time and memory (`process.rs`), the
//!   database's size, and the backlog (open executions, queued task runs, work
//!   waiting for external workers).
//!
//! Invariants: nothing here writes; every input is checked before the store is asked
//! (a bad window, bucket or limit is [`Error::InvalidRequest`] naming the parameter).

pub mod errors;
pub mod process;
pub mod window;

use harmonia_storage::Timestamp;
use harmonia_storage::analytics::{
    Backlog, DurationGroup, DurationStats, GroupBy, StatusCounts, WaitKinds, Window,
};

pub use errors::ErrorReport;
pub use process::ProcessUsage;
pub use window::Range;

use crate::{Ctx, Result};

/// How many of a window's executions (the newest) queue waits are measured on.
pub const QUEUE_SAMPLE: usize = 1_000;

/// The default number of groups in a list.
pub const DEFAULT_LIMIT: u32 = 20;

/// The most groups in a list.
pub const MAX_LIMIT: u32 = 500;

/// The engine's event that makes a task ready (its dependencies done, its condition
/// true) and the one of an attempt starting: what a queue wait is measured between.
pub const WAIT_KINDS: WaitKinds<'static> = WaitKinds {
    ready: "task_started",
    started: "attempt_started",
};

/// Analytics (see the module doc).
#[derive(Clone)]
pub struct Analytics(pub(crate) Ctx);

/// The executions of a window in numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The window.
    pub window: Window,
    /// By status.
    pub executions: StatusCounts,
    /// Succeeded / ended (`None` when none ended).
    pub success_rate: Option<f64>,
    /// Ended executions per minute of the window passed so far.
    pub ended_per_minute: f64,
    /// Durations of the ended executions.
    pub durations: Option<DurationStats>,
    /// Executions not ended now (of the workflow, when the window names one), in or
    /// out of the window.
    pub open_now: u64,
}

/// Executions over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The window.
    pub window: Window,
    /// The bucket, in milliseconds.
    pub bucket_ms: i64,
    /// Every bucket over the window, oldest first: where it starts (at a multiple of
    /// the bucket; the first may start before `since`), and its executions.
    pub buckets: Vec<(Timestamp, StatusCounts)>,
}

/// Durations of the groups of a window, slowest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durations {
    /// The window.
    pub window: Window,
    /// What they are grouped by.
    pub by: GroupBy,
    /// The groups, each with its queue wait when grouped by task and measured.
    pub groups: Vec<(DurationGroup, Option<DurationStats>)>,
    /// How many executions' logs the queue waits were measured on (grouped by task).
    pub queue_sampled: Option<u64>,
}

/// The failures of a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Errors {
    /// The window.
    pub window: Window,
    /// The report.
    pub report: ErrorReport,
}

/// What the server uses now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// When it was measured.
    pub measured_at: Timestamp,
    /// This process.
    pub process: ProcessUsage,
    /// The database's size, when the store has one.
    pub database_bytes: Option<u64>,
    /// What is in flight.
    pub backlog: Backlog,
}

/// Rounded to thousandths (ratios, for people).
fn round(x: f64) -> f64 {
    (x * 1_000.0).round() / 1_000.0
}

/// Rounded to three significant digits (rates: a quiet month's 0.00093 per minute is
/// not 0).
fn significant(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(2 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

impl Analytics {
    fn store(&self) -> &std::sync::Arc<dyn harmonia_storage::Store> {
        self.0.store()
    }

    /// The executions of `range` in numbers.
    pub async fn summary(&self, range: &Range) -> Result<Summary> {
        let now = Timestamp::now();
        let window = range.window(now)?;
        let s = self.store().execution_summary(&window).await?;
        let backlog = self.store().backlog(window.workflow.as_deref()).await?;
        let ended = s.counts.ended();
        let minutes = window::elapsed_minutes(&window, now);
        let per_minute = |n: u64| minutes.map_or(0.0, |m| significant(n as f64 / m));
        Ok(Summary {
            success_rate: (ended > 0).then(|| round(s.counts.succeeded as f64 / ended as f64)),
            ended_per_minute: per_minute(ended),
            executions: s.counts,
            durations: s.durations,
            open_now: backlog.open_executions,
            window,
        })
    }

    /// Executions of `range` by status over time, in buckets of `bucket_seconds` (or
    /// about 60 buckets).
    pub async fn timeseries(&self, range: &Range, bucket_seconds: Option<u64>) -> Result<Series> {
        let window = range.window(Timestamp::now())?;
        let bucket_ms = window::bucket_ms(&window, bucket_seconds)?;
        let origin = window::origin(&window, bucket_ms);
        let count = window::bucket_count(&window, bucket_ms);
        let mut found = self
            .store()
            .execution_series(&window, origin, bucket_ms)
            .await?
            .into_iter()
            .peekable();
        let mut buckets = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for index in 0..count {
            let mut counts = StatusCounts::default();
            while let Some(b) = found.next_if(|b| b.index <= index as u64) {
                if b.index == index as u64 {
                    counts = b.counts;
                }
            }
            let start = origin.0.saturating_add(index.saturating_mul(bucket_ms));
            buckets.push((Timestamp(start), counts));
        }
        Ok(Series {
            window,
            bucket_ms,
            buckets,
        })
    }

    /// Durations of `range`'s executions (by workflow) or task runs (by task), slowest
    /// first, at most `limit` groups (default 20, at most 500).
    pub async fn durations(
        &self,
        range: &Range,
        by: GroupBy,
        limit: Option<u32>,
    ) -> Result<Durations> {
        let limit = crate::limit(limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let window = range.window(Timestamp::now())?;
        let groups = self.store().durations(&window, by, limit).await?;
        let (groups, queue_sampled) = match by {
            GroupBy::Workflow => (groups.into_iter().map(|g| (g, None)).collect(), None),
            GroupBy::Task => {
                let waits = self
                    .store()
                    .queue_waits(&window, QUEUE_SAMPLE, WAIT_KINDS)
                    .await?;
                let with_waits = groups
                    .into_iter()
                    .map(|g| {
                        let wait = waits
                            .groups
                            .iter()
                            .find(|w| w.workflow == g.workflow && w.task == g.task)
                            .map(|w| w.durations);
                        (g, wait)
                    })
                    .collect();
                (with_waits, Some(waits.sampled))
            }
        };
        Ok(Durations {
            window,
            by,
            groups,
            queue_sampled,
        })
    }

    /// The failures of `range`, at most `limit` entries per list (default 20, at most
    /// 500).
    pub async fn errors(&self, range: &Range, limit: Option<u32>) -> Result<Errors> {
        let limit = crate::limit(limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let window = range.window(Timestamp::now())?;
        let failures = self.store().failures(&window).await?;
        let by_workflow = self.store().status_by_workflow(&window).await?;
        Ok(Errors {
            report: errors::report(&failures, &by_workflow, limit),
            window,
        })
    }

    /// What the server uses now.
    pub async fn resources(&self) -> Result<Resources> {
        let process = process::usage().await;
        let database_bytes = self.store().database_size().await?;
        let backlog = self.store().backlog(None).await?;
        Ok(Resources {
            measured_at: Timestamp::now(),
            process,
            database_bytes,
            backlog,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rates_keep_three_significant_digits() {
        assert_eq!(super::significant(40.0 / 43_200.0), 0.000926);
        assert_eq!(super::significant(8.0 / 1_440.0), 0.00556);
        assert_eq!(super::significant(50.0 / 60.0), 0.833);
        assert_eq!(super::significant(12_345.0), 12_300.0);
        assert_eq!(super::significant(0.0), 0.0);
    }

    use super::*;
    use harmonia_engine::event::Event;

    #[test]
    fn queue_waits_are_measured_between_the_engines_events() {
        let kind = |v: serde_json::Value| {
            serde_json::from_value::<Event>(v)
                .map(|e| e.kind())
                .unwrap_or_default()
        };
        assert_eq!(
            kind(serde_json::json!({"kind": "task_started", "task": "t"})),
            WAIT_KINDS.ready
        );
        assert_eq!(
            kind(serde_json::json!({"kind": "attempt_started", "task": "t", "attempt": 1})),
            WAIT_KINDS.started
        );
    }
}
