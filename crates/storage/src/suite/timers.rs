//! The suite of the timers role ([`Timers`]): timers as commits set,
//! clear and replace them, gone with their execution; waits found by signal and key.

use super::{execution, expect, run, waiting_run};
use crate::prelude::*;
use crate::records::{CommitBatch, TimerRecord};
use crate::{ExecutionId, ExecutionStatus, TaskStatus, Timestamp};

fn timer(execution: ExecutionId, key: &str, due: i64) -> TimerRecord {
    TimerRecord {
        execution,
        key: key.into(),
        due: Timestamp(due),
    }
}

async fn commit(store: &dyn Store, batch: CommitBatch) {
    let report = expect(store.commit(&batch).await, "commit");
    assert!(report.is_clean(), "{report:?}");
}

/// Timers are listed by due time; a set replaces by (execution, key), the last of a
/// batch winning; a clear removes (absent keys are fine); a key both cleared and set in
/// one batch stays set.
pub async fn timers_are_set_cleared_and_replaced(store: &dyn Store) {
    let (a, b) = (ExecutionId::new(), ExecutionId::new());
    assert!(expect(store.timers().await, "none").is_empty());
    commit(
        store,
        CommitBatch {
            executions: vec![
                execution(a, "w", ExecutionStatus::Running, 1),
                execution(b, "w", ExecutionStatus::Running, 2),
            ],
            timers_set: vec![
                timer(a, "retry:x", 30),
                timer(a, "timeout:y", 10),
                timer(b, "sleep", 20),
            ],
            ..CommitBatch::default()
        },
    )
    .await;
    assert_eq!(
        expect(store.timers().await, "timers"),
        vec![
            timer(a, "timeout:y", 10),
            timer(b, "sleep", 20),
            timer(a, "retry:x", 30)
        ]
    );
    commit(
        store,
        CommitBatch {
            timers_set: vec![timer(a, "retry:x", 50), timer(a, "retry:x", 5)],
            timers_cleared: vec![(b, "sleep".into()), (b, "absent".into()), (a, "no".into())],
            ..CommitBatch::default()
        },
    )
    .await;
    assert_eq!(
        expect(store.timers().await, "timers"),
        vec![timer(a, "retry:x", 5), timer(a, "timeout:y", 10)]
    );
    commit(
        store,
        CommitBatch {
            timers_set: vec![timer(a, "timeout:y", 40)],
            timers_cleared: vec![(a, "timeout:y".into()), (a, "retry:x".into())],
            ..CommitBatch::default()
        },
    )
    .await;
    assert_eq!(
        expect(store.timers().await, "timers"),
        vec![timer(a, "timeout:y", 40)]
    );
}

/// A commit that leaves an execution's row ended (succeeded, failed or cancelled)
/// deletes all of its timers, those it sets included; other executions keep theirs.
pub async fn an_ended_execution_has_no_timers(store: &dyn Store) {
    let ids: Vec<ExecutionId> = (0..4).map(|_| ExecutionId::new()).collect();
    commit(
        store,
        CommitBatch {
            executions: ids
                .iter()
                .map(|id| execution(*id, "w", ExecutionStatus::Running, 1))
                .collect(),
            timers_set: ids
                .iter()
                .flat_map(|id| [timer(*id, "t1", 10), timer(*id, "t2", 20)])
                .collect(),
            ..CommitBatch::default()
        },
    )
    .await;
    let ended = [
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::Cancelled,
    ];
    let mut batch = CommitBatch::default();
    for (id, status) in ids.iter().zip(ended) {
        batch.executions.push(execution(*id, "w", status, 1));
        batch.timers_set.push(timer(*id, "t3", 30));
    }
    // The last row of an execution is the one that counts.
    batch
        .executions
        .push(execution(ids[3], "w", ExecutionStatus::Failed, 1));
    batch
        .executions
        .push(execution(ids[3], "w", ExecutionStatus::Paused, 1));
    commit(store, batch).await;
    assert_eq!(
        expect(store.timers().await, "timers"),
        vec![timer(ids[3], "t1", 10), timer(ids[3], "t2", 20)]
    );
}

/// `waiting` finds the running task runs with that signal (and key), of executions
/// that exist and have not ended, ordered by execution, task and item.
pub async fn waiting_filters_by_signal_key_status_and_execution(store: &dyn Store) {
    let ids: Vec<ExecutionId> = (0..4).map(|_| ExecutionId::new()).collect();
    let (a, ended, no_row, paused) = (ids[0], ids[1], ids[2], ids[3]);
    let mut done = waiting_run(a, "t4", "event", Some("order.paid"));
    done.status = TaskStatus::Succeeded;
    let mut item = waiting_run(a, "t6", "event", Some("order.paid"));
    item.item = Some(0);
    let batch = CommitBatch {
        executions: vec![
            execution(a, "w", ExecutionStatus::Running, 1),
            execution(ended, "w", ExecutionStatus::Succeeded, 2),
            execution(paused, "w", ExecutionStatus::Paused, 4),
        ],
        task_runs: vec![
            waiting_run(a, "t1", "approval", None),
            waiting_run(a, "t2", "event", Some("order.paid")),
            waiting_run(a, "t3", "event", Some("order.shipped")),
            done,
            run(a, "t5", None, TaskStatus::Running),
            item.clone(),
            waiting_run(ended, "t", "event", Some("order.paid")),
            waiting_run(no_row, "t", "event", Some("order.paid")),
            waiting_run(paused, "t", "event", Some("order.paid")),
        ],
        ..CommitBatch::default()
    };
    commit(store, batch).await;
    let found = |wait_for: &'static str, key: Option<&'static str>| async move {
        expect(store.waiting(wait_for, key).await, "waiting")
            .into_iter()
            .map(|t| (t.execution, t.task, t.item))
            .collect::<Vec<_>>()
    };
    let it = |id: ExecutionId, task: &str, item: Option<u32>| (id, task.to_owned(), item);
    assert_eq!(
        found("event", Some("order.paid")).await,
        vec![
            it(a, "t2", None),
            it(a, "t6", Some(0)),
            it(paused, "t", None)
        ]
    );
    assert_eq!(
        found("event", None).await,
        vec![
            it(a, "t2", None),
            it(a, "t3", None),
            it(a, "t6", Some(0)),
            it(paused, "t", None)
        ]
    );
    assert_eq!(found("approval", None).await, vec![it(a, "t1", None)]);
    assert!(found("approval", Some("x")).await.is_empty());
    assert!(found("nothing", None).await.is_empty());
    // The whole row reads back, wait included.
    let rows = expect(store.waiting("event", Some("order.paid")).await, "rows");
    assert_eq!(rows[1], item);
}
