//! The suite of the execution log ([`ExecutionLog`](crate::ExecutionLog)): commits are
//! atomic, conflicts write nothing, rows replace by key, inputs are written once, deep
//! values round-trip, big and concurrent batches land.

use serde_json::json;

use super::{event, execution, expect, run, waiting_run};
use crate::prelude::*;
use crate::records::CommitBatch;
use crate::{Error, ExecutionId, ExecutionStatus, TaskStatus, Timestamp};

/// A batch reads back exactly as written.
pub async fn commit_and_read_back(store: &dyn Store) {
    let id = ExecutionId::new();
    let mut x = execution(id, "w", ExecutionStatus::Running, 10);
    x.parent = Some(crate::ParentLink {
        execution: ExecutionId::new(),
        task: "t".into(),
        item: Some(3),
    });
    x.error = Some(json!({"message": "m"}));
    x.owner = Some("node-1".into());
    x.fence = 7;
    x.parked = true;
    let batch = CommitBatch {
        events: vec![event(id, 1, "started"), event(id, 2, "attempt_started")],
        executions: vec![x.clone()],
        task_runs: vec![
            run(id, "a", None, TaskStatus::Running),
            waiting_run(id, "b", "event", Some("order.paid")),
        ],
    };
    expect(store.commit(&batch).await, "commit");
    assert_eq!(expect(store.events(id).await, "events"), batch.events);
    assert_eq!(expect(store.execution(id).await, "execution"), Some(x));
    assert_eq!(
        expect(store.task_runs(id).await, "task runs"),
        batch.task_runs
    );
    assert_eq!(
        expect(store.execution(ExecutionId::new()).await, "missing"),
        None
    );
    assert!(expect(store.events(ExecutionId::new()).await, "no events").is_empty());
}

/// An event that exists already makes the whole batch fail, and nothing of it lands.
pub async fn a_conflicting_batch_writes_nothing(store: &dyn Store) {
    let id = ExecutionId::new();
    let other = ExecutionId::new();
    expect(
        store
            .commit(&CommitBatch {
                events: vec![event(id, 1, "started")],
                ..CommitBatch::default()
            })
            .await,
        "first commit",
    );
    let r = store
        .commit(&CommitBatch {
            events: vec![event(other, 1, "started"), event(id, 1, "again")],
            executions: vec![execution(other, "w", ExecutionStatus::Running, 1)],
            task_runs: vec![run(other, "a", None, TaskStatus::Running)],
        })
        .await;
    assert!(matches!(r, Err(Error::Conflict(_))), "{r:?}");
    assert_eq!(expect(store.events(id).await, "events").len(), 1);
    assert!(expect(store.events(other).await, "events").is_empty());
    assert_eq!(expect(store.execution(other).await, "execution"), None);
    assert!(expect(store.task_runs(other).await, "runs").is_empty());
}

fn nested(depth: usize) -> serde_json::Value {
    let mut v = serde_json::json!(1);
    for _ in 0..depth {
        v = serde_json::json!([v]);
    }
    v
}

/// Values nested up to the store's limit read back (a 200-deep task output did not:
/// its execution could not be shown or recovered); a batch with a deeper one is
/// refused whole.
pub async fn deep_values_round_trip_and_deeper_ones_write_nothing(store: &dyn Store) {
    let id = ExecutionId::new();
    let deep = nested(crate::json::MAX_STORED_DEPTH - 1);
    let mut e = event(id, 1, "started");
    e.data = crate::json::RawJson::from(&serde_json::json!({"output": deep.clone()}));
    let mut x = execution(id, "w", ExecutionStatus::Running, 1);
    x.outputs = Some(deep.clone());
    let mut t = run(id, "a", None, TaskStatus::Succeeded);
    t.output = Some(deep.clone());
    t.wait = Some(deep.clone());
    expect(
        store
            .commit(&CommitBatch {
                events: vec![e],
                executions: vec![x],
                task_runs: vec![t],
            })
            .await,
        "a deep batch",
    );
    let events = expect(store.events(id).await, "events");
    assert_eq!(events[0].data.value()["output"], deep);
    let x = expect(store.execution(id).await, "execution").expect("stored");
    assert_eq!(x.outputs.as_ref(), Some(&deep));
    let runs = expect(store.task_runs(id).await, "runs");
    assert_eq!(runs[0].output.as_ref(), Some(&deep));
    assert_eq!(runs[0].wait.as_ref(), Some(&deep));

    let other = ExecutionId::new();
    let mut e = event(other, 1, "started");
    e.data = crate::json::RawJson::from(
        &serde_json::json!({"output": nested(crate::json::MAX_STORED_DEPTH)}),
    );
    let r = store
        .commit(&CommitBatch {
            events: vec![event(id, 2, "fine"), e],
            executions: vec![execution(other, "w", ExecutionStatus::Running, 1)],
            ..CommitBatch::default()
        })
        .await;
    assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");
    assert_eq!(expect(store.events(id).await, "events").len(), 1);
    assert!(expect(store.events(other).await, "events").is_empty());
    assert_eq!(expect(store.execution(other).await, "execution"), None);
}

/// An execution's inputs are written with its first row and kept: later writes of the
/// row carry `null` (or anything) and change the rest only.
pub async fn an_execution_keeps_its_first_inputs(store: &dyn Store) {
    let id = ExecutionId::new();
    let mut x = execution(id, "w", ExecutionStatus::Running, 1);
    x.inputs = std::sync::Arc::new(serde_json::json!({"data": "x".repeat(10_000)}));
    let first = x.inputs.clone();
    expect(
        store
            .commit(&CommitBatch {
                executions: vec![x.clone()],
                ..CommitBatch::default()
            })
            .await,
        "first row",
    );
    for inputs in [serde_json::Value::Null, serde_json::json!({"other": 1})] {
        let mut later = x.clone();
        later.inputs = std::sync::Arc::new(inputs);
        later.status = ExecutionStatus::Succeeded;
        expect(
            store
                .commit(&CommitBatch {
                    executions: vec![later],
                    ..CommitBatch::default()
                })
                .await,
            "later row",
        );
        let stored = expect(store.execution(id).await, "read").expect("stored");
        assert_eq!(stored.status, ExecutionStatus::Succeeded);
        assert_eq!(stored.inputs, first);
    }
    let listed = expect(store.executions(&Default::default()).await, "list");
    assert_eq!(listed[0].inputs, first);
}

/// Events of several commits come back in `seq` order.
pub async fn events_come_back_in_order(store: &dyn Store) {
    let id = ExecutionId::new();
    for seq in 1..=5 {
        let batch = CommitBatch {
            events: vec![event(id, seq, &format!("e{seq}"))],
            ..CommitBatch::default()
        };
        expect(store.commit(&batch).await, "commit");
    }
    let seqs: Vec<u64> = expect(store.events(id).await, "events")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
}

/// Rows with the same key replace each other.
pub async fn rows_are_replaced_by_key(store: &dyn Store) {
    let id = ExecutionId::new();
    let mut x = execution(id, "w", ExecutionStatus::Running, 1);
    expect(
        store
            .commit(&CommitBatch {
                executions: vec![x.clone()],
                task_runs: vec![run(id, "a", None, TaskStatus::Running)],
                ..CommitBatch::default()
            })
            .await,
        "commit",
    );
    x.status = ExecutionStatus::Succeeded;
    x.outputs = Some(json!({"done": true}));
    x.ended_at = Some(Timestamp(99));
    let mut r = run(id, "a", None, TaskStatus::Succeeded);
    r.attempts = 3;
    r.output = Some(json!([1, 2, 3]));
    r.ended_at = Some(Timestamp(99));
    expect(
        store
            .commit(&CommitBatch {
                executions: vec![x.clone()],
                task_runs: vec![r.clone()],
                ..CommitBatch::default()
            })
            .await,
        "commit",
    );
    assert_eq!(expect(store.execution(id).await, "execution"), Some(x));
    assert_eq!(expect(store.task_runs(id).await, "runs"), vec![r]);
}

/// A batch of 10,000 events and 5,000 rows commits and reads back.
pub async fn large_batches(store: &dyn Store) {
    let id = ExecutionId::new();
    let batch = CommitBatch {
        events: (1..=10_000).map(|s| event(id, s, "e")).collect(),
        executions: vec![execution(id, "w", ExecutionStatus::Running, 1)],
        task_runs: (0..5_000)
            .map(|i| run(id, "fan", Some(i), TaskStatus::Succeeded))
            .collect(),
    };
    expect(store.commit(&batch).await, "commit");
    assert_eq!(expect(store.events(id).await, "events").len(), 10_000);
    assert_eq!(expect(store.task_runs(id).await, "runs").len(), 5_000);
}

/// Commits of different executions from concurrent callers all land.
pub async fn concurrent_commits(store: &dyn Store) {
    let ids: Vec<ExecutionId> = (0..8).map(|_| ExecutionId::new()).collect();
    let commits = ids.iter().map(|id| {
        let batch = CommitBatch {
            events: (1..=20).map(|s| event(*id, s, "e")).collect(),
            executions: vec![execution(*id, "w", ExecutionStatus::Running, 1)],
            ..CommitBatch::default()
        };
        async move { store.commit(&batch).await }
    });
    for r in futures::future::join_all(commits).await {
        expect(r, "concurrent commit");
    }
    for id in ids {
        assert_eq!(expect(store.events(id).await, "events").len(), 20);
    }
}
