//! How fast `SqliteStore::commit` writes batches of the sizes the engine makes: one
//! event (a quiet tick), 100, 100,000, and a fan-out to 100,000 tasks (200,000 events
//! and 100,000 task rows in one tick).
//!
//! Each batch is one execution's: its row, N events (~120 bytes of JSON each) and
//! a similar number of task rows (fan-out items). Every commit is a new execution in the
//! same file, so the tables grow as they would. One warm-up commit per size, then the
//! median of five. Both durability modes.
//!
//! ```text
//! cargo run --release -p harmonia-storage-sql --example commit_throughput
//! ```

use std::time::{Duration, Instant};

use harmonia_storage::prelude::*;
use harmonia_storage::{
    CommitBatch, EventRecord, ExecutionId, ExecutionRecord, ExecutionStatus, TaskRunRecord,
    TaskStatus, Timestamp, WorkflowId,
};
use harmonia_storage_sql::{SqliteOptions, SqliteStore, Synchronous};
use serde_json::json;

const RUNS: usize = 5;

/// (label, events, task rows)
const SIZES: &[(&str, u64, u32)] = &[
    ("1 event + 1 task row", 1, 1),
    ("100 events + 100 task rows", 100, 100),
    ("100k events + 100k task rows", 100_000, 100_000),
    ("fan-out: 200k events + 100k task rows", 200_000, 100_000),
];

fn batch(events: u64, tasks: u32) -> CommitBatch {
    let id = ExecutionId::new();
    let now = Timestamp::now();
    CommitBatch {
        events: (1..=events)
            .map(|seq| EventRecord {
                execution: id,
                seq,
                at: now,
                kind: "attempt_succeeded".into(),
                data: harmonia_storage::json::RawJson::from(&json!({
                    "type": "attempt_succeeded",
                    "task": "fan",
                    "item": seq / 2,
                    "attempt": 1,
                    "output": {"status": 200, "body": {"n": seq}},
                })),
            })
            .collect(),
        executions: vec![ExecutionRecord {
            id,
            workflow_id: WorkflowId::new(),
            workflow: "fan-out".into(),
            version: 1,
            status: ExecutionStatus::Running,
            inputs: json!({"n": tasks}).into(),
            outputs: None,
            error: None,
            parent: None,
            retry_of: None,
            origin: None,
            created_at: now,
            started_at: Some(now),
            ended_at: None,
            updated_at: now,
            owner: None,
            fence: 1,
            parked: false,
        }],
        task_runs: (0..tasks)
            .map(|item| TaskRunRecord {
                execution: id,
                task: "fan".into(),
                item: Some(item),
                status: TaskStatus::Succeeded,
                attempts: 1,
                output: Some(json!({"status": 200, "body": {"n": item}})),
                error: None,
                skip_reason: None,
                started_at: Some(now),
                ended_at: Some(now),
                wait: None,
                wait_for: None,
                wait_key: None,
            })
            .collect(),
        ..CommitBatch::default()
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    for synchronous in [Synchronous::Normal, Synchronous::Full] {
        let dir = tempfile::TempDir::new()?;
        let store = SqliteStore::open(
            &dir.path().join("bench.db"),
            SqliteOptions {
                synchronous,
                ..SqliteOptions::default()
            },
        )
        .await?;
        println!("synchronous = {synchronous:?} (median of {RUNS} commits)");
        for &(label, events, tasks) in SIZES {
            // Fewer fsync-bound tiny commits would be noise: small sizes commit in
            // a loop of 100 per run and report the time per commit.
            let per_run = if events < 1_000 { 100 } else { 1 };
            store.commit(&batch(events, tasks)).await?;
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let batches: Vec<CommitBatch> =
                    (0..per_run).map(|_| batch(events, tasks)).collect();
                let start = Instant::now();
                for b in &batches {
                    store.commit(b).await?;
                }
                times.push(start.elapsed() / per_run);
            }
            let per_commit = median(times);
            println!(
                "  {label:<40} {:>10.3} ms/commit {:>12.0} events/s",
                per_commit.as_secs_f64() * 1e3,
                events as f64 / per_commit.as_secs_f64(),
            );
        }
        store.close().await;
    }
    Ok(())
}
