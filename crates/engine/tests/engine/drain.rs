//! Stopping gracefully: running attempts finish within the grace period and their
//! results are kept; nothing new starts; what is left runs at the next start. Before,
//! a stop abandoned every running attempt, and each ran again after the restart.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use harmonia_engine::{EngineConfig, Error, StartRequest};
use harmonia_storage::ExecutionStatus;
use serde_json::json;

use super::{Probe, engine_on, engine_with, eventually, sqlite};

const TWO_STEPS: &str = "name: two-steps
tasks:
  a: {type: probe, with: {key: a, sleep_ms: 400}}
  b: {type: probe, needs: [a], with: {key: b}}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_lets_running_attempts_finish_and_starts_nothing_new() {
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), EngineConfig::default()).await;
    let ids = {
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(first.start(TWO_STEPS, json!({})).await);
        }
        ids
    };
    eventually(200, || first.probe.running.load(Ordering::SeqCst) == 5).await;
    let started = Instant::now();
    first.handle.drain(Duration::from_secs(30)).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "the drain took {took:?}");
    // Every `a` finished; no `b` started.
    let attempts = first.probe.attempts.lock().expect("lock").clone();
    assert_eq!(attempts.get("a"), Some(&5));
    assert_eq!(attempts.get("b"), None);
    // A stopped engine starts nothing.
    let w = first.register(TWO_STEPS).await;
    let r = first.handle.start(StartRequest::new(w, json!({}))).await;
    assert!(matches!(r, Err(Error::Stopped)), "{r:?}");

    // The next engine runs only `b`s: no `a` runs twice.
    let probe = Arc::new(Probe::default());
    let second = engine_with(store.clone(), EngineConfig::default(), probe.clone()).await;
    for id in ids {
        let r = tokio::time::timeout(Duration::from_secs(30), second.handle.wait(id))
            .await
            .expect("in time")
            .expect("waits");
        assert_eq!(r.status, ExecutionStatus::Succeeded);
    }
    let attempts = probe.attempts.lock().expect("lock").clone();
    assert_eq!(attempts.get("a"), None, "{attempts:?}");
    assert_eq!(attempts.get("b"), Some(&5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_outlasts_the_grace_period_runs_again_at_the_next_start() {
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), EngineConfig::default()).await;
    let id = first
        .start(
            "name: long\ntasks:\n  a: {type: probe, with: {key: a, sleep_ms: 60000}}\n",
            json!({}),
        )
        .await;
    eventually(200, || first.probe.running.load(Ordering::SeqCst) == 1).await;
    let started = Instant::now();
    first.handle.drain(Duration::from_millis(300)).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the drain took {took:?}");
    let probe = Arc::new(Probe::default());
    probe.no_sleep.store(true, Ordering::SeqCst);
    let second = engine_with(store.clone(), EngineConfig::default(), probe).await;
    let r = tokio::time::timeout(Duration::from_secs(30), second.handle.wait(id))
        .await
        .expect("in time")
        .expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let recovered = store
        .events(id)
        .await
        .expect("events")
        .iter()
        .filter(|e| e.kind == "attempt_started" && e.data.value()["recovered"] == true)
        .count();
    assert_eq!(recovered, 1);
}
