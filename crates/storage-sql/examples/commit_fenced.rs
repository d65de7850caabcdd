//! What the fence check costs a commit: small batches (one event and one task row) of
//! one existing execution, committed with and without its fence, alternately, on one
//! SQLite file. Prints the median time per commit of each, and their ratio.
//!
//! ```text
//! cargo run --release -p harmonia-storage-sql --example commit_fenced
//! ```

use std::time::{Duration, Instant};

use harmonia_storage::prelude::*;
use harmonia_storage::{
    CommitBatch, EventRecord, ExecutionId, ExecutionRecord, ExecutionStatus, TaskRunRecord,
    TaskStatus, Timestamp, WorkflowId,
};
use harmonia_storage_sql::{SqliteOptions, SqliteStore};
use serde_json::json;

const ROUNDS: usize = 9;
const PER_ROUND: u64 = 200;

fn row(id: ExecutionId, now: Timestamp) -> ExecutionRecord {
    ExecutionRecord {
        id,
        workflow_id: WorkflowId::new(),
        workflow: "fenced".into(),
        version: 1,
        status: ExecutionStatus::Running,
        inputs: json!({}).into(),
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
    }
}

fn step(id: ExecutionId, seq: u64, fenced: bool) -> CommitBatch {
    let now = Timestamp::now();
    CommitBatch {
        events: vec![EventRecord {
            execution: id,
            seq,
            at: now,
            kind: "attempt_succeeded".into(),
            data: harmonia_storage::json::RawJson::from(
                &json!({"type": "attempt_succeeded", "task": "t", "attempt": 1, "output": seq}),
            ),
        }],
        task_runs: vec![TaskRunRecord {
            execution: id,
            task: format!("t{seq}"),
            item: None,
            status: TaskStatus::Succeeded,
            attempts: 1,
            output: Some(json!(seq)),
            error: None,
            skip_reason: None,
            started_at: Some(now),
            ended_at: Some(now),
            wait: None,
            wait_for: None,
            wait_key: None,
        }],
        fences: if fenced { vec![(id, 1)] } else { Vec::new() },
        ..CommitBatch::default()
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::TempDir::new()?;
    let store = SqliteStore::open(&dir.path().join("fenced.db"), SqliteOptions::default()).await?;
    let id = ExecutionId::new();
    store
        .commit(&CommitBatch {
            executions: vec![row(id, Timestamp::now())],
            ..CommitBatch::default()
        })
        .await?;
    let mut seq = 0;
    let (mut plain, mut fenced) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for (with_fence, times) in [(false, &mut plain), (true, &mut fenced)] {
            let start = Instant::now();
            for _ in 0..PER_ROUND {
                seq += 1;
                store.commit(&step(id, seq, with_fence)).await?;
            }
            times.push(start.elapsed() / PER_ROUND as u32);
        }
    }
    let (p, f) = (median(plain), median(fenced));
    println!(
        "per commit, median of {ROUNDS} rounds of {PER_ROUND}: unfenced {p:?}, fenced {f:?}, fenced / unfenced {:.2}",
        f.as_secs_f64() / p.as_secs_f64()
    );
    Ok(())
}
