//! One execution's trouble stays its own: a value too deep to keep, an executor that
//! panics, a log that cannot be read back. Each failed (or took the process down, or
//! stayed `running` forever) before.

use std::time::Duration;

use harmonia_engine::EngineConfig;
use harmonia_storage::{CommitBatch, EventRecord, ExecutionStatus, Timestamp};
use serde_json::json;

use super::{engine, engine_on, sqlite};

#[tokio::test]
async fn a_value_too_deep_fails_its_task_and_the_engine_goes_on() {
    let env = engine().await;
    // Regression: building this aborted the whole process (stack overflow).
    let r = env
        .run(
            "name: deep
tasks:
  a: {type: set, with: {x: '${ reduce range(100000) as $i (0; [.]) | length }'}}
",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let error = r.error.expect("an error").to_string();
    assert!(error.contains("nested more than 100 levels"), "{error}");
    // Regression: a 200-deep output was committed, then could not be read back.
    let r = env
        .run(
            "name: deep-output
tasks:
  a: {type: transform, with: {expr: 'reduce range(99) as $i (0; [.])'}}
  b: {type: set, needs: [a], with: {x: '${ [[$tasks.a.output]] }'}}
",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let b = env.task(&r, "b", None).await;
    assert!(
        b.error
            .as_ref()
            .is_some_and(|e| e.to_string().contains("nested more than 100")),
        "{b:?}"
    );
    // Everything recorded reads back.
    env.store.events(r.id).await.expect("the log reads back");
    env.store.task_runs(r.id).await.expect("the rows read back");
    // And the engine is still there.
    let r = env
        .run("name: fine\ntasks:\n  a: {type: set, with: 1}\n", json!({}))
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded);
}

#[tokio::test]
async fn an_executor_that_panics_fails_its_attempt() {
    let env = engine().await;
    let r = env
        .run(
            "name: panicky\ntasks:\n  a: {type: probe, with: {panic: true}}\n",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let error = r.error.expect("an error").to_string();
    assert!(error.contains("internal error"), "{error}");
}

#[tokio::test]
async fn an_execution_whose_log_cannot_be_read_is_failed_at_recovery() {
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), EngineConfig::default()).await;
    let broken = first
        .start(
            "name: nap\ntasks:\n  a: {type: sleep, with: {duration: 1h}}\n",
            json!({}),
        )
        .await;
    let fine = first
        .start(
            "name: short\ntasks:\n  a: {type: sleep, with: {duration: 300ms}}\n",
            json!({}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    first.handle.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // An event no version of the engine wrote.
    let last = store.events(broken).await.expect("events").len() as u64;
    store
        .commit(&CommitBatch {
            events: vec![EventRecord {
                execution: broken,
                seq: last + 1,
                at: Timestamp::now(),
                kind: "attempt_succeeded".into(),
                data: harmonia_storage::json::RawJson::from(&json!({"type": "no_such_event"})),
            }],
            ..CommitBatch::default()
        })
        .await
        .expect("commits");
    let second = engine_on(store.clone(), EngineConfig::default()).await;
    // It was parked (a sleep of an hour): it is loaded when someone needs it.
    let _ = tokio::time::timeout(Duration::from_secs(5), second.handle.wait(broken)).await;
    let r = store
        .execution(broken)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(r.status, ExecutionStatus::Failed);
    let error = r.error.expect("an error").to_string();
    assert!(error.contains("while recovering it"), "{error}");
    // The other one was recovered and finishes.
    let r = tokio::time::timeout(Duration::from_secs(30), second.handle.wait(fine))
        .await
        .expect("in time")
        .expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    // And a waiter on the failed one is answered, not left waiting.
    let r = tokio::time::timeout(Duration::from_secs(5), second.handle.wait(broken))
        .await
        .expect("in time")
        .expect("waits");
    assert_eq!(r.status, ExecutionStatus::Failed);
}
