//! The behaviour every [`Store`] must have, as tests any backend can run.
//!
//! A backend's tests call [`storage_suite!`](crate::storage_suite) with an expression
//! that makes a fresh, empty store; each case below becomes a `#[tokio::test]`.

use serde_json::json;

use crate::records::{
    CommitBatch, EventRecord, ExecutionQuery, ExecutionRecord, NewWorkflowVersion, TaskRunRecord,
    TokenRecord,
};
use crate::{Error, ExecutionId, ExecutionStatus, Store, TaskStatus, Timestamp, WorkflowId};

/// What the suite runs against: a [`Store`], or a value that owns one (such as a store
/// together with the temporary directory of its files).
pub trait SuiteStore {
    /// The store under test.
    fn store(&self) -> &dyn Store;
}

impl<T: Store> SuiteStore for T {
    fn store(&self) -> &dyn Store {
        self
    }
}

/// Generates one `#[tokio::test]` per suite case, each on a store made by `$make` (an
/// expression of a future that yields a [`SuiteStore`]).
#[macro_export]
macro_rules! storage_suite {
    ($make:expr) => {
        $crate::storage_suite!(@cases $make;
            commit_and_read_back,
            a_conflicting_batch_writes_nothing,
            events_come_back_in_order,
            rows_are_replaced_by_key,
            task_runs_are_ordered,
            unfinished_lists_what_has_not_ended,
            executions_filter_and_paginate,
            workflow_versions,
            large_batches,
            concurrent_commits,
            deleted_workflows,
            workflows_by_id,
            tokens,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make.await;
                $crate::suite::$case($crate::suite::SuiteStore::store(&store)).await;
            }
        )+
    };
}

fn event(execution: ExecutionId, seq: u64, kind: &str) -> EventRecord {
    EventRecord {
        execution,
        seq,
        at: Timestamp(1_000 + seq as i64),
        kind: kind.into(),
        data: json!({"kind": kind, "seq": seq}),
    }
}

fn execution(
    id: ExecutionId,
    workflow: &str,
    status: ExecutionStatus,
    created: i64,
) -> ExecutionRecord {
    ExecutionRecord {
        id,
        workflow_id: WorkflowId(uuid::Uuid::nil()),
        workflow: workflow.into(),
        version: 1,
        status,
        inputs: json!({"n": 1}),
        outputs: None,
        error: None,
        parent: None,
        retry_of: None,
        created_at: Timestamp(created),
        started_at: Some(Timestamp(created)),
        ended_at: None,
        updated_at: Timestamp(created),
    }
}

fn run(execution: ExecutionId, task: &str, item: Option<u32>, status: TaskStatus) -> TaskRunRecord {
    TaskRunRecord {
        execution,
        task: task.into(),
        item,
        status,
        attempts: 1,
        output: Some(json!({"ok": true})),
        error: None,
        skip_reason: None,
        started_at: Some(Timestamp(5)),
        ended_at: None,
    }
}

fn expect<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e:?}"),
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
    let batch = CommitBatch {
        events: vec![event(id, 1, "started"), event(id, 2, "attempt_started")],
        executions: vec![x.clone()],
        task_runs: vec![run(id, "a", None, TaskStatus::Running)],
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

/// Task rows come ordered by task name, then the task row before its items, by index.
pub async fn task_runs_are_ordered(store: &dyn Store) {
    let id = ExecutionId::new();
    let rows = vec![
        run(id, "b", Some(10), TaskStatus::Succeeded),
        run(id, "b", Some(2), TaskStatus::Succeeded),
        run(id, "b", None, TaskStatus::Running),
        run(id, "a", None, TaskStatus::Succeeded),
    ];
    expect(
        store
            .commit(&CommitBatch {
                task_runs: rows,
                ..CommitBatch::default()
            })
            .await,
        "commit",
    );
    let got: Vec<(String, Option<u32>)> = expect(store.task_runs(id).await, "runs")
        .into_iter()
        .map(|r| (r.task, r.item))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), None),
            ("b".into(), None),
            ("b".into(), Some(2)),
            ("b".into(), Some(10))
        ]
    );
}

/// `unfinished` lists pending, running and paused executions only.
pub async fn unfinished_lists_what_has_not_ended(store: &dyn Store) {
    let mut batch = CommitBatch::default();
    let mut open = Vec::new();
    for (i, status) in ExecutionStatus::ALL.iter().enumerate() {
        let id = ExecutionId::new();
        if !status.is_terminal() {
            open.push(id);
        }
        batch.executions.push(execution(id, "w", *status, i as i64));
    }
    expect(store.commit(&batch).await, "commit");
    let mut got: Vec<ExecutionId> = expect(store.unfinished().await, "unfinished")
        .iter()
        .map(|x| x.id)
        .collect();
    got.sort();
    open.sort();
    assert_eq!(got, open);
}

/// Listing filters by workflow, status and time, newest first, with a cursor.
pub async fn executions_filter_and_paginate(store: &dyn Store) {
    let mut batch = CommitBatch::default();
    let mut ids = Vec::new();
    for i in 0..7 {
        let id = ExecutionId::new();
        ids.push(id);
        let workflow = if i % 2 == 0 { "even" } else { "odd" };
        let status = if i < 3 {
            ExecutionStatus::Succeeded
        } else {
            ExecutionStatus::Failed
        };
        batch
            .executions
            .push(execution(id, workflow, status, 100 + i));
    }
    expect(store.commit(&batch).await, "commit");
    let list = |q: ExecutionQuery| async move { expect(store.executions(&q).await, "list") };
    let all = list(ExecutionQuery::default()).await;
    assert_eq!(
        all.iter().map(|x| x.id).collect::<Vec<_>>(),
        ids.iter().rev().copied().collect::<Vec<_>>()
    );
    let even = list(ExecutionQuery {
        workflow: Some("even".into()),
        ..ExecutionQuery::default()
    })
    .await;
    assert_eq!(even.len(), 4);
    let failed_odd = list(ExecutionQuery {
        workflow: Some("odd".into()),
        status: Some(ExecutionStatus::Failed),
        ..ExecutionQuery::default()
    })
    .await;
    assert_eq!(
        failed_odd.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![ids[5], ids[3]]
    );
    let window = list(ExecutionQuery {
        since: Some(Timestamp(102)),
        until: Some(Timestamp(105)),
        ..ExecutionQuery::default()
    })
    .await;
    assert_eq!(
        window.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3], ids[2]]
    );
    let page1 = list(ExecutionQuery {
        limit: 3,
        ..ExecutionQuery::default()
    })
    .await;
    assert_eq!(page1.len(), 3);
    let page2 = list(ExecutionQuery {
        limit: 3,
        after: page1.last().map(|x| x.id),
        ..ExecutionQuery::default()
    })
    .await;
    assert_eq!(
        page2.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![ids[3], ids[2], ids[1]]
    );
}

/// Versions of a workflow: new content makes a new version, identical content does not.
pub async fn workflow_versions(store: &dyn Store) {
    let new = |source: &str| NewWorkflowVersion {
        name: "etl".into(),
        description: Some("d".into()),
        source: source.into(),
        format: "yaml".into(),
        created_at: Timestamp(7),
    };
    let v1 = expect(store.put_workflow(&new("a: 1")).await, "v1");
    assert_eq!(v1.version, 1);
    let same = expect(store.put_workflow(&new("a: 1")).await, "same");
    assert_eq!(same, v1);
    let v2 = expect(store.put_workflow(&new("a: 2")).await, "v2");
    assert_eq!((v2.version, v2.id), (2, v1.id));
    assert_eq!(
        expect(store.workflow("etl", None).await, "latest"),
        Some(v2.clone())
    );
    assert_eq!(
        expect(store.workflow("etl", Some(1)).await, "v1"),
        Some(v1.clone())
    );
    assert_eq!(expect(store.workflow("etl", Some(3)).await, "v3"), None);
    assert_eq!(expect(store.workflow("nope", None).await, "none"), None);
    let other = NewWorkflowVersion {
        name: "other".into(),
        ..new("b: 1")
    };
    let o1 = expect(store.put_workflow(&other).await, "other");
    assert_ne!(o1.id, v1.id);
    let latest: Vec<(String, u32)> = expect(store.workflows().await, "workflows")
        .into_iter()
        .map(|w| (w.name, w.version))
        .collect();
    assert_eq!(latest, vec![("etl".into(), 2), ("other".into(), 1)]);
    let versions: Vec<u32> = expect(store.workflow_versions("etl").await, "versions")
        .iter()
        .map(|w| w.version)
        .collect();
    assert_eq!(versions, [1, 2]);
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

fn version(name: &str, source: &str) -> NewWorkflowVersion {
    NewWorkflowVersion {
        name: name.into(),
        description: None,
        source: source.into(),
        format: "yaml".into(),
        created_at: Timestamp(1),
    }
}

/// A deleted workflow is gone from listings and latest lookups, its versions stay
/// readable by number, and storing it again brings it back with a new version.
pub async fn deleted_workflows(store: &dyn Store) {
    let v1 = expect(store.put_workflow(&version("gone", "a: 1")).await, "v1");
    expect(store.put_workflow(&version("kept", "b: 1")).await, "other");
    assert!(expect(store.delete_workflow("gone").await, "delete"));
    assert!(!expect(store.delete_workflow("gone").await, "again"));
    assert!(!expect(store.delete_workflow("never").await, "unknown"));
    assert_eq!(expect(store.workflow("gone", None).await, "latest"), None);
    assert_eq!(
        expect(store.workflow("gone", Some(1)).await, "pinned"),
        Some(v1.clone())
    );
    assert_eq!(
        expect(store.workflow_by_id(v1.id, None).await, "by id"),
        None
    );
    assert!(expect(store.workflow_versions("gone").await, "versions").is_empty());
    let names: Vec<String> = expect(store.workflows().await, "list")
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, vec!["kept".to_string()]);
    let back = expect(store.put_workflow(&version("gone", "a: 2")).await, "back");
    assert_eq!((back.id, back.version), (v1.id, 2));
    assert_eq!(
        expect(store.workflow("gone", None).await, "latest"),
        Some(back)
    );
}

/// Workflows can be found by id, at any version.
pub async fn workflows_by_id(store: &dyn Store) {
    let v1 = expect(store.put_workflow(&version("w", "a: 1")).await, "v1");
    let v2 = expect(store.put_workflow(&version("w", "a: 2")).await, "v2");
    assert_eq!(
        expect(store.workflow_by_id(v1.id, None).await, "latest"),
        Some(v2)
    );
    assert_eq!(
        expect(store.workflow_by_id(v1.id, Some(1)).await, "v1"),
        Some(v1)
    );
    assert_eq!(
        expect(
            store.workflow_by_id(WorkflowId::new(), None).await,
            "unknown"
        ),
        None
    );
}

/// Tokens are stored by hash, listed, found and deleted.
pub async fn tokens(store: &dyn Store) {
    let token = |id: &str, hash: &str| TokenRecord {
        id: id.into(),
        name: format!("name-{id}"),
        role: "viewer".into(),
        hash: hash.into(),
        created_at: Timestamp(5),
    };
    expect(store.put_token(&token("t1", "h1")).await, "put");
    expect(store.put_token(&token("t2", "h2")).await, "put");
    assert!(matches!(
        store.put_token(&token("t3", "h1")).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        expect(store.token_by_hash("h2").await, "find"),
        Some(token("t2", "h2"))
    );
    assert_eq!(expect(store.token_by_hash("nope").await, "find"), None);
    assert_eq!(expect(store.tokens().await, "list").len(), 2);
    assert!(expect(store.delete_token("t1").await, "delete"));
    assert!(!expect(store.delete_token("t1").await, "again"));
    assert_eq!(expect(store.token_by_hash("h1").await, "gone"), None);
}
