//! What the analytics queries cost on a real SQLite file: 100,000 executions (10
//! workflows, 3 tasks each, 14 events each: 300,000 task rows and 1.4 million events;
//! 90% succeeded, 8% failed with varied messages, 1% cancelled, 1% still running),
//! written through the store's commits, first spread over the last 7 days, then all
//! in the last 24 hours (the worst case: the default window holds every one); then
//! each query of the `Analytics` role 5 times, printing the median (and the slowest)
//! in milliseconds, for the last 24 hours, one workflow's 24 hours, and the last hour.
//!
//! ```text
//! cargo run --release -p harmonia-storage-sql --example analytics_queries [EXECUTIONS [KEEP.db]]
//! ```

use std::future::Future;
use std::time::{Duration, Instant};

use harmonia_storage::analytics::{GroupBy, WaitKinds, Window};
use harmonia_storage::prelude::*;
use harmonia_storage::{
    CommitBatch, EventRecord, ExecutionId, ExecutionRecord, ExecutionStatus, TaskRunRecord,
    TaskStatus, Timestamp, WorkflowId,
};
use harmonia_storage_sql::{SqliteOptions, SqliteStore};
use serde_json::{Value, json};

const WORKFLOWS: usize = 10;
const TASKS: [&str; 3] = ["fetch", "transform", "load"];
const DAY_MS: i64 = 86_400_000;
const RUNS: usize = 5;
const KINDS: WaitKinds<'static> = WaitKinds {
    ready: "task_started",
    started: "attempt_started",
};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Roughly log-uniform from `lo` to `hi` milliseconds.
    fn duration(&mut self, lo: i64, hi: i64) -> i64 {
        let f = (self.next() % 10_000) as f64 / 10_000.0;
        ((lo as f64) * ((hi as f64) / (lo as f64)).powf(f)) as i64
    }
}

fn event(id: ExecutionId, seq: &mut u64, at: i64, data: Value) -> EventRecord {
    *seq += 1;
    EventRecord {
        execution: id,
        seq: *seq,
        at: Timestamp(at),
        kind: data["kind"].as_str().unwrap_or("unknown").to_owned(),
        data: harmonia_storage::json::RawJson::from(&data),
    }
}

fn failure(rng: &mut Rng) -> Value {
    match rng.next() % 3 {
        0 => {
            json!({"class": "timeout", "message": format!("timeout after {} ms", 2_900 + rng.next() % 200)})
        }
        1 => {
            json!({"class": "http_5xx", "status": 503, "message": format!("HTTP 503 from https://api.example.com/orders/{}", uuid::Uuid::now_v7())})
        }
        _ => {
            json!({"class": "connection", "message": format!("connection refused: 10.0.{}.{}:5432", rng.next() % 256, rng.next() % 256)})
        }
    }
}

/// One execution created at `created`, its task rows and its log.
fn execution(
    rng: &mut Rng,
    n: usize,
    created: i64,
    workflows: &[WorkflowId],
    batch: &mut CommitBatch,
) {
    let id = ExecutionId::new();
    let w = n % WORKFLOWS;
    let roll = rng.next() % 100;
    let status = match roll {
        0..90 => ExecutionStatus::Succeeded,
        90..98 => ExecutionStatus::Failed,
        98 => ExecutionStatus::Cancelled,
        _ => ExecutionStatus::Running,
    };
    let mut seq = 0;
    batch.events.push(event(
        id,
        &mut seq,
        created,
        json!({"kind": "execution_started", "workflow": format!("wf-{w}"), "version": 1, "inputs": {"n": n}}),
    ));
    let mut at = created;
    let mut error = None;
    for (i, task) in TASKS.iter().enumerate() {
        let ready = at;
        let started = ready + rng.duration(1, 50);
        // Workflow `wf-0` is the slow one.
        let ms = rng.duration(5, if w == 0 { 60_000 } else { 5_000 });
        let last = i == TASKS.len() - 1;
        let (task_status, ended) = match status {
            ExecutionStatus::Running if last => (TaskStatus::Running, None),
            ExecutionStatus::Failed if last => (TaskStatus::Failed, Some(started + ms)),
            ExecutionStatus::Cancelled if last => (TaskStatus::Cancelled, Some(started + ms)),
            _ => (TaskStatus::Succeeded, Some(started + ms)),
        };
        let task_error = (task_status == TaskStatus::Failed).then(|| failure(rng));
        batch.events.push(event(
            id,
            &mut seq,
            ready,
            json!({"kind": "task_started", "task": task}),
        ));
        batch.events.push(event(
            id,
            &mut seq,
            started,
            json!({"kind": "attempt_started", "task": task, "attempt": 1}),
        ));
        if let Some(end) = ended {
            let (attempt, done) = match &task_error {
                Some(e) => (
                    json!({"kind": "attempt_failed", "task": task, "attempt": 1, "error": e}),
                    json!({"kind": "task_failed", "task": task, "error": e}),
                ),
                None => (
                    json!({"kind": "attempt_succeeded", "task": task, "attempt": 1, "output": {"rows": n}}),
                    json!({"kind": "task_succeeded", "task": task}),
                ),
            };
            batch.events.push(event(id, &mut seq, end, attempt));
            batch.events.push(event(id, &mut seq, end, done));
            at = end;
        }
        if let Some(e) = &task_error {
            let mut e = e.clone();
            e["message"] = json!(format!(
                "task `{task}` failed: {}",
                e["message"].as_str().unwrap_or("")
            ));
            e["task"] = json!(task);
            error = Some(e);
        }
        batch.task_runs.push(TaskRunRecord {
            execution: id,
            task: (*task).into(),
            item: None,
            status: task_status,
            attempts: 1,
            output: (task_status == TaskStatus::Succeeded).then(|| json!({"rows": n})),
            error: task_error,
            skip_reason: None,
            started_at: Some(Timestamp(ready)),
            ended_at: ended.map(Timestamp),
            wait: None,
            wait_for: None,
            wait_key: None,
        });
    }
    let ended_at = status.is_terminal().then_some(Timestamp(at));
    if let Some(end) = ended_at {
        let kind = format!("execution_{status}");
        batch
            .events
            .push(event(id, &mut seq, end.0, json!({"kind": kind})));
    }
    batch.executions.push(ExecutionRecord {
        id,
        workflow_id: workflows[w],
        workflow: format!("wf-{w}"),
        version: 1,
        status,
        inputs: json!({"n": n}).into(),
        outputs: (status == ExecutionStatus::Succeeded).then(|| json!({"rows": n})),
        error,
        parent: None,
        retry_of: None,
        origin: None,
        created_at: Timestamp(created),
        started_at: Some(Timestamp(created)),
        ended_at,
        updated_at: Timestamp(at),
        owner: Some("node".into()),
        fence: 1,
        parked: false,
    });
}

/// The median and the slowest of [`RUNS`] runs of `query`.
async fn measure<T, F: Future<Output = harmonia_storage::Result<T>>>(
    mut query: impl FnMut() -> F,
) -> Result<(Duration, Duration), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        query().await?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok((times[RUNS / 2], times[RUNS - 1]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let executions: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 100_000,
    };
    // Spread over a week (the day's window holds a seventh), then all in the last day.
    for days in [7, 1] {
        scenario(executions, days).await?;
    }
    Ok(())
}

async fn scenario(executions: usize, days: i64) -> Result<(), Box<dyn std::error::Error>> {
    // A second argument keeps the last database at that path (to look at its plans).
    let dir = tempfile::TempDir::new()?;
    let path = match std::env::args().nth(2) {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("analytics.db"),
    };
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(&path, SqliteOptions::default()).await?;
    let now = Timestamp::now().0;
    let workflows: Vec<WorkflowId> = (0..WORKFLOWS).map(|_| WorkflowId::new()).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let filling = Instant::now();
    let span = days * DAY_MS;
    let spacing = span / executions.max(1) as i64;
    let mut batch = CommitBatch::default();
    for n in 0..executions {
        execution(
            &mut rng,
            n,
            now - span + n as i64 * spacing,
            &workflows,
            &mut batch,
        );
        if batch.executions.len() == 1_000 {
            store.commit(&std::mem::take(&mut batch)).await?;
        }
    }
    store.commit(&batch).await?;
    let size = store.database_size().await?.unwrap_or(0);
    println!(
        "\n{executions} executions over {days} day(s): {} task rows, {} events, written in {:.1} s; database {:.0} MB",
        executions * TASKS.len(),
        executions * 14,
        filling.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );

    let day = Window {
        since: Timestamp(now - DAY_MS),
        until: Timestamp(now + 1),
        workflow: None,
    };
    let one = Window {
        workflow: Some("wf-3".into()),
        ..day.clone()
    };
    let hour = Window {
        since: Timestamp(now - 3_600_000),
        ..day.clone()
    };
    let held = store.execution_summary(&day).await?.counts.total();
    println!("the last 24 hours hold {held} executions; median (slowest) of {RUNS} runs, ms:");
    println!(
        "{:<28} {:>16} {:>16} {:>16}",
        "query", "24 h, all", "24 h, 1 workflow", "last hour"
    );
    macro_rules! row {
        ($name:expr, |$w:ident| $query:expr) => {{
            let mut cells = Vec::new();
            for window in [&day, &one, &hour] {
                let $w = window;
                let (median, slowest) = measure(|| $query).await?;
                cells.push(format!("{:.1} ({:.1})", ms(median), ms(slowest)));
            }
            println!(
                "{:<28} {:>16} {:>16} {:>16}",
                $name, cells[0], cells[1], cells[2]
            );
        }};
    }
    row!("execution_summary", |w| store.execution_summary(w));
    row!("status_by_workflow", |w| store.status_by_workflow(w));
    row!("execution_series (48)", |w| store
        .execution_series(w, w.since, 1_800_000));
    row!("durations by workflow", |w| store.durations(
        w,
        GroupBy::Workflow,
        20
    ));
    row!("durations by task", |w| store.durations(
        w,
        GroupBy::Task,
        20
    ));
    row!("queue_waits (1,000)", |w| store
        .queue_waits(w, 1_000, KINDS));
    row!("failures", |w| store.failures(w));
    let (median, slowest) = measure(|| store.backlog(None)).await?;
    println!(
        "{:<28} {:>16}",
        "backlog",
        format!("{:.1} ({:.1})", ms(median), ms(slowest))
    );
    let (median, slowest) = measure(|| store.database_size()).await?;
    println!(
        "{:<28} {:>16}",
        "database_size",
        format!("{:.1} ({:.1})", ms(median), ms(slowest))
    );
    store.close().await;
    Ok(())
}
