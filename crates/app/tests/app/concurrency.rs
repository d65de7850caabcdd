//! Concurrency policies under 100 concurrent starts: `queue` holds all but `limit` and
//! releases them first come first served as runs end; `cancel_new` cancels the excess;
//! `cancel_old` leaves only the newest; `coalesce` collapses the burst into one waiting
//! run; a `key` gives each value its own limit.

use std::time::{Duration, Instant};

use harmonia_storage::{ExecutionId, ExecutionStatus};
use serde_json::{Map, json};

use super::{Env, api, env, yaml};

fn workflow(policy: &str, limit: u32) -> String {
    format!(
        "name: guarded
inputs: {{type: object, properties: {{repo: {{type: string, default: main}}, n: {{type: integer}}}}}}
concurrency: {{key: '${{ $inputs.repo }}', limit: {limit}, on_conflict: {policy}}}
tasks:
  hold: {{type: wait_event, with: {{type: never, timeout: 24h}}}}
"
    )
}

struct Running {
    env: Env,
    stop: tokio_util::sync::CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn with(policy: &str, limit: u32) -> Running {
    let env = env().await;
    env.app
        .workflows()
        .create(&yaml(&workflow(policy, limit)))
        .await
        .expect("created");
    let stop = tokio_util::sync::CancellationToken::new();
    let concurrency = env.app.concurrency().clone();
    tokio::spawn({
        let stop = stop.clone();
        async move { concurrency.run(stop).await }
    });
    Running { env, stop }
}

/// Starts 100 at once (inputs `{n}`), and their ids in the order of `n`.
async fn burst(env: &Env, repo: &str) -> Vec<ExecutionId> {
    let since = Instant::now();
    let tasks: Vec<_> = (0..100)
        .map(|n| {
            let app = env.app.clone();
            let repo = repo.to_string();
            tokio::spawn(async move {
                let mut inputs = Map::new();
                inputs.insert("n".into(), json!(n));
                inputs.insert("repo".into(), json!(repo));
                app.executions()
                    .start("guarded", None, inputs, None, api())
                    .await
                    .expect("accepted")
                    .execution
            })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("joined"));
    }
    eprintln!("100 concurrent starts took {:?}", since.elapsed());
    ids
}

async fn statuses(env: &Env, ids: &[ExecutionId]) -> Vec<ExecutionStatus> {
    let mut out = Vec::new();
    for id in ids {
        out.push(
            env.app
                .executions()
                .record(*id)
                .await
                .expect("record")
                .status,
        );
    }
    out
}

fn count(s: &[ExecutionStatus], status: ExecutionStatus) -> usize {
    s.iter().filter(|x| **x == status).count()
}

/// Waits until `ids` have these many running.
async fn until_running(env: &Env, ids: &[ExecutionId], n: usize) -> Vec<ExecutionStatus> {
    let since = Instant::now();
    loop {
        let s = statuses(env, ids).await;
        if count(&s, ExecutionStatus::Running) == n || since.elapsed() > Duration::from_secs(10) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The executions in creation order.
async fn by_creation(env: &Env, ids: &[ExecutionId]) -> Vec<ExecutionId> {
    let mut with_time = Vec::new();
    for id in ids {
        let r = env.app.executions().record(*id).await.expect("record");
        with_time.push((r.created_at, r.id));
    }
    with_time.sort();
    with_time.into_iter().map(|(_, id)| id).collect()
}

async fn cancel(env: &Env, id: ExecutionId) {
    env.app.executions().cancel(id, None).await.expect("cancel");
    env.ended(id).await;
}

#[tokio::test]
async fn queue_holds_the_excess_and_releases_first_come_first_served() {
    let r = with("queue", 2).await;
    let ids = by_creation(&r.env, &burst(&r.env, "main").await).await;
    let s = statuses(&r.env, &ids).await;
    assert_eq!(count(&s, ExecutionStatus::Running), 2, "{s:?}");
    assert_eq!(count(&s, ExecutionStatus::Paused), 98, "{s:?}");
    assert_eq!(
        &s[..2],
        [ExecutionStatus::Running, ExecutionStatus::Running]
    );
    // Nothing of a held run has started.
    let held = r.env.store.task_runs(ids[2]).await.expect("tasks");
    assert!(held.iter().all(|t| t.attempts == 0), "{held:?}");
    // One ends: the oldest held one takes its slot, and only it.
    cancel(&r.env, ids[0]).await;
    let s = until_running(&r.env, &ids, 2).await;
    assert_eq!(s[2], ExecutionStatus::Running, "{s:?}");
    assert_eq!(count(&s, ExecutionStatus::Paused), 97);
    cancel(&r.env, ids[1]).await;
    cancel(&r.env, ids[2]).await;
    let s = until_running(&r.env, &ids, 2).await;
    assert_eq!(
        &s[3..5],
        [ExecutionStatus::Running, ExecutionStatus::Running],
        "{s:?}"
    );
    assert_eq!(count(&s, ExecutionStatus::Paused), 95);
}

#[tokio::test]
async fn cancel_new_cancels_the_excess_with_the_reason() {
    let r = with("cancel_new", 2).await;
    let ids = burst(&r.env, "main").await;
    let s = statuses(&r.env, &ids).await;
    assert_eq!(count(&s, ExecutionStatus::Running), 2, "{s:?}");
    assert_eq!(count(&s, ExecutionStatus::Cancelled), 98, "{s:?}");
    let cancelled = ids
        .iter()
        .zip(&s)
        .find(|(_, s)| **s == ExecutionStatus::Cancelled)
        .map(|(id, _)| *id)
        .expect("one");
    let history = r
        .env
        .app
        .executions()
        .history(cancelled)
        .await
        .expect("history");
    let text: String = history.iter().map(|e| e.data.get().to_string()).collect();
    assert!(text.contains("cancel_new"), "{text}");
}

#[tokio::test]
async fn cancel_old_leaves_the_newest_running() {
    let r = with("cancel_old", 1).await;
    let ids = by_creation(&r.env, &burst(&r.env, "main").await).await;
    let since = Instant::now();
    let s = loop {
        let s = statuses(&r.env, &ids).await;
        if count(&s, ExecutionStatus::Cancelled) == 99 || since.elapsed() > Duration::from_secs(10)
        {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(count(&s, ExecutionStatus::Cancelled), 99, "{s:?}");
    assert_eq!(s[99], ExecutionStatus::Running, "the newest runs");
}

#[tokio::test]
async fn coalesce_collapses_a_burst_into_one_waiting_run() {
    let r = with("coalesce", 1).await;
    let ids = by_creation(&r.env, &burst(&r.env, "main").await).await;
    let s = statuses(&r.env, &ids).await;
    assert_eq!(s[0], ExecutionStatus::Running, "{s:?}");
    assert_eq!(s[99], ExecutionStatus::Paused, "the newest waits");
    assert_eq!(count(&s, ExecutionStatus::Cancelled), 98, "{s:?}");
    cancel(&r.env, ids[0]).await;
    let s = until_running(&r.env, &ids, 1).await;
    assert_eq!(s[99], ExecutionStatus::Running, "{s:?}");
}

#[tokio::test]
async fn each_key_has_its_own_limit() {
    let r = with("queue", 1).await;
    let start = |repo: &str| {
        let app = r.env.app.clone();
        let mut inputs = Map::new();
        if !repo.is_empty() {
            inputs.insert("repo".into(), json!(repo));
        }
        async move {
            app.executions()
                .start("guarded", None, inputs, None, api())
                .await
                .expect("accepted")
        }
    };
    let a = start("a").await;
    let b = start("b").await;
    let a2 = start("a").await;
    // No repo: the default (`main`) is the key.
    let main = start("").await;
    let main2 = start("main").await;
    assert_eq!(a.status, ExecutionStatus::Running);
    assert_eq!(b.status, ExecutionStatus::Running);
    assert_eq!(a2.status, ExecutionStatus::Paused);
    assert_eq!(main.status, ExecutionStatus::Running);
    assert_eq!(main2.status, ExecutionStatus::Paused);
}
