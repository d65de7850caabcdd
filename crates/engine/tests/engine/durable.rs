//! What makes the engine's memory recoverable: durable timers as rows, parked
//! executions loaded when needed, ownership with a fence, idempotent starts.

use std::sync::Arc;
use std::time::Duration;

use harmonia_engine::kinds::{APPROVAL_SIGNAL, Actor, Signal};
use harmonia_engine::{EngineConfig, Idempotency, StartRequest};
use harmonia_storage::{ExecutionStatus, Store};
use serde_json::json;

use super::{engine_on, sqlite};

const NAP: &str = "name: nap\ntasks:\n  a: {type: sleep, with: {duration: 700ms}}\n  b: {type: set, needs: [a], with: 1}\n";
const ASK: &str = "name: ask\ntasks:\n  go: {type: approval, with: {prompt: ok}}\n";
const BUSY: &str = "name: busy\ntasks:\n  a: {type: probe, with: {sleep_ms: 60000}}\n";

fn approve() -> Signal {
    Signal {
        name: APPROVAL_SIGNAL.into(),
        payload: json!({"decision": "approve", "inputs": {}}),
        by: Some(Actor {
            name: "ada".into(),
            role: None,
        }),
    }
}

async fn parked(store: &Arc<dyn Store>, id: harmonia_storage::ExecutionId) {
    for _ in 0..300 {
        if store
            .execution(id)
            .await
            .expect("reads")
            .is_some_and(|r| r.parked)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{id} never parked");
}

#[tokio::test]
async fn a_restart_loads_what_runs_and_the_parked_ones_when_needed() {
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), EngineConfig::default()).await;
    let nap = first.start(NAP, json!({})).await;
    let ask = first.start(ASK, json!({})).await;
    let busy = first.start(BUSY, json!({})).await;
    parked(&store, nap).await;
    parked(&store, ask).await;
    assert!(
        store
            .timers()
            .await
            .expect("timers")
            .iter()
            .any(|t| t.execution == nap)
    );
    first.handle.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let second = engine_on(store.clone(), EngineConfig::default()).await;
    let stats = second.handle.stats().await.expect("stats");
    assert_eq!(stats.executions, 1, "only `busy` has work to do: {stats:?}");
    assert!(stats.timers >= 1, "the nap's timer is armed from its row");
    // The nap's timer comes due: it is loaded and goes on.
    let r = tokio::time::timeout(Duration::from_secs(10), second.handle.wait(nap))
        .await
        .expect("in time")
        .expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    // The approval is loaded when it is answered.
    second
        .handle
        .signal(ask, "go", None, approve())
        .await
        .expect("answered");
    let r = second.handle.wait(ask).await.expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert!(
        store
            .timers()
            .await
            .expect("timers")
            .iter()
            .all(|t| t.execution != nap),
        "an execution's timers go when it ends"
    );
    second.handle.cancel(busy, None).await.expect("cancels");
}

#[tokio::test]
async fn another_engine_takes_over_and_this_one_lets_go_of_that_execution_only() {
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), EngineConfig::default()).await;
    let ask = first.start(ASK, json!({})).await;
    parked(&store, ask).await;
    // A second engine on the same store claims every unfinished execution.
    let second = engine_on(store.clone(), EngineConfig::default()).await;
    let fence = store
        .execution(ask)
        .await
        .expect("reads")
        .expect("exists")
        .fence;
    assert_eq!(fence, 2);
    // The first still holds it in memory; its write is refused, and it lets go of
    // it. The request is then applied again: it takes the execution back, as the
    // store has it, and the approval is recorded once.
    let delivered = first.handle.signal(ask, "go", None, approve()).await;
    assert!(delivered.is_ok(), "{delivered:?}");
    let row = store.execution(ask).await.expect("reads").expect("exists");
    assert_eq!(row.fence, 3, "taken back by a claim");
    // The first engine goes on with other work.
    let r = first
        .run(
            "name: other\ntasks:\n  a: {type: set, with: 1}\n",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let r = first.handle.wait(ask).await.expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let events = store.events(ask).await.expect("events");
    let approvals = events
        .iter()
        .filter(|e| e.kind == "attempt_succeeded" && e.data.value()["task"] == "go")
        .count();
    assert_eq!(
        approvals, 1,
        "the refused write left nothing; the retry wrote once"
    );
    // The second, which had claimed it, is told it no longer waits.
    let late = second.handle.signal(ask, "go", None, approve()).await;
    assert!(late.is_err(), "{late:?}");
}

#[tokio::test]
async fn fifty_racing_starts_with_one_key_start_one_execution() {
    let (store, _dir) = sqlite().await;
    let env = engine_on(store.clone(), EngineConfig::default()).await;
    let workflow = env.register(ASK).await;
    let key = |hash: &str| Idempotency {
        key: "order-42".into(),
        body_hash: hash.into(),
        ttl: Duration::from_secs(3600),
    };
    let starts = (0..50).map(|_| {
        let handle = env.handle.clone();
        let mut request = StartRequest::new(workflow.clone(), json!({}));
        request.idempotency = Some(key("h1"));
        tokio::spawn(async move { handle.start_with_status(request).await })
    });
    let mut ids = std::collections::HashSet::new();
    let mut new = 0;
    for s in futures::future::join_all(starts).await {
        let s = s.expect("joins").expect("starts");
        ids.insert(s.id);
        if s.existing.is_none() {
            new += 1;
        }
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(new, 1);
    let all = store
        .executions(&harmonia_storage::ExecutionQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("lists");
    assert_eq!(all.len(), 1);
    // The same key for another request answers the holder, whose hash differs.
    let mut other = StartRequest::new(workflow, json!({}));
    other.idempotency = Some(key("h2"));
    let s = env.handle.start_with_status(other).await.expect("answers");
    assert_eq!(s.existing.map(|e| e.body_hash), Some("h1".to_string()));
}
