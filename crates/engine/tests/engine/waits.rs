//! Waiting tasks through the engine's handle: approvals and events, their refusals,
//! timeouts and restarts.

use std::time::Duration;

use harmonia_engine::kinds::{APPROVAL_SIGNAL, Actor, Signal};
use harmonia_engine::{EngineConfig, Error};
use harmonia_storage::{ExecutionId, ExecutionStatus, TaskStatus};
use serde_json::{Value, json};

use super::{Env, engine, engine_on, sqlite};

const APPROVAL: &str = r#"
name: deploy
tasks:
  go:
    type: approval
    with:
      prompt: Deploy ${ $inputs.version }?
      approvers: {role: admin}
      form: {type: object, required: [reason], properties: {reason: {type: string, minLength: 3}}}
  ship: {type: set, needs: [go], with: '${ $tasks.go.output.inputs.reason }'}
outputs: {shipped: '${ $tasks.ship.output }', by: '${ $tasks.go.output.by }'}
"#;

fn approve(inputs: Value, role: &str) -> Signal {
    Signal {
        name: APPROVAL_SIGNAL.into(),
        payload: json!({"decision": "approve", "inputs": inputs}),
        by: Some(Actor {
            name: "ada".into(),
            role: Some(role.into()),
        }),
    }
}

/// Waits until task `task` of `id` is waiting (its row says running with a wait).
async fn until_waiting(env: &Env, id: ExecutionId, task: &str) {
    for _ in 0..500 {
        let events = env.store.events(id).await.expect("events");
        if events
            .iter()
            .any(|e| e.kind == "attempt_waiting" && e.data.value()["task"] == task)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{task} never waited");
}

#[tokio::test]
async fn an_approval_with_a_valid_form_goes_on_and_bad_answers_change_nothing() {
    let env = engine().await;
    let id = env.start(APPROVAL, json!({"version": "1.2"})).await;
    until_waiting(&env, id, "go").await;
    let before = env.store.events(id).await.expect("events").len();

    // Every violation of the form, and nothing recorded.
    let bad = env
        .handle
        .signal(
            id,
            "go",
            None,
            approve(json!({"reason": "x", "extra": 1}), "admin"),
        )
        .await;
    let Err(Error::Refused(r)) = bad else {
        panic!("{bad:?}")
    };
    assert_eq!(r.details.as_array().map(Vec::len), Some(1), "{r:?}");
    // The wrong person.
    let low = env
        .handle
        .signal(
            id,
            "go",
            None,
            approve(json!({"reason": "fine"}), "operator"),
        )
        .await;
    assert!(
        matches!(low, Err(Error::Refused(ref r)) if r.forbidden),
        "{low:?}"
    );
    // A task that does not wait.
    let not = env
        .handle
        .signal(id, "ship", None, approve(json!({}), "admin"))
        .await;
    assert!(matches!(not, Err(Error::NotWaiting { .. })), "{not:?}");
    assert_eq!(env.store.events(id).await.expect("events").len(), before);

    let d = env
        .handle
        .signal(
            id,
            "go",
            None,
            approve(json!({"reason": "looks good"}), "admin"),
        )
        .await
        .expect("approved");
    let out = d.result.expect("a result").expect("succeeded");
    assert_eq!(out["decision"], "approved");
    let r = env.handle.wait(id).await.expect("ends");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.outputs,
        Some(json!({"shipped": "looks good", "by": "ada"}))
    );
    // Answering again: it no longer waits.
    let again = env
        .handle
        .signal(id, "go", None, approve(json!({"reason": "again"}), "admin"))
        .await;
    assert!(matches!(again, Err(Error::NotWaiting { .. })), "{again:?}");
}

#[tokio::test]
async fn an_approval_timeout_decides_as_told() {
    let env = engine().await;
    let yaml = |on: &str| {
        format!(
            "name: t-{on}\ntasks:\n  go: {{type: approval, with: {{prompt: ok, timeout: 200ms, on_timeout: {on}, on_reject: continue}}}}\noutputs: {{d: '${{ $tasks.go.output.decision }}'}}\n"
        )
    };
    let r = env.run(&yaml("approve"), json!({})).await;
    assert_eq!(r.outputs, Some(json!({"d": "approved"})));
    let r = env.run(&yaml("reject"), json!({})).await;
    assert_eq!(r.outputs, Some(json!({"d": "rejected"})));
    let r = env.run(&yaml("fail"), json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let go = env.task(&r, "go", None).await;
    assert_eq!(go.status, TaskStatus::Failed);
    assert_eq!(
        go.error.as_ref().map(|e| e["class"].clone()),
        Some(json!("wait_timeout"))
    );
}

const SETTLE: &str = r#"
name: settle
tasks:
  paid:
    type: wait_event
    with: {type: payment.settled, filter: '${ $event.data.order == $inputs.order }'}
outputs: {amount: '${ $tasks.paid.output.data.amount }'}
"#;

fn event(id: &str, order: u64) -> Value {
    json!({"specversion": "1.0", "id": id, "source": "shop", "type": "payment.settled",
           "data": {"order": order, "amount": order * 10}})
}

#[tokio::test]
async fn an_event_reaches_only_the_waits_it_matches() {
    let env = engine().await;
    let one = env.start(SETTLE, json!({"order": 1})).await;
    let two = env.start(SETTLE, json!({"order": 2})).await;
    until_waiting(&env, one, "paid").await;
    until_waiting(&env, two, "paid").await;
    let none = env
        .handle
        .deliver_event(event("e0", 3))
        .await
        .expect("delivered");
    assert!(none.is_empty());
    let other =
        json!({"id": "e1", "source": "shop", "type": "payment.failed", "data": {"order": 1}});
    assert!(
        env.handle
            .deliver_event(other)
            .await
            .expect("delivered")
            .is_empty()
    );
    let hit = env
        .handle
        .deliver_event(event("e2", 2))
        .await
        .expect("delivered");
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].execution, two);
    let r = env.handle.wait(two).await.expect("ends");
    assert_eq!(r.outputs, Some(json!({"amount": 20})));
    // Delivered again (the caller did not deduplicate): the wait has ended.
    assert!(
        env.handle
            .deliver_event(event("e2", 2))
            .await
            .expect("ok")
            .is_empty()
    );
    let still = env
        .store
        .execution(one)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(still.status, ExecutionStatus::Running);
}

#[tokio::test]
async fn waits_survive_a_restart_of_the_engine() {
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), EngineConfig::default()).await;
    let approval = first.start(APPROVAL, json!({"version": "2"})).await;
    let settle = first.start(SETTLE, json!({"order": 5})).await;
    until_waiting(&first, approval, "go").await;
    until_waiting(&first, settle, "paid").await;
    first.handle.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let second = engine_on(store.clone(), EngineConfig::default()).await;
    let mut hit = Vec::new();
    for _ in 0..200 {
        hit = second
            .handle
            .deliver_event(event("e5", 5))
            .await
            .expect("delivered");
        if !hit.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(hit.len(), 1, "the recovered wait takes the event");
    second
        .handle
        .signal(
            approval,
            "go",
            None,
            approve(json!({"reason": "after restart"}), "admin"),
        )
        .await
        .expect("the recovered approval takes the answer");
    for id in [approval, settle] {
        let r = second.handle.wait(id).await.expect("ends");
        assert_eq!(r.status, ExecutionStatus::Succeeded, "{id}");
    }
    let events = store.events(approval).await.expect("events");
    let starts = events
        .iter()
        .filter(|e| e.kind == "attempt_started")
        .count();
    assert_eq!(
        starts, 2,
        "go once, ship once: the wait did not start again"
    );
}

/// A parked execution loaded because its sleep's timer is due arms its timers again
/// when it resumes: the sleep still ends once, and its log says so once.
#[tokio::test]
async fn a_sleep_that_wakes_a_parked_execution_ends_once() {
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), EngineConfig::default()).await;
    let id = first
        .start(
            "name: naps\ntasks:\n  short: {type: sleep, with: {duration: 200ms}}\n  long: {type: sleep, with: {duration: 1500ms}}\n",
            json!({}),
        )
        .await;
    for _ in 0..200 {
        let events = store.events(id).await.expect("events");
        if events
            .iter()
            .filter(|e| e.kind == "attempt_waiting")
            .count()
            == 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.handle.shutdown();
    // Both sleeping: parked. The short one is due by the time the next engine starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = engine_on(store.clone(), EngineConfig::default()).await;
    let r = second.handle.wait(id).await.expect("ends");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let events = store.events(id).await.expect("events");
    for task in ["short", "long"] {
        let ended = events
            .iter()
            .filter(|e| e.kind == "attempt_succeeded" && e.data.value()["task"] == task)
            .count();
        assert_eq!(
            ended,
            1,
            "{task}: {:#?}",
            events.iter().map(|e| &e.kind).collect::<Vec<_>>()
        );
    }
}
