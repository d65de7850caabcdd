//! The suite of the execution queries ([`ExecutionQueries`](crate::ExecutionQueries)):
//! ordering, filters, cursors, and what is unfinished.

use super::{execution, expect, run};
use crate::prelude::*;
use crate::records::{CommitBatch, ExecutionQuery};
use crate::{ExecutionId, ExecutionStatus, TaskStatus, Timestamp};

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
        statuses: vec![ExecutionStatus::Failed],
        ..ExecutionQuery::default()
    })
    .await;
    assert_eq!(
        failed_odd.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![ids[5], ids[3]]
    );
    let several = list(ExecutionQuery {
        statuses: vec![ExecutionStatus::Failed, ExecutionStatus::Succeeded],
        ..ExecutionQuery::default()
    })
    .await;
    assert_eq!(several.len(), ids.len(), "several statuses are any of them");
    // A whole id is its own prefix; a prefix shared by none finds none.
    let whole = ids[4].to_string();
    let by_prefix = list(ExecutionQuery {
        id_prefix: Some(whole.clone()),
        ..ExecutionQuery::default()
    })
    .await;
    assert_eq!(
        by_prefix.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![ids[4]]
    );
    let short = list(ExecutionQuery {
        id_prefix: Some(whole[..8].to_string()),
        ..ExecutionQuery::default()
    })
    .await;
    assert!(
        short.iter().any(|x| x.id == ids[4]),
        "a short prefix finds it"
    );
    assert!(
        short
            .iter()
            .all(|x| x.id.to_string().starts_with(&whole[..8]))
    );
    let none = list(ExecutionQuery {
        id_prefix: Some("ffffffff-ffff".into()),
        ..ExecutionQuery::default()
    })
    .await;
    assert!(none.is_empty(), "{none:?}");
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

/// Listing filters by origin kinds, by the trigger that started an execution (a
/// trigger's kind and id, never another kind's `by`), and by text in the inputs' JSON
/// (case-sensitive, literal); with the other filters and the cursor.
pub async fn executions_filter_by_origin_trigger_and_inputs(store: &dyn Store) {
    use crate::{Origin, OriginKind};
    let rows = [
        (
            Some(Origin::by(OriginKind::Schedule, "w.0")),
            serde_json::json!({"name": "alice", "n": 1}),
        ),
        (
            Some(Origin::by(OriginKind::Webhook, "w.1")),
            serde_json::json!({"name": "bob"}),
        ),
        (
            Some(Origin::by(OriginKind::Event, "v.0")),
            serde_json::json!({}),
        ),
        // A token may be named like a trigger: it is no trigger.
        (
            Some(Origin::by(OriginKind::Api, "w.0")),
            serde_json::json!({"n": 2}),
        ),
        (
            Some(Origin::by(
                OriginKind::Retry,
                ExecutionId::new().to_string(),
            )),
            serde_json::json!({"note": "50% off_ *x*"}),
        ),
        (None, serde_json::json!({"name": "Alice"})),
    ];
    let mut batch = CommitBatch::default();
    let mut ids = Vec::new();
    for (i, (origin, inputs)) in rows.into_iter().enumerate() {
        let id = ExecutionId::new();
        ids.push(id);
        let mut x = execution(id, "w", ExecutionStatus::Succeeded, 100 + i as i64);
        x.origin = origin;
        x.inputs = std::sync::Arc::new(inputs);
        batch.executions.push(x);
    }
    expect(store.commit(&batch).await, "commit");
    let list = |q: ExecutionQuery| async move {
        expect(store.executions(&q).await, "list")
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>()
    };
    let kinds = |origins: Vec<OriginKind>| ExecutionQuery {
        origins,
        ..ExecutionQuery::default()
    };
    assert_eq!(
        list(kinds(vec![OriginKind::Schedule, OriginKind::Webhook])).await,
        vec![ids[1], ids[0]]
    );
    assert_eq!(list(kinds(vec![OriginKind::Api])).await, vec![ids[3]]);
    assert_eq!(list(kinds(vec![OriginKind::Cli])).await, vec![]);
    assert_eq!(
        list(kinds(Vec::new())).await.len(),
        ids.len(),
        "any origin, or none"
    );
    let trigger = |t: &str| ExecutionQuery {
        trigger: Some(t.into()),
        ..ExecutionQuery::default()
    };
    assert_eq!(list(trigger("w.0")).await, vec![ids[0]]);
    assert_eq!(list(trigger("v.0")).await, vec![ids[2]]);
    assert_eq!(list(trigger("w")).await, vec![], "an exact id");
    assert_eq!(
        list(ExecutionQuery {
            origins: vec![OriginKind::Webhook],
            ..trigger("w.0")
        })
        .await,
        vec![],
        "both filters apply"
    );
    let input = |text: &str| ExecutionQuery {
        input: Some(text.into()),
        ..ExecutionQuery::default()
    };
    assert_eq!(list(input("alice")).await, vec![ids[0]], "case-sensitive");
    assert_eq!(list(input("Alice")).await, vec![ids[5]]);
    assert_eq!(list(input(r#""name":"bob""#)).await, vec![ids[1]]);
    for literal in ["%", "_", "*x*", "50% off_"] {
        assert_eq!(list(input(literal)).await, vec![ids[4]], "`{literal}`");
    }
    assert_eq!(list(input("zzz")).await, vec![]);
    let named = list(ExecutionQuery {
        limit: 2,
        ..input("name")
    })
    .await;
    assert_eq!(named, vec![ids[5], ids[1]]);
    assert_eq!(
        list(ExecutionQuery {
            after: named.last().copied(),
            ..input("name")
        })
        .await,
        vec![ids[0]]
    );
    assert_eq!(
        list(ExecutionQuery {
            origins: vec![OriginKind::Schedule, OriginKind::Webhook],
            ..input("name")
        })
        .await,
        vec![ids[1], ids[0]]
    );
}
