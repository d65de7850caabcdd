//! What the execution listing's filters cost on SQLite with 100,000 executions: one
//! page (`limit` 51, as the API asks for a page of 50) with no filter, with the
//! `origin`, `trigger` and `input` filters when many executions match, and when none
//! does (then the whole table is read: the worst case). Inputs are about 250 bytes of
//! JSON each. Prints the median of 5 runs of each query.
//!
//! ```text
//! cargo run --release -p harmonia-storage-sql --example list_filters
//! ```

use std::time::{Duration, Instant};

use harmonia_storage::prelude::*;
use harmonia_storage::{
    CommitBatch, ExecutionId, ExecutionQuery, ExecutionRecord, ExecutionStatus, Origin, OriginKind,
    Timestamp, WorkflowId,
};
use harmonia_storage_sql::{SqliteOptions, SqliteStore};
use serde_json::json;

const EXECUTIONS: usize = 100_000;
const BATCH: usize = 5_000;

fn row(n: usize, workflow_id: WorkflowId) -> ExecutionRecord {
    let now = Timestamp::now();
    let origin = match n % 10 {
        0 => Origin::by(OriginKind::Webhook, "orders.0"),
        1..=3 => Origin::by(OriginKind::Schedule, format!("report.{}", n % 2)),
        _ => Origin::by(OriginKind::Api, "ci-bot"),
    };
    ExecutionRecord {
        id: ExecutionId::new(),
        workflow_id,
        workflow: format!("w{}", n % 20),
        version: 1,
        status: ExecutionStatus::Succeeded,
        inputs: json!({
            "customer": format!("customer-{}", n % 5_000),
            "order": n,
            "items": [{"sku": format!("sku-{}", n % 777), "qty": n % 7 + 1}, {"sku": "sku-gift", "qty": 1}],
            "note": "deliver to the back door, ring twice, leave with the neighbour if nobody answers",
            "priority": if n.is_multiple_of(3) { "high" } else { "normal" },
        })
        .into(),
        outputs: Some(json!({"ok": true})),
        error: None,
        parent: None,
        retry_of: None,
        origin: Some(origin),
        created_at: now,
        started_at: Some(now),
        ended_at: Some(now),
        updated_at: now,
        owner: Some("node".into()),
        fence: 1,
        parked: false,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("list.db"), SqliteOptions::default()).await?;
    let workflow_id = WorkflowId::new();
    for start in (0..EXECUTIONS).step_by(BATCH) {
        let batch = CommitBatch {
            executions: (start..start + BATCH)
                .map(|n| row(n, workflow_id))
                .collect(),
            ..CommitBatch::default()
        };
        store.commit(&batch).await?;
    }
    println!("{EXECUTIONS} executions; a page of 51, median of 5 runs:");
    let page = |q: ExecutionQuery| ExecutionQuery { limit: 51, ..q };
    let cases: Vec<(&str, ExecutionQuery)> = vec![
        ("no filter", page(ExecutionQuery::default())),
        (
            "origin=webhook (1 in 10)",
            page(ExecutionQuery {
                origins: vec![OriginKind::Webhook],
                ..ExecutionQuery::default()
            }),
        ),
        (
            "origin=mcp (none)",
            page(ExecutionQuery {
                origins: vec![OriginKind::Mcp],
                ..ExecutionQuery::default()
            }),
        ),
        (
            "trigger=report.1 (3 in 20)",
            page(ExecutionQuery {
                trigger: Some("report.1".into()),
                ..ExecutionQuery::default()
            }),
        ),
        (
            "trigger=nope.0 (none)",
            page(ExecutionQuery {
                trigger: Some("nope.0".into()),
                ..ExecutionQuery::default()
            }),
        ),
        (
            "input=\"customer-42\" (1 in 5,000)",
            page(ExecutionQuery {
                input: Some("\"customer-42\"".into()),
                ..ExecutionQuery::default()
            }),
        ),
        (
            "input=\"priority\":\"high\" (1 in 3)",
            page(ExecutionQuery {
                input: Some("\"priority\":\"high\"".into()),
                ..ExecutionQuery::default()
            }),
        ),
        (
            "input=no-such-text (none)",
            page(ExecutionQuery {
                input: Some("no-such-text".into()),
                ..ExecutionQuery::default()
            }),
        ),
        (
            "input=no-such-text, workflow=w3",
            page(ExecutionQuery {
                input: Some("no-such-text".into()),
                workflow: Some("w3".into()),
                ..ExecutionQuery::default()
            }),
        ),
    ];
    for (name, query) in cases {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..5 {
            let started = Instant::now();
            found = store.executions(&query).await?.len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "  {name:<40} {:>9.2} ms  ({found} found)",
            ms(times[times.len() / 2])
        );
    }
    store.close().await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}
