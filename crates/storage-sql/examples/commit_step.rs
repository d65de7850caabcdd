//! What one step of a chain costs the store: the commit the engine makes per step of a
//! sequential workflow (the step's result and the next step's start: three events,
//! the execution's row, two task rows, the execution's fence), 2,000 times on one
//! execution, one after another. Prints the median and the 90th percentile, for both
//! durability settings, and the CPU time of the whole process per commit. With
//! `HARMONIA_BENCH_PG_URL` set to a PostgreSQL database's URL, also on that database
//! (the CPU time is then this process's only, not the server's).
//!
//! ```text
//! cargo run --release -p harmonia-storage-sql --example commit_step
//! ```

use std::time::{Duration, Instant};

use harmonia_storage::Store;
use harmonia_storage::{
    CommitBatch, EventRecord, ExecutionId, ExecutionRecord, ExecutionStatus, TaskRunRecord,
    TaskStatus, Timestamp, WorkflowId,
};
use harmonia_storage_sql::{
    PostgresOptions, PostgresStore, SqliteOptions, SqliteStore, Synchronous,
};
use serde_json::json;

const STEPS: u64 = 2_000;

fn event(id: ExecutionId, seq: u64, kind: &str) -> EventRecord {
    EventRecord {
        execution: id,
        seq,
        at: Timestamp::now(),
        kind: kind.into(),
        data: harmonia_storage::json::RawJson::from(&json!({
            "type": kind, "task": format!("t{}", seq / 3), "attempt": 1, "output": seq,
        })),
    }
}

fn row(id: ExecutionId, workflow_id: WorkflowId) -> ExecutionRecord {
    let now = Timestamp::now();
    ExecutionRecord {
        id,
        workflow_id,
        workflow: "chain".into(),
        version: 1,
        status: ExecutionStatus::Running,
        inputs: serde_json::Value::Null.into(),
        outputs: None,
        error: None,
        parent: None,
        retry_of: None,
        origin: None,
        created_at: now,
        started_at: Some(now),
        ended_at: None,
        updated_at: now,
        owner: Some("node".into()),
        fence: 1,
        parked: false,
    }
}

fn task(id: ExecutionId, n: u64, status: TaskStatus) -> TaskRunRecord {
    let now = Timestamp::now();
    TaskRunRecord {
        execution: id,
        task: format!("t{n}"),
        item: None,
        status,
        attempts: 1,
        output: (status == TaskStatus::Succeeded).then(|| json!(n)),
        error: None,
        skip_reason: None,
        started_at: Some(now),
        ended_at: (status == TaskStatus::Succeeded).then_some(now),
        wait: None,
        wait_for: None,
        wait_key: None,
    }
}

fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split(' ').collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
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
        steps(&store, &format!("SQLite, synchronous = {synchronous:?}")).await?;
        store.close().await;
    }
    if let Ok(url) = std::env::var("HARMONIA_BENCH_PG_URL") {
        let store = PostgresStore::connect(&url, PostgresOptions::default()).await?;
        steps(&store, "PostgreSQL").await?;
        store.close().await;
    }
    Ok(())
}

/// Commits the steps of one chain on `store`, and prints what they took.
async fn steps(store: &dyn Store, label: &str) -> Result<(), Box<dyn std::error::Error>> {
    let id = ExecutionId::new();
    let workflow = WorkflowId::new();
    let mut first = CommitBatch {
        events: vec![event(id, 1, "execution_started")],
        executions: vec![row(id, workflow)],
        task_runs: vec![task(id, 0, TaskStatus::Running)],
        ..CommitBatch::default()
    };
    first.executions[0].inputs = json!({}).into();
    store.commit(&first).await?;
    let mut times = Vec::with_capacity(STEPS as usize);
    let cpu_before = cpu();
    let started = Instant::now();
    for n in 0..STEPS {
        let seq = 2 + n * 3;
        let batch = CommitBatch {
            events: vec![
                event(id, seq, "attempt_succeeded"),
                event(id, seq + 1, "task_succeeded"),
                event(id, seq + 2, "attempt_started"),
            ],
            executions: vec![row(id, workflow)],
            task_runs: vec![
                task(id, n, TaskStatus::Succeeded),
                task(id, n + 1, TaskStatus::Running),
            ],
            fences: vec![(id, 1)],
            ..CommitBatch::default()
        };
        let t = Instant::now();
        store.commit(&batch).await?;
        times.push(t.elapsed());
    }
    let wall = started.elapsed();
    let cpu = cpu().saturating_sub(cpu_before);
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{label}: {STEPS} step commits, median {:?}, p90 {:?}, CPU {:?} a commit (10 ms ticks), wall {:?} a commit",
        at(0.5),
        at(0.9),
        cpu / STEPS as u32,
        wall / STEPS as u32,
    );
    Ok(())
}
