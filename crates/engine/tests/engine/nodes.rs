//! Several engines (nodes) on one store, each with a lease: a node that stops hands its
//! executions to the others at once; a control sent to another node's execution moves
//! it, and the former owner's writes for it are fenced; a second live process with a
//! node's id is refused. (Killed and stalled nodes, with real processes on
//! PostgreSQL, are the CLI's `nodes` tests.)

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use harmonia_engine::EngineConfig;
use harmonia_storage::ExecutionStatus;
use serde_json::json;

use super::{Probe, engine_on, engine_with, eventually, sqlite};

fn node(id: &str, lease_ms: u64) -> EngineConfig {
    EngineConfig {
        node: id.into(),
        lease: Some(Duration::from_millis(lease_ms)),
        ..EngineConfig::default()
    }
}

const SLOW: &str = "name: slow
tasks:
  a: {type: set, with: 1}
  b: {type: probe, needs: [a], with: {key: b, sleep_ms: 60000}}
  c: {type: set, needs: [b], with: '${ $tasks.a.output + 1 }'}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_stops_hands_its_executions_over_at_once() {
    let (store, _dir) = sqlite().await;
    // A lease far longer than the test: only the hand-over can explain a quick takeover.
    let a = engine_on(store.clone(), node("a", 60_000)).await;
    let probe = Arc::new(Probe::default());
    probe.no_sleep.store(true, Ordering::SeqCst);
    let b = engine_with(store.clone(), node("b", 60_000), probe).await;
    let id = a.start(SLOW, json!({})).await;
    eventually(200, || a.probe.running.load(Ordering::SeqCst) == 1).await;
    let listed = store.nodes().await.expect("nodes");
    assert_eq!(
        listed
            .iter()
            .map(|n| (n.id.as_str(), n.owned))
            .collect::<Vec<_>>(),
        vec![("a", 1), ("b", 0)]
    );

    let stopped = Instant::now();
    a.handle.shutdown();
    let r = tokio::time::timeout(Duration::from_secs(30), b.handle.wait(id))
        .await
        .expect("in time")
        .expect("waits");
    let took = stopped.elapsed();
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert!(
        took < Duration::from_secs(10),
        "taken over in {took:?}, not at once"
    );
    // Claimed by `b`'s scan for orphans, or by its wait, which loads an orphan it
    // finds.
    assert_eq!(r.owner.as_deref(), Some("b"));
    let events = store.events(id).await.expect("events");
    let starts = |task: &str| {
        events
            .iter()
            .filter(|e| e.kind == "attempt_started" && e.data.value()["task"] == task)
            .map(|e| e.data.value()["recovered"] == true)
            .collect::<Vec<bool>>()
    };
    assert_eq!(starts("a"), [false], "a is not run again");
    assert_eq!(starts("b"), [false, true], "b is recovered on the new node");
    // `a` left: only `b` is listed.
    let listed = store.nodes().await.expect("nodes");
    assert_eq!(
        listed.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_sent_to_another_node_moves_the_execution_and_fences_the_former_owner() {
    let (store, _dir) = sqlite().await;
    let a = engine_on(store.clone(), node("a", 60_000)).await;
    let b = engine_on(store.clone(), node("b", 60_000)).await;
    let id = a.start(&SLOW.replace("60000", "1500"), json!({})).await;
    eventually(200, || a.probe.running.load(Ordering::SeqCst) == 1).await;
    let fence = store
        .execution(id)
        .await
        .expect("read")
        .expect("stored")
        .fence;

    // Sent to `b`, which does not run it.
    let status = b
        .handle
        .cancel(id, Some("from the other node".into()))
        .await
        .expect("cancels");
    assert_eq!(status, ExecutionStatus::Cancelled);
    let row = store.execution(id).await.expect("read").expect("stored");
    assert_eq!(row.owner.as_deref(), Some("b"));
    assert!(row.fence > fence, "the move bumped the fence");
    let before = store.events(id).await.expect("events").len();

    // `a` still runs the probe of task `b`; when it ends, `a`'s commit of its result
    // is fenced: nothing more is written, and `a` lets go of the execution.
    eventually(400, || a.probe.running.load(Ordering::SeqCst) == 0).await;
    let r = tokio::time::timeout(Duration::from_secs(30), a.handle.wait(id))
        .await
        .expect("in time")
        .expect("waits");
    assert_eq!(r.status, ExecutionStatus::Cancelled);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = store.events(id).await.expect("events");
    assert_eq!(events.len(), before, "the former owner wrote nothing more");
    assert!(
        !events
            .iter()
            .any(|e| e.kind == "attempt_succeeded" && e.data.value()["task"] == "b"),
        "{:?}",
        events.iter().map(|e| &e.kind).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_live_process_with_a_nodes_id_is_refused() {
    let (store, _dir) = sqlite().await;
    let _a = engine_on(store.clone(), node("same", 400)).await;
    let kinds = harmonia_engine::kinds::Kinds::builtin(&Default::default());
    let plans = Arc::new(harmonia_engine::Plans::new(
        store.clone(),
        kinds.task_types().clone(),
        None,
    ));
    let started = Instant::now();
    let refused = harmonia_engine::spawn(node("same", 400), store.clone(), plans, kinds).await;
    let Err(e) = refused else {
        panic!("a second process took a live node's id");
    };
    let message = e.to_string();
    assert!(message.contains("`same`"), "{message}");
    assert!(message.contains("--node-id"), "{message}");
    // It waited one lease, in case the holder was its own previous process.
    assert!(started.elapsed() >= Duration::from_millis(400));
}

/// Regression: a node that held an execution in memory after another node took it
/// over answered requests from its stale copy: an approval the execution had come to
/// wait for since was refused as "not waiting". A user's request now checks, first,
/// that the execution is still the node's at its fence; a stale copy is let go of and
/// the execution loaded again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_to_a_node_whose_copy_is_stale_is_answered_from_the_store() {
    use harmonia_engine::kinds::{APPROVAL_SIGNAL, Actor, Signal};
    let approve = || Signal {
        name: APPROVAL_SIGNAL.into(),
        payload: json!({"decision": "approve"}),
        by: Some(Actor {
            name: "ada".into(),
            role: Some("admin".into()),
        }),
    };
    let (store, _dir) = sqlite().await;
    let a = engine_on(store.clone(), node("a", 60_000)).await;
    let b = engine_on(store.clone(), node("b", 60_000)).await;
    // `busy` keeps the execution in memory on `a` (not parked) while `first` waits.
    let id = a
        .start(
            "name: two-gates
tasks:
  busy: {type: probe, with: {key: busy, sleep_ms: 60000}}
  first: {type: approval, with: {prompt: one}}
  second: {type: approval, needs: [first], with: {prompt: two}}
",
            json!({}),
        )
        .await;
    eventually(200, || a.probe.running.load(Ordering::SeqCst) == 1).await;
    let waits = |task: &'static str| {
        let store = store.clone();
        async move {
            store
                .events(id)
                .await
                .expect("events")
                .iter()
                .any(|e| e.kind == "attempt_waiting" && e.data.value()["task"] == task)
        }
    };
    for _ in 0..200 {
        if waits("first").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Approved on `b`, which takes the execution: `second` begins waiting there.
    b.handle
        .signal(id, "first", None, approve())
        .await
        .expect("approved on b");
    for _ in 0..300 {
        if waits("second").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(waits("second").await, "second waits");
    // `a` still holds its copy, where `second` has not begun waiting.
    let delivered = a.handle.signal(id, "second", None, approve()).await;
    assert!(
        delivered.is_ok(),
        "answered from a stale copy: {delivered:?}"
    );
    let row = store.execution(id).await.expect("read").expect("stored");
    assert_eq!(row.owner.as_deref(), Some("a"));
}
