//! The behaviour every [`Store`] must have, as tests any backend can run.
//!
//! A backend's tests call [`storage_suite!`](crate::storage_suite) with an expression
//! that makes a fresh, empty store; each case below becomes a `#[tokio::test]`.

use serde_json::json;

use crate::records::{
    CommitBatch, EventRecord, ExecutionQuery, ExecutionRecord, NewTemplateVersion,
    NewWorkflowVersion, OnConflict, PutOutcome, TaskRunRecord, TemplateQuery, TemplateRecord,
    TokenRecord,
};
use crate::{
    Error, ExecutionId, ExecutionStatus, Store, TaskStatus, TemplateId, Timestamp, WorkflowId,
};

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
            deep_values_round_trip_and_deeper_ones_write_nothing,
            an_execution_keeps_its_first_inputs,
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
            having_had_tokens_is_forever,
            template_versions,
            template_listing,
            deleted_templates,
            templates_by_id,
            template_import,
            strict_import_writes_nothing,
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
        data: crate::json::RawJson::from(&json!({"kind": kind, "seq": seq})),
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
        inputs: json!({"n": 1}).into(),
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

/// A store remembers that it has had a token, once every token is deleted too (the
/// server's auth must never fall back to open).
pub async fn having_had_tokens_is_forever(store: &dyn Store) {
    assert!(!expect(store.had_tokens().await, "fresh"));
    let token = TokenRecord {
        id: "t1".into(),
        name: "admin".into(),
        role: "admin".into(),
        hash: "h1".into(),
        created_at: Timestamp(5),
    };
    expect(store.put_token(&token).await, "put");
    assert!(expect(store.had_tokens().await, "after put"));
    assert!(expect(store.delete_token("t1").await, "delete"));
    assert!(expect(store.tokens().await, "list").is_empty());
    assert!(expect(store.had_tokens().await, "after delete"));
}

fn template(name: &str, content: &str, note: Option<&str>) -> NewTemplateVersion {
    NewTemplateVersion {
        name: name.into(),
        description: Some(format!("about {name}")),
        tags: vec!["demo".into()],
        category: Some("examples".into()),
        note: note.map(str::to_string),
        content: content.into(),
        source: format!("# as written\n{content}"),
        format: "yaml".into(),
        created_at: Timestamp(1_000),
    }
}

fn numbers(records: &[TemplateRecord]) -> Vec<u32> {
    records.iter().map(|r| r.version).collect()
}

/// Template versions: new content makes a new version (with its note), the same
/// content as the latest does not (whatever the source text), reverting does.
pub async fn template_versions(store: &dyn Store) {
    let v1 = expect(
        store
            .put_template(&template("greeter", "{\"a\":1}", Some("first")))
            .await,
        "v1",
    );
    assert_eq!(v1.outcome, PutOutcome::Created);
    assert_eq!(v1.record.version, 1);
    assert_eq!(v1.record.note.as_deref(), Some("first"));
    assert_eq!(v1.record.tags, ["demo"]);
    let mut same = template("greeter", "{\"a\":1}", Some("again"));
    same.source = "other text, same content".into();
    let again = expect(store.put_template(&same).await, "same");
    assert_eq!(again.outcome, PutOutcome::Unchanged);
    assert_eq!(again.record, v1.record);
    let v2 = expect(
        store
            .put_template(&template("greeter", "{\"a\":2}", Some("second")))
            .await,
        "v2",
    );
    assert_eq!(v2.outcome, PutOutcome::Created);
    assert_eq!((v2.record.id, v2.record.version), (v1.record.id, 2));
    let v3 = expect(
        store
            .put_template(&template("greeter", "{\"a\":1}", Some("revert")))
            .await,
        "revert",
    );
    assert_eq!((v3.outcome, v3.record.version), (PutOutcome::Created, 3));
    assert_eq!(
        expect(store.template("greeter", None).await, "latest"),
        Some(v3.record.clone())
    );
    assert_eq!(
        expect(store.template("greeter", Some(2)).await, "v2"),
        Some(v2.record.clone())
    );
    assert_eq!(expect(store.template("greeter", Some(4)).await, "v4"), None);
    assert_eq!(expect(store.template("nope", None).await, "none"), None);
    let all = expect(store.template_versions("greeter").await, "versions");
    assert_eq!(numbers(&all), [1, 2, 3]);
    assert_eq!(all[0], v1.record);
    assert_eq!(all[0].source, "# as written\n{\"a\":1}");
}

/// Listing gives the latest version of each template by name, filtered by tag,
/// category and a case-insensitive name search (with no wildcards), after a cursor.
pub async fn template_listing(store: &dyn Store) {
    let put = |name: &str, tags: &[&str], category: Option<&str>, content: &str| {
        let mut t = template(name, content, None);
        t.tags = tags.iter().map(|t| t.to_string()).collect();
        t.category = category.map(str::to_string);
        t
    };
    for t in [
        put("etl", &["data", "http"], Some("data"), "1"),
        put("http-fan-out", &["http"], Some("integration"), "1"),
        put("data_pipeline", &["data"], Some("data"), "1"),
        put("report", &[], None, "1"),
        // A new version of `report` changes its tags: the latest counts.
        put("report", &["old"], Some("reporting"), "2"),
        put("report", &["reporting"], Some("reporting"), "3"),
    ] {
        expect(store.put_template(&t).await, "put");
    }
    let names = |records: Vec<TemplateRecord>| -> Vec<String> {
        records.into_iter().map(|r| r.name).collect()
    };
    let list = |q: TemplateQuery| async move { expect(store.templates(&q).await, "list") };
    assert_eq!(
        names(list(TemplateQuery::default()).await),
        ["data_pipeline", "etl", "http-fan-out", "report"]
    );
    let all = list(TemplateQuery::default()).await;
    assert_eq!(all[3].version, 3);
    assert_eq!(all[3].tags, ["reporting"]);
    let tag = |t: &str| TemplateQuery {
        tag: Some(t.into()),
        ..TemplateQuery::default()
    };
    assert_eq!(names(list(tag("http")).await), ["etl", "http-fan-out"]);
    assert_eq!(names(list(tag("data")).await), ["data_pipeline", "etl"]);
    assert!(list(tag("old")).await.is_empty());
    assert!(list(tag("htt")).await.is_empty());
    let category = TemplateQuery {
        category: Some("data".into()),
        ..TemplateQuery::default()
    };
    assert_eq!(names(list(category).await), ["data_pipeline", "etl"]);
    let search = |s: &str| TemplateQuery {
        search: Some(s.into()),
        ..TemplateQuery::default()
    };
    assert_eq!(names(list(search("FAN")).await), ["http-fan-out"]);
    assert_eq!(names(list(search("a_p")).await), ["data_pipeline"]);
    assert!(list(search("%")).await.is_empty());
    assert_eq!(names(list(search("t")).await).len(), 4);
    let page1 = list(TemplateQuery {
        limit: 2,
        ..TemplateQuery::default()
    })
    .await;
    assert_eq!(names(page1.clone()), ["data_pipeline", "etl"]);
    let page2 = list(TemplateQuery {
        limit: 2,
        after: page1.last().map(|r| r.name.clone()),
        ..TemplateQuery::default()
    })
    .await;
    assert_eq!(names(page2), ["http-fan-out", "report"]);
    let both = TemplateQuery {
        tag: Some("data".into()),
        search: Some("etl".into()),
        ..TemplateQuery::default()
    };
    assert_eq!(names(list(both).await), ["etl"]);
}

/// A deleted template is gone from listings and latest lookups, its versions stay
/// readable by number, and putting it again brings it back with a new version.
pub async fn deleted_templates(store: &dyn Store) {
    let v1 = expect(store.put_template(&template("gone", "1", None)).await, "v1").record;
    expect(
        store.put_template(&template("kept", "1", None)).await,
        "other",
    );
    assert!(expect(store.delete_template("gone").await, "delete"));
    assert!(!expect(store.delete_template("gone").await, "again"));
    assert!(!expect(store.delete_template("never").await, "unknown"));
    assert_eq!(expect(store.template("gone", None).await, "latest"), None);
    assert_eq!(
        expect(store.template("gone", Some(1)).await, "pinned"),
        Some(v1.clone())
    );
    assert_eq!(
        expect(store.template_by_id(v1.id, None).await, "by id"),
        None
    );
    assert!(expect(store.template_versions("gone").await, "versions").is_empty());
    let names: Vec<String> = expect(store.templates(&TemplateQuery::default()).await, "list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["kept"]);
    let back = expect(
        store.put_template(&template("gone", "2", None)).await,
        "back",
    );
    assert_eq!((back.record.id, back.record.version), (v1.id, 2));
    assert_eq!(
        expect(store.template("gone", None).await, "latest"),
        Some(back.record)
    );
    // Importing a deleted template brings it back too, even when nothing is new.
    assert!(expect(store.delete_template("gone").await, "delete again"));
    let done = expect(
        store
            .import_templates(&[template("gone", "2", None)], OnConflict::Fail)
            .await,
        "import",
    );
    assert_eq!(done[0].outcome, PutOutcome::Unchanged);
    assert_eq!(
        expect(store.template("gone", None).await, "latest").map(|r| r.version),
        Some(2)
    );
}

/// Templates can be found by id, at any version.
pub async fn templates_by_id(store: &dyn Store) {
    let v1 = expect(store.put_template(&template("t", "1", None)).await, "v1").record;
    let v2 = expect(store.put_template(&template("t", "2", None)).await, "v2").record;
    assert_eq!(
        expect(store.template_by_id(v1.id, None).await, "latest"),
        Some(v2)
    );
    assert_eq!(
        expect(store.template_by_id(v1.id, Some(1)).await, "v1"),
        Some(v1)
    );
    assert_eq!(
        expect(
            store.template_by_id(TemplateId::new(), None).await,
            "unknown"
        ),
        None
    );
}

/// An import into an empty store recreates numbers, notes and times; the same import
/// again changes nothing; new content becomes new versions.
pub async fn template_import(store: &dyn Store) {
    let history = |name: &str, contents: &[&str]| -> Vec<NewTemplateVersion> {
        contents
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut t = template(name, c, Some(&format!("note {}", i + 1)));
                t.created_at = Timestamp(10_000 + i as i64);
                t
            })
            .collect()
    };
    let mut doc = history("a", &["1", "2", "1"]);
    doc.extend(history("b", &["x"]));
    let first = expect(
        store.import_templates(&doc, OnConflict::Fail).await,
        "import",
    );
    let outcomes: Vec<(String, u32, PutOutcome)> = first
        .iter()
        .map(|p| (p.record.name.clone(), p.record.version, p.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("a".to_string(), 1, PutOutcome::Created),
            ("a".into(), 2, PutOutcome::Created),
            ("a".into(), 3, PutOutcome::Created),
            ("b".into(), 1, PutOutcome::Created),
        ]
    );
    let a = expect(store.template_versions("a").await, "versions");
    assert_eq!(numbers(&a), [1, 2, 3]);
    assert_eq!(a[2].note.as_deref(), Some("note 3"));
    assert_eq!(a[2].created_at, Timestamp(10_002));
    assert_eq!(a[1].content, "2");
    assert_eq!(
        expect(store.template("b", None).await, "b"),
        Some(first[3].record.clone())
    );

    let again = expect(
        store.import_templates(&doc, OnConflict::Fail).await,
        "again",
    );
    assert!(again.iter().all(|p| p.outcome == PutOutcome::Unchanged));
    assert_eq!(
        again.iter().map(|p| p.record.clone()).collect::<Vec<_>>(),
        first.iter().map(|p| p.record.clone()).collect::<Vec<_>>()
    );

    let mut more = history("a", &["1", "2", "1", "4"]);
    more.extend(history("c", &["new"]));
    let grown = expect(
        store.import_templates(&more, OnConflict::NewVersion).await,
        "grown",
    );
    let got: Vec<(u32, PutOutcome)> = grown
        .iter()
        .map(|p| (p.record.version, p.outcome))
        .collect();
    assert_eq!(
        got,
        [
            (1, PutOutcome::Unchanged),
            (2, PutOutcome::Unchanged),
            (3, PutOutcome::Unchanged),
            (4, PutOutcome::Created),
            (1, PutOutcome::Created),
        ]
    );
    assert_eq!(
        expect(store.template("a", None).await, "latest").map(|r| r.note),
        Some(Some("note 4".to_string()))
    );
}

/// A strict import that meets new content for a stored template fails as a conflict
/// and writes nothing, not even the templates that were fine.
pub async fn strict_import_writes_nothing(store: &dyn Store) {
    expect(store.put_template(&template("a", "1", None)).await, "a");
    let doc = [
        template("fresh", "f", None),
        template("a", "1", None),
        template("a", "2", None),
    ];
    match store.import_templates(&doc, OnConflict::Fail).await {
        Err(Error::Conflict(m)) => assert!(m.contains("template `a`"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(expect(store.template("fresh", None).await, "fresh"), None);
    assert_eq!(
        numbers(&expect(store.template_versions("a").await, "a")),
        [1]
    );
    let done = expect(
        store.import_templates(&doc, OnConflict::NewVersion).await,
        "lenient",
    );
    assert_eq!(
        done.iter().map(|p| p.outcome).collect::<Vec<_>>(),
        [
            PutOutcome::Created,
            PutOutcome::Unchanged,
            PutOutcome::Created
        ]
    );
}
