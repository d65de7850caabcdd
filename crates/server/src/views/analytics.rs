//! The bodies of `/api/analytics/...`: what fails most, what is slow, and what the
//! server uses, made from `harmonia_app::analytics`' values.
//!
//! Durations are whole milliseconds; rates and ratios are rounded to thousandths;
//! times are RFC 3339. Every body names the window it is about, as resolved (the
//! defaults filled in).

use harmonia_app::analytics::errors::{
    ClassCount, ClassFailures, ErrorReport, MessageFailures, TaskFailures, WorkflowFailures,
};
use harmonia_app::analytics::{Durations, Errors, Resources, Series, Summary};
use harmonia_storage::analytics::{DurationGroup, DurationStats, GroupBy, StatusCounts, Window};
use serde::Serialize;
use utoipa::ToSchema;

/// The window an answer is about: executions created from `since` (included) to
/// `until` (excluded), of one workflow or all.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WindowView {
    /// Its start, included.
    #[schema(format = DateTime)]
    pub since: String,
    /// Its end, excluded.
    #[schema(format = DateTime)]
    pub until: String,
    /// The workflow, or null for all.
    pub workflow: Option<String>,
}

impl WindowView {
    fn from_window(w: &Window) -> WindowView {
        WindowView {
            since: w.since.to_string(),
            until: w.until.to_string(),
            workflow: w.workflow.clone(),
        }
    }
}

/// Executions by status.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct StatusCountsView {
    /// All of them.
    pub total: u64,
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

impl StatusCountsView {
    fn from_counts(c: &StatusCounts) -> StatusCountsView {
        StatusCountsView {
            total: c.total(),
            pending: c.pending,
            running: c.running,
            paused: c.paused,
            succeeded: c.succeeded,
            failed: c.failed,
            cancelled: c.cancelled,
        }
    }
}

/// A distribution of durations in milliseconds (nearest-rank percentiles: the `p`th
/// is the value at rank `ceil(p × count / 100)` of the sorted durations).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct DurationsView {
    /// How many durations.
    pub count: u64,
    /// The median.
    pub p50_ms: i64,
    /// The 95th percentile.
    pub p95_ms: i64,
    /// The 99th percentile.
    pub p99_ms: i64,
    /// The longest.
    pub max_ms: i64,
}

impl DurationsView {
    fn from_stats(s: &DurationStats) -> DurationsView {
        DurationsView {
            count: s.count,
            p50_ms: s.p50,
            p95_ms: s.p95,
            p99_ms: s.p99,
            max_ms: s.max,
        }
    }
}

/// How fast executions end.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThroughputView {
    /// Executions of the window that ended, per minute of the window passed so far.
    pub ended_per_minute: f64,
}

/// The executions of a window in numbers.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "window": {"since": "2026-11-23T10:00:00.000Z", "until": "2026-11-24T10:00:00.000Z", "workflow": null},
    "executions": {"total": 120, "pending": 0, "running": 2, "paused": 0, "succeeded": 100, "failed": 15, "cancelled": 3},
    "success_rate": 0.847,
    "throughput": {"ended_per_minute": 0.082},
    "durations": {"count": 118, "p50_ms": 420, "p95_ms": 3100, "p99_ms": 9020, "max_ms": 12011},
    "open_now": 2
}))]
pub struct SummaryView {
    /// The window.
    pub window: WindowView,
    /// Executions created in the window, by their status now.
    pub executions: StatusCountsView,
    /// Succeeded / ended (succeeded, failed or cancelled); null when none ended.
    pub success_rate: Option<f64>,
    /// How fast they end.
    pub throughput: ThroughputView,
    /// From start to end, of those that ended; null when none did.
    pub durations: Option<DurationsView>,
    /// Executions not ended now (of the workflow, when one is named), whenever they
    /// were created.
    pub open_now: u64,
}

impl SummaryView {
    /// The view of a summary.
    pub fn from_summary(s: &Summary) -> SummaryView {
        SummaryView {
            window: WindowView::from_window(&s.window),
            executions: StatusCountsView::from_counts(&s.executions),
            success_rate: s.success_rate,
            throughput: ThroughputView {
                ended_per_minute: s.ended_per_minute,
            },
            durations: s.durations.as_ref().map(DurationsView::from_stats),
            open_now: s.open_now,
        }
    }
}

/// One bucket of a time series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BucketView {
    /// Its start (it covers `bucket_seconds` from there; the last one may be cut by
    /// the window's end).
    #[schema(format = DateTime)]
    pub start: String,
    /// The executions created in it, by their status now.
    pub executions: StatusCountsView,
}

/// Executions over time.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "window": {"since": "2026-11-24T09:00:00.000Z", "until": "2026-11-24T10:00:00.000Z", "workflow": "etl"},
    "bucket_seconds": 1800,
    "buckets": [
        {"start": "2026-11-24T09:00:00.000Z", "executions": {"total": 3, "pending": 0, "running": 0, "paused": 0, "succeeded": 2, "failed": 1, "cancelled": 0}},
        {"start": "2026-11-24T09:30:00.000Z", "executions": {"total": 0, "pending": 0, "running": 0, "paused": 0, "succeeded": 0, "failed": 0, "cancelled": 0}}
    ]
}))]
pub struct TimeseriesView {
    /// The window.
    pub window: WindowView,
    /// The size of a bucket, in seconds.
    pub bucket_seconds: i64,
    /// Every bucket of the window, oldest first, empty ones included.
    pub buckets: Vec<BucketView>,
}

impl TimeseriesView {
    /// The view of a series.
    pub fn from_series(s: &Series) -> TimeseriesView {
        TimeseriesView {
            window: WindowView::from_window(&s.window),
            bucket_seconds: s.bucket_ms / 1_000,
            buckets: s
                .buckets
                .iter()
                .map(|(start, counts)| BucketView {
                    start: start.to_string(),
                    executions: StatusCountsView::from_counts(counts),
                })
                .collect(),
        }
    }
}

/// The durations of a workflow's executions, or of one task's runs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DurationGroupView {
    /// The workflow.
    pub workflow: String,
    /// The task (`by=task`), else null.
    pub task: Option<String>,
    /// How many ended (and had started).
    pub count: u64,
    /// The median duration.
    pub p50_ms: i64,
    /// The 95th percentile (what the list is sorted by).
    pub p95_ms: i64,
    /// The 99th percentile.
    pub p99_ms: i64,
    /// The longest.
    pub max_ms: i64,
    /// The attempts these runs made (`by=task`: more than `count` means retries),
    /// else null.
    pub attempts: Option<u64>,
    /// The time from the task becoming ready (its dependencies done, its condition
    /// true) to its first attempt starting: waiting for a free slot. Measured on the
    /// newest executions of the window (see `queue_wait_sampled_executions`); null
    /// when none of them ran the task, and for `by=workflow`.
    pub queue_wait: Option<DurationsView>,
}

impl DurationGroupView {
    fn from_group(g: &DurationGroup, wait: Option<&DurationStats>) -> DurationGroupView {
        DurationGroupView {
            workflow: g.workflow.clone(),
            task: g.task.clone(),
            count: g.durations.count,
            p50_ms: g.durations.p50,
            p95_ms: g.durations.p95,
            p99_ms: g.durations.p99,
            max_ms: g.durations.max,
            attempts: g.attempts,
            queue_wait: wait.map(DurationsView::from_stats),
        }
    }
}

/// What is slow: durations per workflow or per task, slowest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "window": {"since": "2026-11-23T10:00:00.000Z", "until": "2026-11-24T10:00:00.000Z", "workflow": null},
    "by": "task",
    "groups": [
        {"workflow": "etl", "task": "load", "count": 40, "p50_ms": 2100, "p95_ms": 8800, "p99_ms": 9900, "max_ms": 9900, "attempts": 46,
         "queue_wait": {"count": 40, "p50_ms": 3, "p95_ms": 1200, "p99_ms": 1500, "max_ms": 1500}},
        {"workflow": "etl", "task": "fetch", "count": 40, "p50_ms": 300, "p95_ms": 900, "p99_ms": 1000, "max_ms": 1000, "attempts": 40, "queue_wait": null}
    ],
    "queue_wait_sampled_executions": 40
}))]
pub struct DurationsListView {
    /// The window.
    pub window: WindowView,
    /// `workflow` or `task`.
    pub by: String,
    /// Slowest first (by p95, then max), at most `limit`.
    pub groups: Vec<DurationGroupView>,
    /// `by=task`: how many executions (the newest of the window) queue waits were
    /// measured on; null for `by=workflow`.
    pub queue_wait_sampled_executions: Option<u64>,
}

impl DurationsListView {
    /// The view of durations.
    pub fn from_durations(d: &Durations) -> DurationsListView {
        DurationsListView {
            window: WindowView::from_window(&d.window),
            by: match d.by {
                GroupBy::Workflow => "workflow",
                GroupBy::Task => "task",
            }
            .into(),
            groups: d
                .groups
                .iter()
                .map(|(g, wait)| DurationGroupView::from_group(g, wait.as_ref()))
                .collect(),
            queue_wait_sampled_executions: d.queue_sampled,
        }
    }
}

/// Failures of one error class.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassFailuresView {
    /// The class (`timeout`, `http_5xx`, ...), or null for errors without one.
    pub class: Option<String>,
    /// Failed executions whose error has it.
    pub executions: u64,
    /// Failed task runs whose error has it.
    pub task_runs: u64,
    /// The newest execution among them.
    #[schema(format = Uuid)]
    pub example_execution: String,
}

impl ClassFailuresView {
    fn from_class(c: &ClassFailures) -> ClassFailuresView {
        ClassFailuresView {
            class: c.class.clone(),
            executions: c.executions,
            task_runs: c.task_runs,
            example_execution: c.example.to_string(),
        }
    }
}

/// How many failures of a class.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassCountView {
    /// The class, or null.
    pub class: Option<String>,
    /// How many.
    pub count: u64,
}

impl ClassCountView {
    fn from_count(c: &ClassCount) -> ClassCountView {
        ClassCountView {
            class: c.class.clone(),
            count: c.count,
        }
    }
}

/// The failed runs of one task.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskFailuresView {
    /// Its workflow.
    pub workflow: String,
    /// The task.
    pub task: String,
    /// Its failed runs.
    pub count: u64,
    /// By error class, most first.
    pub classes: Vec<ClassCountView>,
    /// The newest execution among them.
    #[schema(format = Uuid)]
    pub example_execution: String,
}

impl TaskFailuresView {
    fn from_task(t: &TaskFailures) -> TaskFailuresView {
        TaskFailuresView {
            workflow: t.workflow.clone(),
            task: t.task.clone(),
            count: t.count,
            classes: t.classes.iter().map(ClassCountView::from_count).collect(),
            example_execution: t.example.to_string(),
        }
    }
}

/// The failures of one workflow.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowFailuresView {
    /// The workflow.
    pub workflow: String,
    /// Its failed executions.
    pub failed_executions: u64,
    /// Its ended executions (succeeded, failed or cancelled).
    pub ended_executions: u64,
    /// Failed / ended, or null when none ended.
    pub failure_rate: Option<f64>,
    /// Its failed task runs (a task may fail without failing its execution).
    pub failed_task_runs: u64,
    /// Its newest failed execution (or, when none failed, the newest with a failed
    /// task run).
    #[schema(format = Uuid)]
    pub example_execution: String,
}

impl WorkflowFailuresView {
    fn from_workflow(w: &WorkflowFailures) -> WorkflowFailuresView {
        WorkflowFailuresView {
            workflow: w.workflow.clone(),
            failed_executions: w.failed,
            ended_executions: w.ended,
            failure_rate: w.failure_rate,
            failed_task_runs: w.failed_task_runs,
            example_execution: w.example.to_string(),
        }
    }
}

/// Failures with the same message, once what varies is taken out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageFailuresView {
    /// The message with UUIDs as `<uuid>`, times as `<time>`, long hex strings as
    /// `<hex>` and numbers as `<n>`.
    pub pattern: String,
    /// The error class.
    pub class: Option<String>,
    /// How many failures.
    pub count: u64,
    /// The message of the example, as it was.
    pub example_message: String,
    /// The newest execution among them.
    #[schema(format = Uuid)]
    pub example_execution: String,
}

impl MessageFailuresView {
    fn from_message(m: &MessageFailures) -> MessageFailuresView {
        MessageFailuresView {
            pattern: m.pattern.clone(),
            class: m.class.clone(),
            count: m.count,
            example_message: m.example_message.clone(),
            example_execution: m.example.to_string(),
        }
    }
}

/// What fails most.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "window": {"since": "2026-11-23T10:00:00.000Z", "until": "2026-11-24T10:00:00.000Z", "workflow": null},
    "failed_executions": 4,
    "failed_task_runs": 5,
    "by_class": [
        {"class": "timeout", "executions": 3, "task_runs": 3, "example_execution": "01a20b95-3770-719e-8ae1-f9888c382918"},
        {"class": "http_5xx", "executions": 1, "task_runs": 2, "example_execution": "01a20b95-4410-7a2c-9d1e-0c6b2f9a1e77"}
    ],
    "by_task": [
        {"workflow": "etl", "task": "load", "count": 3, "classes": [{"class": "timeout", "count": 3}], "example_execution": "01a20b95-3770-719e-8ae1-f9888c382918"}
    ],
    "by_workflow": [
        {"workflow": "etl", "failed_executions": 3, "ended_executions": 40, "failure_rate": 0.075, "failed_task_runs": 3, "example_execution": "01a20b95-3770-719e-8ae1-f9888c382918"}
    ],
    "messages": [
        {"pattern": "timeout after <n> ms", "class": "timeout", "count": 3, "example_message": "timeout after 3012 ms", "example_execution": "01a20b95-3770-719e-8ae1-f9888c382918"}
    ]
}))]
pub struct ErrorsView {
    /// The window.
    pub window: WindowView,
    /// Failed executions.
    pub failed_executions: u64,
    /// Failed task runs (a fan-out's task counts once).
    pub failed_task_runs: u64,
    /// By error class, most first.
    pub by_class: Vec<ClassFailuresView>,
    /// Failed task runs by task, most first.
    pub by_task: Vec<TaskFailuresView>,
    /// By workflow, most failed executions first.
    pub by_workflow: Vec<WorkflowFailuresView>,
    /// By message pattern, most first: of failed task runs, and of failed executions
    /// whose error is not a task's (a workflow's timeout), each failure once.
    pub messages: Vec<MessageFailuresView>,
}

impl ErrorsView {
    /// The view of a window's failures.
    pub fn from_errors(e: &Errors) -> ErrorsView {
        let r: &ErrorReport = &e.report;
        ErrorsView {
            window: WindowView::from_window(&e.window),
            failed_executions: r.failed_executions,
            failed_task_runs: r.failed_task_runs,
            by_class: r
                .by_class
                .iter()
                .map(ClassFailuresView::from_class)
                .collect(),
            by_task: r.by_task.iter().map(TaskFailuresView::from_task).collect(),
            by_workflow: r
                .by_workflow
                .iter()
                .map(WorkflowFailuresView::from_workflow)
                .collect(),
            messages: r
                .messages
                .iter()
                .map(MessageFailuresView::from_message)
                .collect(),
        }
    }
}

/// What this server process uses.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProcessView {
    /// CPU time in user mode since the process started, in milliseconds.
    pub cpu_user_ms: Option<u64>,
    /// CPU time in the kernel on its behalf, in milliseconds.
    pub cpu_system_ms: Option<u64>,
    /// Resident memory now, in bytes; null where it cannot be read (not Linux).
    pub rss_bytes: Option<u64>,
}

/// What the server uses now, and what is in flight.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "measured_at": "2026-11-24T10:00:00.123Z",
    "process": {"cpu_user_ms": 5230, "cpu_system_ms": 870, "rss_bytes": 48234496},
    "database_bytes": 7340032,
    "open_executions": 3,
    "queued_task_runs": 12,
    "worker_task_runs": 1
}))]
pub struct ResourcesView {
    /// When it was measured (two answers give CPU use: CPU time over time passed).
    #[schema(format = DateTime)]
    pub measured_at: String,
    /// This process.
    pub process: ProcessView,
    /// The database's size in bytes (SQLite: its pages, the WAL not counted); null
    /// for a store without a database.
    pub database_bytes: Option<u64>,
    /// Executions not ended (pending, running or paused).
    pub open_executions: u64,
    /// Tasks and fan-out items of those executions ready and waiting for a free slot
    /// (the queue's depth).
    pub queued_task_runs: u64,
    /// Tasks and fan-out items waiting for an external worker (offered on a queue, or
    /// leased).
    pub worker_task_runs: u64,
}

impl ResourcesView {
    /// The view of resources.
    pub fn from_resources(r: &Resources) -> ResourcesView {
        ResourcesView {
            measured_at: r.measured_at.to_string(),
            process: ProcessView {
                cpu_user_ms: r.process.cpu_user_ms,
                cpu_system_ms: r.process.cpu_system_ms,
                rss_bytes: r.process.rss_bytes,
            },
            database_bytes: r.database_bytes,
            open_executions: r.backlog.open_executions,
            queued_task_runs: r.backlog.queued_task_runs,
            worker_task_runs: r.backlog.worker_task_runs,
        }
    }
}
