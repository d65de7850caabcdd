//! The suite of the execution log ([`ExecutionLog`](crate::ExecutionLog)): commits are
//! atomic, conflicts write nothing, rows replace by key, inputs are written once, deep
//! values round-trip, big and concurrent batches land; fenced executions and duplicate
//! idempotency keys are left out whole while the rest of their batch lands. (Timers
//! written by commits are checked in `suite::timers`.)

use serde_json::json;

use super::{event, execution, expect, key_record, run, waiting_run};
use crate::prelude::*;
use crate::records::{CommitBatch, CommitReport, ExecutionQuery, TimerRecord};
use crate::{Error, ExecutionId, ExecutionRecord, ExecutionStatus, TaskStatus, Timestamp};

fn timer(execution: ExecutionId, key: &str, due: i64) -> TimerRecord {
    TimerRecord {
        execution,
        key: key.into(),
        due: Timestamp(due),
    }
}

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
        ..CommitBatch::default()
    };
    let report = expect(store.commit(&batch).await, "commit");
    assert_eq!(report, CommitReport::default());
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
            timers_set: vec![timer(other, "t", 5)],
            idempotency: vec![key_record("s", "k", other, 1, 100)],
            ..CommitBatch::default()
        })
        .await;
    assert!(matches!(r, Err(Error::Conflict(_))), "{r:?}");
    assert!(expect(store.timers().await, "timers").is_empty());
    assert_eq!(
        expect(store.idempotency("s", "k", Timestamp(2)).await, "key"),
        None
    );
    assert_eq!(expect(store.events(id).await, "events").len(), 1);
    assert!(expect(store.events(other).await, "events").is_empty());
    assert_eq!(expect(store.execution(other).await, "execution"), None);
    assert!(expect(store.task_runs(other).await, "runs").is_empty());
}

/// `commit_here` is `commit` or nothing: a batch it takes reads back as `commit`
/// would write it, with `commit`'s report; one it leaves (`None`) wrote nothing, and
/// `commit` then writes it. A conflicting batch, taken or left, writes nothing.
pub async fn a_commit_here_is_a_commit_or_nothing(store: &dyn Store) {
    let id = ExecutionId::new();
    let mut x = execution(id, "w", ExecutionStatus::Running, 10);
    x.owner = Some("node-1".into());
    x.fence = 3;
    let first = CommitBatch {
        events: vec![event(id, 1, "started"), event(id, 2, "attempt_started")],
        executions: vec![x.clone()],
        task_runs: vec![run(id, "a", None, TaskStatus::Running)],
        timers_set: vec![timer(id, "t", 5)],
        ..CommitBatch::default()
    };
    match store.commit_here(&first) {
        Some(r) => assert_eq!(expect(r, "commit here"), CommitReport::default()),
        None => {
            assert!(expect(store.events(id).await, "events").is_empty());
            expect(store.commit(&first).await, "commit");
        }
    }
    assert_eq!(expect(store.events(id).await, "events"), first.events);
    assert_eq!(
        expect(store.execution(id).await, "execution"),
        Some(x.clone())
    );
    assert_eq!(expect(store.task_runs(id).await, "runs"), first.task_runs);
    assert_eq!(
        expect(store.timers().await, "timers"),
        vec![timer(id, "t", 5)]
    );

    // The next step, fenced by the fence the row has: taken or left, it lands.
    let mut done = x.clone();
    done.status = ExecutionStatus::Succeeded;
    let next = CommitBatch {
        events: vec![event(id, 3, "attempt_succeeded")],
        executions: vec![done.clone()],
        task_runs: vec![run(id, "a", None, TaskStatus::Succeeded)],
        fences: vec![(id, 3)],
        ..CommitBatch::default()
    };
    match store.commit_here(&next) {
        Some(r) => assert_eq!(expect(r, "commit here"), CommitReport::default()),
        None => {
            expect(store.commit(&next).await, "commit");
        }
    }
    assert_eq!(expect(store.events(id).await, "events").len(), 3);
    assert_eq!(expect(store.execution(id).await, "execution"), Some(done));
    // An ended execution keeps no timers.
    assert!(expect(store.timers().await, "timers").is_empty());

    // A conflict (event 3 exists) writes nothing, whichever way it goes.
    let other = ExecutionId::new();
    let conflicting = CommitBatch {
        events: vec![event(other, 1, "started"), event(id, 3, "again")],
        executions: vec![execution(other, "w", ExecutionStatus::Running, 1)],
        ..CommitBatch::default()
    };
    if let Some(r) = store.commit_here(&conflicting) {
        assert!(matches!(r, Err(Error::Conflict(_))), "{r:?}");
    }
    assert_eq!(expect(store.events(id).await, "events").len(), 3);
    assert!(expect(store.events(other).await, "events").is_empty());
    assert_eq!(expect(store.execution(other).await, "execution"), None);
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
                ..CommitBatch::default()
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

/// An execution's inputs and identity (workflow, version, creation time, parent, the
/// execution it retries, its origin) are written with its first row and kept: later
/// writes of the row change the rest only.
pub async fn an_execution_keeps_its_first_inputs(store: &dyn Store) {
    let id = ExecutionId::new();
    let mut x = execution(id, "w", ExecutionStatus::Running, 1);
    x.inputs = std::sync::Arc::new(serde_json::json!({"data": "x".repeat(10_000)}));
    x.origin = Some(crate::Origin::by(crate::OriginKind::Schedule, "w.0"));
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
        let inputs_null = inputs.is_null();
        let mut later = x.clone();
        later.inputs = std::sync::Arc::new(inputs);
        later.status = ExecutionStatus::Succeeded;
        later.workflow_id = crate::WorkflowId::new();
        later.workflow = "renamed".into();
        later.version += 1;
        later.created_at = Timestamp(x.created_at.0 + 1_000);
        later.parent = Some(crate::ParentLink {
            execution: ExecutionId::new(),
            task: "t".into(),
            item: Some(1),
        });
        later.retry_of = Some(ExecutionId::new());
        // Neither dropped nor replaced by a later row.
        later.origin = if inputs_null {
            None
        } else {
            Some(crate::Origin::by(crate::OriginKind::Api, "someone"))
        };
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
        let identity = |r: &ExecutionRecord| {
            (
                r.workflow_id,
                r.workflow.clone(),
                r.version,
                r.created_at,
                r.parent.clone(),
                r.retry_of,
                r.origin.clone(),
            )
        };
        assert_eq!(identity(&stored), identity(&x));
    }
    let listed = expect(store.executions(&Default::default()).await, "list");
    assert_eq!(listed[0].inputs, first);
    assert_eq!(listed[0].origin, x.origin);
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
    let after = |seq| async move {
        expect(store.events_after(id, seq).await, "events after")
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<u64>>()
    };
    assert_eq!(after(3).await, [4, 5]);
    assert_eq!(after(0).await, [1, 2, 3, 4, 5]);
    assert!(after(5).await.is_empty());
    assert!(after(u64::MAX).await.is_empty());
    let other = expect(store.events_after(ExecutionId::new(), 0).await, "none");
    assert!(other.is_empty());
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

/// Status and owner change one at a time, or not at all while the rest of the row
/// does, and what finds executions by them (a listing by status, the unfinished ones)
/// follows. (A store may write these indexed columns apart from the rest; see
/// storage-sql `write.rs`.)
pub async fn status_and_owner_are_replaced_apart_from_the_rest(store: &dyn Store) {
    let (a, b) = (ExecutionId::new(), ExecutionId::new());
    let mut x = execution(a, "w", ExecutionStatus::Running, 1);
    x.owner = Some("node-1".into());
    let mut y = execution(b, "w", ExecutionStatus::Running, 2);
    y.owner = Some("node-1".into());
    let commit = |batch: Vec<ExecutionRecord>| async move {
        expect(
            store
                .commit(&CommitBatch {
                    executions: batch,
                    ..CommitBatch::default()
                })
                .await,
            "commit",
        );
    };
    commit(vec![x.clone(), y.clone()]).await;
    // A step: only the time moves.
    x.updated_at = Timestamp(50);
    y.updated_at = Timestamp(51);
    commit(vec![x.clone(), y.clone()]).await;
    // One changes owner, the other status.
    x.owner = Some("node-2".into());
    x.fence = 2;
    y.status = ExecutionStatus::Paused;
    commit(vec![x.clone(), y.clone()]).await;
    assert_eq!(expect(store.execution(a).await, "x"), Some(x.clone()));
    assert_eq!(expect(store.execution(b).await, "y"), Some(y.clone()));
    let with = |status| ExecutionQuery {
        statuses: vec![status],
        ..ExecutionQuery::default()
    };
    let ids = |xs: Vec<ExecutionRecord>| xs.into_iter().map(|x| x.id).collect::<Vec<_>>();
    let listed = expect(
        store.executions(&with(ExecutionStatus::Running)).await,
        "list",
    );
    assert!(ids(listed.clone()).contains(&a) && !ids(listed).contains(&b));
    let listed = expect(
        store.executions(&with(ExecutionStatus::Paused)).await,
        "list",
    );
    assert!(ids(listed).contains(&b));
    // Both at once, and the execution leaves the unfinished ones.
    x.status = ExecutionStatus::Succeeded;
    x.owner = None;
    x.ended_at = Some(Timestamp(60));
    commit(vec![x.clone()]).await;
    assert_eq!(expect(store.execution(a).await, "x"), Some(x));
    let unfinished = ids(expect(store.unfinished().await, "unfinished"));
    assert!(!unfinished.contains(&a) && unfinished.contains(&b));
    let listed = expect(
        store.executions(&with(ExecutionStatus::Succeeded)).await,
        "list",
    );
    assert!(ids(listed).contains(&a));
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
        timers_set: (0..2_000).map(|i| timer(id, &format!("t{i}"), i)).collect(),
        ..CommitBatch::default()
    };
    expect(store.commit(&batch).await, "commit");
    assert_eq!(expect(store.events(id).await, "events").len(), 10_000);
    assert_eq!(expect(store.task_runs(id).await, "runs").len(), 5_000);
    assert_eq!(expect(store.timers().await, "timers").len(), 2_000);

    // Many clears and many keys in one batch (stores look them up in chunks).
    let starts: Vec<ExecutionId> = (0..600).map(|_| ExecutionId::new()).collect();
    let batch = CommitBatch {
        timers_cleared: (0..1_500).map(|i| (id, format!("t{i}"))).collect(),
        idempotency: starts
            .iter()
            .enumerate()
            .map(|(i, x)| key_record("w", &format!("k{i}"), *x, 1, 100))
            .collect(),
        fences: vec![(id, 1)],
        ..CommitBatch::default()
    };
    let report = expect(store.commit(&batch).await, "clears and keys");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(expect(store.timers().await, "timers").len(), 500);
    let again = CommitBatch {
        idempotency: batch
            .idempotency
            .iter()
            .map(|r| key_record("w", &r.key, ExecutionId::new(), 2, 100))
            .collect(),
        ..CommitBatch::default()
    };
    let report = expect(store.commit(&again).await, "taken keys");
    assert_eq!(report.duplicates.len(), 600);
    assert!(
        report
            .duplicates
            .iter()
            .zip(&starts)
            .all(|((_, holder), start)| holder.execution == *start)
    );
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

/// A batch whose conditions all hold is written whole, and reports nothing; a batch of
/// fences alone is not empty, and writes nothing.
pub async fn a_batch_without_conditions_reports_nothing(store: &dyn Store) {
    let id = ExecutionId::new();
    let x = execution(id, "w", ExecutionStatus::Running, 1);
    let start = CommitBatch {
        events: vec![event(id, 1, "started")],
        executions: vec![x.clone()],
        idempotency: vec![key_record("w", "k", id, 1, 100)],
        ..CommitBatch::default()
    };
    assert!(start.is_conditional());
    assert_eq!(
        expect(store.commit(&start).await, "start"),
        CommitReport::default()
    );
    let next = CommitBatch {
        events: vec![event(id, 2, "attempt_started")],
        task_runs: vec![run(id, "a", None, TaskStatus::Running)],
        timers_set: vec![timer(id, "timeout", 50)],
        fences: vec![(id, 1)],
        ..CommitBatch::default()
    };
    let report = expect(store.commit(&next).await, "next");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(expect(store.events(id).await, "events").len(), 2);
    assert_eq!(expect(store.task_runs(id).await, "runs").len(), 1);
    assert_eq!(expect(store.timers().await, "timers"), next.timers_set);

    let fences_only = CommitBatch {
        fences: vec![(id, 1)],
        ..CommitBatch::default()
    };
    assert!(!fences_only.is_empty());
    assert!(CommitBatch::default().is_empty());
    let report = expect(store.commit(&fences_only).await, "fences only");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(expect(store.execution(id).await, "row"), Some(x));
}

/// The timers of one execution, by key.
async fn timers_of(store: &dyn Store, id: ExecutionId) -> Vec<(String, i64)> {
    let mut keys: Vec<(String, i64)> = expect(store.timers().await, "timers")
        .into_iter()
        .filter(|t| t.execution == id)
        .map(|t| (t.key, t.due.0))
        .collect();
    keys.sort();
    keys
}

/// An execution whose stored fence differs from the batch's (another node claimed
/// it), or that has no row, is left out whole: its events, row, task runs, timers set
/// and cleared, and idempotency records; the rest of the batch lands.
pub async fn a_fenced_execution_is_left_out_whole(store: &dyn Store) {
    let (a, b, c, missing) = (
        ExecutionId::new(),
        ExecutionId::new(),
        ExecutionId::new(),
        ExecutionId::new(),
    );
    let row = |id, fence: u64| {
        let mut x = execution(id, "w", ExecutionStatus::Running, 1);
        x.fence = fence;
        x
    };
    expect(
        store
            .commit(&CommitBatch {
                events: vec![event(a, 1, "started"), event(b, 1, "started")],
                executions: vec![row(a, 1), row(b, 1)],
                task_runs: vec![
                    run(a, "t", None, TaskStatus::Running),
                    run(b, "t", None, TaskStatus::Running),
                ],
                timers_set: vec![timer(a, "keep", 10), timer(b, "keep", 10)],
                ..CommitBatch::default()
            })
            .await,
        "start",
    );
    // Another node took `a` over: its stored fence is 2.
    let mut a_now = row(a, 2);
    a_now.owner = Some("other".into());
    expect(
        store
            .commit(&CommitBatch {
                executions: vec![a_now.clone()],
                ..CommitBatch::default()
            })
            .await,
        "take over",
    );

    let done = |id| {
        let mut x = row(id, 1);
        x.parked = true;
        x
    };
    let batch = CommitBatch {
        events: vec![
            event(a, 2, "stale"),
            event(b, 2, "attempt_succeeded"),
            event(c, 1, "started"),
            event(missing, 1, "started"),
        ],
        executions: vec![done(a), done(b), row(c, 1), row(missing, 1)],
        task_runs: vec![
            run(a, "t", None, TaskStatus::Succeeded),
            run(b, "t", None, TaskStatus::Succeeded),
            run(c, "t", None, TaskStatus::Running),
            run(missing, "t", None, TaskStatus::Running),
        ],
        timers_set: vec![
            timer(a, "new", 5),
            timer(b, "new", 5),
            timer(c, "new", 7),
            timer(missing, "new", 1),
        ],
        timers_cleared: vec![(a, "keep".into()), (b, "keep".into())],
        idempotency: vec![
            key_record("w", "missing", missing, 1, 100),
            key_record("w", "c", c, 1, 100),
        ],
        fences: vec![(a, 1), (b, 1), (missing, 1)],
    };
    let report = expect(store.commit(&batch).await, "commit");
    assert_eq!(
        report,
        CommitReport {
            fenced: vec![a, missing],
            duplicates: vec![],
        }
    );

    // `a` is as the other node left it.
    assert_eq!(expect(store.events(a).await, "events").len(), 1);
    assert_eq!(expect(store.execution(a).await, "row"), Some(a_now));
    assert_eq!(
        expect(store.task_runs(a).await, "runs")[0].status,
        TaskStatus::Running
    );
    assert_eq!(timers_of(store, a).await, [("keep".into(), 10)]);
    // `missing` has nothing.
    assert!(expect(store.events(missing).await, "events").is_empty());
    assert_eq!(expect(store.execution(missing).await, "row"), None);
    assert!(expect(store.task_runs(missing).await, "runs").is_empty());
    assert!(timers_of(store, missing).await.is_empty());
    assert_eq!(
        expect(store.idempotency("w", "missing", Timestamp(2)).await, "key"),
        None
    );
    // The rest landed.
    assert_eq!(expect(store.events(b).await, "events").len(), 2);
    assert_eq!(expect(store.execution(b).await, "row"), Some(done(b)));
    assert_eq!(
        expect(store.task_runs(b).await, "runs")[0].status,
        TaskStatus::Succeeded
    );
    assert_eq!(timers_of(store, b).await, [("new".into(), 5)]);
    assert_eq!(expect(store.events(c).await, "events").len(), 1);
    assert_eq!(expect(store.execution(c).await, "row"), Some(row(c, 1)));
    assert_eq!(timers_of(store, c).await, [("new".into(), 7)]);
    assert_eq!(
        expect(store.idempotency("w", "c", Timestamp(2)).await, "key"),
        Some(key_record("w", "c", c, 1, 100))
    );
}

/// A start whose idempotency key an unexpired record of another execution holds is left
/// out whole and reported with that record; the other starts of the batch land.
pub async fn a_duplicate_key_is_left_out_and_reported_with_its_holder(store: &dyn Store) {
    let (a, b, c) = (ExecutionId::new(), ExecutionId::new(), ExecutionId::new());
    let start = |id: ExecutionId, key: &str, at: i64| CommitBatch {
        events: vec![event(id, 1, "started")],
        executions: vec![execution(id, "w", ExecutionStatus::Running, at)],
        task_runs: vec![run(id, "t", None, TaskStatus::Running)],
        timers_set: vec![timer(id, "timeout", 500)],
        idempotency: vec![key_record("wf", key, id, at, 1_000)],
        ..CommitBatch::default()
    };
    let holder = key_record("wf", "k", a, 10, 1_000);
    expect(store.commit(&start(a, "k", 10)).await, "a");

    let mut batch = start(b, "k", 20);
    let other = start(c, "k2", 20);
    batch.events.extend(other.events);
    batch.executions.extend(other.executions);
    batch.task_runs.extend(other.task_runs);
    batch.timers_set.extend(other.timers_set);
    batch.idempotency.extend(other.idempotency);
    let report = expect(store.commit(&batch).await, "b and c");
    assert_eq!(
        report,
        CommitReport {
            fenced: vec![],
            duplicates: vec![(b, holder.clone())],
        }
    );
    assert!(expect(store.events(b).await, "events").is_empty());
    assert_eq!(expect(store.execution(b).await, "row"), None);
    assert!(expect(store.task_runs(b).await, "runs").is_empty());
    assert!(timers_of(store, b).await.is_empty());
    assert_eq!(
        expect(store.idempotency("wf", "k", Timestamp(20)).await, "key"),
        Some(holder)
    );
    assert_eq!(expect(store.events(c).await, "events").len(), 1);
    assert!(expect(store.execution(c).await, "row").is_some());
    assert_eq!(
        expect(store.idempotency("wf", "k2", Timestamp(20)).await, "key"),
        Some(key_record("wf", "k2", c, 20, 1_000))
    );
}

/// Two starts of one batch with the same key: the first holds it, the second is left
/// out and reported with the first's record. A record never duplicates its own
/// execution's (a start committed again is not refused for its own key).
pub async fn duplicates_within_one_batch(store: &dyn Store) {
    let (d, e) = (ExecutionId::new(), ExecutionId::new());
    let batch = CommitBatch {
        events: vec![event(d, 1, "started"), event(e, 1, "started")],
        executions: vec![
            execution(d, "w", ExecutionStatus::Running, 1),
            execution(e, "w", ExecutionStatus::Running, 1),
        ],
        idempotency: vec![
            key_record("wf", "same", d, 5, 100),
            key_record("wf", "same", e, 5, 100),
        ],
        ..CommitBatch::default()
    };
    let report = expect(store.commit(&batch).await, "commit");
    assert_eq!(
        report.duplicates,
        vec![(e, key_record("wf", "same", d, 5, 100))]
    );
    assert!(report.fenced.is_empty());
    assert_eq!(expect(store.events(d).await, "events").len(), 1);
    assert!(expect(store.events(e).await, "events").is_empty());
    assert_eq!(expect(store.execution(e).await, "row"), None);

    let again = CommitBatch {
        idempotency: vec![key_record("wf", "same", d, 6, 200)],
        ..CommitBatch::default()
    };
    let report = expect(store.commit(&again).await, "again");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        expect(store.idempotency("wf", "same", Timestamp(150)).await, "key"),
        Some(key_record("wf", "same", d, 6, 200))
    );
}

/// A key whose record has expired (at the new record's creation time, `expires_at`
/// included) is taken by the new record.
pub async fn an_expired_key_is_replaced(store: &dyn Store) {
    let (a, b) = (ExecutionId::new(), ExecutionId::new());
    let start = |id, at: i64, until: i64| CommitBatch {
        events: vec![event(id, 1, "started")],
        executions: vec![execution(id, "w", ExecutionStatus::Running, at)],
        idempotency: vec![key_record("wf", "k", id, at, until)],
        ..CommitBatch::default()
    };
    expect(store.commit(&start(a, 10, 60)).await, "a");
    let report = expect(store.commit(&start(b, 60, 500)).await, "b");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(expect(store.events(b).await, "events").len(), 1);
    assert_eq!(
        expect(store.idempotency("wf", "k", Timestamp(60)).await, "key"),
        Some(key_record("wf", "k", b, 60, 500))
    );
}

/// Writes left out are not checked: a fenced execution's events that exist already
/// (a stale writer re-sending them) are no conflict.
pub async fn left_out_writes_do_not_conflict(store: &dyn Store) {
    let (a, b) = (ExecutionId::new(), ExecutionId::new());
    let mut x = execution(a, "w", ExecutionStatus::Running, 1);
    x.fence = 3;
    expect(
        store
            .commit(&CommitBatch {
                events: vec![event(a, 1, "started")],
                executions: vec![x],
                ..CommitBatch::default()
            })
            .await,
        "a",
    );
    let report = expect(
        store
            .commit(&CommitBatch {
                events: vec![event(a, 1, "stale"), event(b, 1, "started")],
                fences: vec![(a, 2)],
                ..CommitBatch::default()
            })
            .await,
        "stale writer",
    );
    assert_eq!(report.fenced, vec![a]);
    assert_eq!(expect(store.events(a).await, "events")[0].kind, "started");
    assert_eq!(expect(store.events(b).await, "events").len(), 1);
}
