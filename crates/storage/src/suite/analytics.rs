//! The suite of the analytics role ([`Analytics`](crate::Analytics)): on a seeded
//! store with known times, every aggregate gives exactly the numbers of the contract
//! (windows, workflow filters, nearest-rank percentiles, order, grouping of failures,
//! queue waits from the log, the backlog).

use serde_json::{Value, json};

use super::{execution, expect, run};
use crate::analytics::{
    Backlog, DurationGroup, DurationStats, FailureGroup, GroupBy, StatusCounts, WaitKinds, Window,
};
use crate::json::RawJson;
use crate::prelude::*;
use crate::records::{CommitBatch, EventRecord, ExecutionRecord, TaskRunRecord};
use crate::{ExecutionId, ExecutionStatus, TaskStatus, Timestamp};

/// The window of the seed: `[SINCE, UNTIL)`.
const SINCE: i64 = 1_000_000;
const UNTIL: i64 = 2_000_000;

const KINDS: WaitKinds<'static> = WaitKinds {
    ready: "task_started",
    started: "attempt_started",
};

fn window(workflow: Option<&str>) -> Window {
    Window {
        since: Timestamp(SINCE),
        until: Timestamp(UNTIL),
        workflow: workflow.map(str::to_owned),
    }
}

fn ended(mut x: ExecutionRecord, status: ExecutionStatus, ms: i64) -> ExecutionRecord {
    x.status = status;
    x.ended_at = Some(Timestamp(x.created_at.0 + ms));
    x
}

fn task(id: ExecutionId, name: &str, started: i64, ms: i64, status: TaskStatus) -> TaskRunRecord {
    TaskRunRecord {
        started_at: Some(Timestamp(started)),
        ended_at: Some(Timestamp(started + ms)),
        output: None,
        ..run(id, name, None, status)
    }
}

fn error(class: &str, message: &str, task: Option<&str>) -> Value {
    let mut e = json!({"class": class, "message": message});
    if let Some(t) = task {
        e["task"] = json!(t);
    }
    e
}

fn event(id: ExecutionId, seq: u64, at: i64, kind: &str, task: &str) -> EventRecord {
    EventRecord {
        execution: id,
        seq,
        at: Timestamp(at),
        kind: kind.into(),
        data: RawJson::from(&json!({"kind": kind, "task": task, "attempt": 1})),
    }
}

/// What the seed holds, to check answers against.
struct Seed {
    /// Workflow `a`'s executions, oldest first.
    a: Vec<ExecutionId>,
}

/// Workflow `a`: 100 executions in the window, 1,000 ms apart, the `i`th lasting
/// `(i + 1) * 10` ms; every tenth failed (its task `fetch` failed: `timeout` for `i` < 50,
/// `http_5xx` after). Each has a task `fetch` (half its execution's time; 2 attempts
/// when it failed) and a fan-out `each` (a task row of 3 attempts and two item rows,
/// which count only as attempts). Workflow `b`: a running execution (with a queued task
/// and one waiting for a worker), a pending one, and one cancelled after 5,000 ms.
/// Outside the window: an `a` created just before it and one created at its end, both
/// long and failed. The newest two `a` executions have logs: `fetch` ready at +0 and
/// started at +3 (and +7 for the newest, its second attempt).
async fn seed(store: &dyn Store) -> Seed {
    let mut batch = CommitBatch::default();
    let outside = |created: i64| {
        let id = ExecutionId::new();
        let mut x = ended(
            execution(id, "a", ExecutionStatus::Running, created),
            ExecutionStatus::Failed,
            999_999,
        );
        x.error = Some(error("timeout", "outside", Some("fetch")));
        x
    };
    batch.executions.push(outside(SINCE - 1));
    let mut a = Vec::new();
    for i in 0..100_i64 {
        let id = ExecutionId::new();
        a.push(id);
        let created = SINCE + i * 1_000;
        let ms = (i + 1) * 10;
        let failed = i % 10 == 0;
        let (status, task_status) = if failed {
            (ExecutionStatus::Failed, TaskStatus::Failed)
        } else {
            (ExecutionStatus::Succeeded, TaskStatus::Succeeded)
        };
        let mut x = ended(execution(id, "a", status, created), status, ms);
        let mut fetch = task(id, "fetch", created, ms / 2, task_status);
        if failed {
            let class = if i < 50 { "timeout" } else { "http_5xx" };
            let message = format!("timeout after {} ms", 3_000 + i);
            fetch.error = Some(error(class, &message, None));
            fetch.attempts = 2;
            x.error = Some(error(
                class,
                &format!("task `fetch` failed: {message}"),
                Some("fetch"),
            ));
        }
        let each = TaskRunRecord {
            attempts: 3,
            ..task(id, "each", created, 1, TaskStatus::Succeeded)
        };
        let items = (0..2).map(|n| TaskRunRecord {
            attempts: 1 + n,
            ..task(id, "each", created, 100_000, TaskStatus::Succeeded)
        });
        let items: Vec<TaskRunRecord> = items
            .zip([0, 1])
            .map(|(t, n)| TaskRunRecord { item: Some(n), ..t })
            .collect();
        batch.executions.push(x);
        batch.task_runs.extend([fetch, each]);
        batch.task_runs.extend(items);
    }
    let (newer, newest) = (a[98], a[99]);
    let c98 = SINCE + 98_000;
    let c99 = SINCE + 99_000;
    batch.events.extend([
        event(newer, 1, c98, "execution_started", "none"),
        event(newer, 2, c98, "task_started", "fetch"),
        event(newer, 3, c98 + 3, "attempt_started", "fetch"),
        event(newest, 1, c99, "task_started", "fetch"),
        event(newest, 2, c99 + 3, "attempt_started", "fetch"),
        event(newest, 3, c99 + 7, "attempt_started", "fetch"),
        // Only ready: it does not count.
        event(newest, 4, c99 + 9, "task_started", "each"),
    ]);
    let b = [ExecutionId::new(), ExecutionId::new(), ExecutionId::new()];
    let at = SINCE + 500_000;
    batch
        .executions
        .push(execution(b[0], "b", ExecutionStatus::Running, at));
    let mut pending = execution(b[1], "b", ExecutionStatus::Pending, at + 1);
    pending.started_at = None;
    batch.executions.push(pending);
    batch.executions.push(ended(
        execution(b[2], "b", ExecutionStatus::Running, at + 2),
        ExecutionStatus::Cancelled,
        5_000,
    ));
    batch.task_runs.extend([
        TaskRunRecord {
            ended_at: None,
            attempts: 0,
            ..task(b[0], "queued", at, 0, TaskStatus::Queued)
        },
        TaskRunRecord {
            ended_at: None,
            wait_for: Some("worker".into()),
            wait_key: Some("gpu".into()),
            wait: Some(json!({"on": "signal"})),
            ..task(b[0], "work", at, 0, TaskStatus::Running)
        },
        TaskRunRecord {
            started_at: None,
            attempts: 0,
            skip_reason: Some("condition".into()),
            ..task(b[2], "skipped", at, 0, TaskStatus::Skipped)
        },
    ]);
    batch.executions.push(outside(UNTIL));
    let report = expect(store.commit(&batch).await, "seed");
    assert!(report.is_clean(), "{report:?}");
    Seed { a }
}

fn counts(pairs: &[(ExecutionStatus, u64)]) -> StatusCounts {
    let mut c = StatusCounts::default();
    for (s, n) in pairs {
        c.add(*s, *n);
    }
    c
}

/// The summary counts the window's executions by status and the durations of those
/// that ended (nearest-rank percentiles); a workflow filter and an empty window.
pub async fn the_summary_counts_a_window(store: &dyn Store) {
    seed(store).await;
    let all = expect(store.execution_summary(&window(None)).await, "summary");
    use ExecutionStatus::*;
    assert_eq!(
        all.counts,
        counts(&[
            (Succeeded, 90),
            (Failed, 10),
            (Running, 1),
            (Pending, 1),
            (Cancelled, 1)
        ])
    );
    // 10, 20, ..., 1000 and 5000: 101 durations.
    assert_eq!(
        all.durations,
        Some(DurationStats {
            count: 101,
            p50: 510,
            p95: 960,
            p99: 1000,
            max: 5000
        })
    );

    let b = expect(store.execution_summary(&window(Some("b"))).await, "b");
    assert_eq!(
        b.counts,
        counts(&[(Running, 1), (Pending, 1), (Cancelled, 1)])
    );
    assert_eq!(
        b.durations.map(|d| (d.count, d.p50, d.max)),
        Some((1, 5000, 5000))
    );

    let none = Window {
        since: Timestamp(0),
        until: Timestamp(10),
        workflow: None,
    };
    let empty = expect(store.execution_summary(&none).await, "empty");
    assert_eq!(empty, Default::default());
    let unknown = expect(store.execution_summary(&window(Some("zz"))).await, "zz");
    assert_eq!(unknown.counts.total(), 0);
}

/// Per workflow, by status; and by buckets of creation time from an origin, only
/// buckets that hold executions.
pub async fn counts_by_workflow_and_over_time(store: &dyn Store) {
    seed(store).await;
    use ExecutionStatus::*;
    let by = expect(store.status_by_workflow(&window(None)).await, "by workflow");
    assert_eq!(
        by,
        vec![
            ("a".to_string(), counts(&[(Succeeded, 90), (Failed, 10)])),
            (
                "b".to_string(),
                counts(&[(Running, 1), (Pending, 1), (Cancelled, 1)])
            ),
        ]
    );
    // Buckets of 250 s: `a` in 0 (ids 0..=99 at 0..99 s); `b` at 500 s, bucket 2.
    let series = expect(
        store
            .execution_series(&window(None), Timestamp(SINCE), 250_000)
            .await,
        "series",
    );
    let got: Vec<(u64, StatusCounts)> = series.iter().map(|b| (b.index, b.counts)).collect();
    assert_eq!(
        got,
        vec![
            (0, counts(&[(Succeeded, 90), (Failed, 10)])),
            (2, counts(&[(Running, 1), (Pending, 1), (Cancelled, 1)])),
        ]
    );
    // Buckets of 10 s: ten `a` executions each, the first of each failed.
    let fine = expect(
        store
            .execution_series(&window(Some("a")), Timestamp(SINCE), 10_000)
            .await,
        "fine",
    );
    assert_eq!(fine.len(), 10);
    assert!(fine.iter().enumerate().all(|(i, b)| b.index == i as u64
        && b.counts == counts(&[(Succeeded, 9), (Failed, 1)])));
    // Counted from an earlier origin: the same buckets, one further.
    let shifted = expect(
        store
            .execution_series(&window(Some("a")), Timestamp(SINCE - 10_000), 10_000)
            .await,
        "shifted",
    );
    let indexes: Vec<u64> = shifted.iter().map(|b| b.index).collect();
    assert_eq!(indexes, (1..=10).collect::<Vec<u64>>());
}

/// Durations by workflow and by task: slowest first (p95, then max), `limit` groups;
/// task rows only; rows without both times left out.
pub async fn durations_group_and_rank_slowest_first(store: &dyn Store) {
    seed(store).await;
    let by_workflow = expect(
        store.durations(&window(None), GroupBy::Workflow, 10).await,
        "by workflow",
    );
    let a: Vec<i64> = (1..=100).map(|i| i * 10).collect();
    assert_eq!(
        by_workflow,
        vec![
            DurationGroup {
                workflow: "b".into(),
                task: None,
                durations: DurationStats {
                    count: 1,
                    p50: 5000,
                    p95: 5000,
                    p99: 5000,
                    max: 5000
                },
                attempts: None,
            },
            DurationGroup {
                workflow: "a".into(),
                task: None,
                durations: DurationStats::of(&a).expect("stats"),
                attempts: None,
            },
        ]
    );
    let one = expect(
        store.durations(&window(None), GroupBy::Workflow, 1).await,
        "limit",
    );
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].workflow, "b");

    let by_task = expect(
        store.durations(&window(None), GroupBy::Task, 10).await,
        "by task",
    );
    let names: Vec<(&str, Option<&str>)> = by_task
        .iter()
        .map(|g| (g.workflow.as_str(), g.task.as_deref()))
        .collect();
    // `fetch` (p95 475) before `each` (1 ms each); `b` has no ended task with a start.
    assert_eq!(names, vec![("a", Some("fetch")), ("a", Some("each"))]);
    let fetch: Vec<i64> = (1..=100).map(|i| i * 5).collect();
    assert_eq!(
        by_task[0].durations,
        DurationStats::of(&fetch).expect("fetch")
    );
    assert_eq!(by_task[0].durations.p95, 475);
    assert_eq!(
        (by_task[1].durations.count, by_task[1].durations.max),
        (100, 1)
    );
    // Attempts: `fetch` 90 * 1 + 10 * 2; `each` 100 * 3 (its items are inside it).
    assert_eq!(
        (by_task[0].attempts, by_task[1].attempts),
        (Some(110), Some(300))
    );
    let b = expect(
        store.durations(&window(Some("b")), GroupBy::Task, 10).await,
        "b by task",
    );
    assert!(b.is_empty(), "{b:?}");
}

/// Failed executions and failed task runs of the window, grouped by workflow, task,
/// class and message, with counts and the newest execution as the example.
pub async fn failures_group_by_class_task_and_message(store: &dyn Store) {
    let seed = seed(store).await;
    let failures = expect(store.failures(&window(None)).await, "failures");
    let failed: Vec<(usize, ExecutionId)> = (0..100).step_by(10).map(|i| (i, seed.a[i])).collect();
    let expect_groups = |prefix: &str, task_field: bool| {
        let mut groups: Vec<FailureGroup> = failed
            .iter()
            .map(|(i, id)| {
                let message = format!("timeout after {} ms", 3_000 + i);
                FailureGroup {
                    workflow: "a".into(),
                    task: task_field.then(|| "fetch".to_string()),
                    class: Some(if *i < 50 { "timeout" } else { "http_5xx" }.into()),
                    message: Some(format!("{prefix}{message}")),
                    count: 1,
                    example: *id,
                }
            })
            .collect();
        groups.sort_by(|x, y| {
            (&x.workflow, &x.task, &x.class, &x.message).cmp(&(
                &y.workflow,
                &y.task,
                &y.class,
                &y.message,
            ))
        });
        groups
    };
    let sorted = |mut g: Vec<FailureGroup>| {
        g.sort_by(|x, y| {
            (&x.workflow, &x.task, &x.class, &x.message).cmp(&(
                &y.workflow,
                &y.task,
                &y.class,
                &y.message,
            ))
        });
        g
    };
    assert_eq!(
        sorted(failures.executions),
        expect_groups("task `fetch` failed: ", true)
    );
    assert_eq!(sorted(failures.task_runs), expect_groups("", true));

    // Rows that share everything are one group: the count, and the newest example.
    let mut batch = CommitBatch::default();
    let mut ids = Vec::new();
    for n in 0..3 {
        let id = ExecutionId::new();
        ids.push(id);
        let mut x = ended(
            execution(id, "c", ExecutionStatus::Running, SINCE + 1 + n),
            ExecutionStatus::Failed,
            1,
        );
        // No class, no task: an error of another shape.
        x.error = Some(json!({"message": "boom"}));
        batch.executions.push(x);
    }
    expect(store.commit(&batch).await, "commit");
    let c = expect(store.failures(&window(Some("c"))).await, "c");
    assert_eq!(
        c.executions,
        vec![FailureGroup {
            workflow: "c".into(),
            task: None,
            class: None,
            message: Some("boom".into()),
            count: 3,
            example: ids[2],
        }]
    );
    assert!(c.task_runs.is_empty());
}

/// Queue waits come from the logs of the newest executions of the window: from the
/// first ready event of a task to the first start of an attempt.
pub async fn queue_waits_read_the_newest_logs(store: &dyn Store) {
    seed(store).await;
    let waits = expect(
        store.queue_waits(&window(Some("a")), 10, KINDS).await,
        "waits",
    );
    assert_eq!(waits.sampled, 10);
    assert_eq!(
        waits.groups,
        vec![DurationGroup {
            workflow: "a".into(),
            task: Some("fetch".into()),
            durations: DurationStats {
                count: 2,
                p50: 3,
                p95: 3,
                p99: 3,
                max: 3
            },
            attempts: None,
        }]
    );
    // A sample of one: the newest only.
    let one = expect(store.queue_waits(&window(None), 1, KINDS).await, "one");
    assert_eq!(one.sampled, 1);
    assert!(one.groups.is_empty(), "{:?}", one.groups);
    let a_only = expect(
        store.queue_waits(&window(Some("a")), 1, KINDS).await,
        "a only",
    );
    assert_eq!(a_only.groups.first().map(|g| g.durations.count), Some(1));
}

/// The backlog: open executions, queued task runs and worker waits, now; filtered by
/// workflow. The database size is either unknown or positive.
pub async fn the_backlog_is_what_is_in_flight_now(store: &dyn Store) {
    seed(store).await;
    let all = expect(store.backlog(None).await, "backlog");
    assert_eq!(
        all,
        Backlog {
            open_executions: 2,
            queued_task_runs: 1,
            worker_task_runs: 1,
        }
    );
    let a = expect(store.backlog(Some("a")).await, "a");
    assert_eq!(a, Backlog::default());
    let size = expect(store.database_size().await, "size");
    assert!(size.is_none_or(|bytes| bytes > 0), "{size:?}");
}
