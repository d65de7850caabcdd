//! Worker queues shared by two `harmonia serve` nodes on one PostgreSQL database (see
//! `nodes.rs` for the database each test makes): the executions run on one node, and
//! workers poll, heart-beat and answer through either, switching node between calls.
//! Every attempt is leased once across the nodes, every item is completed once, a
//! lease left without heartbeats expires once (its attempt failing as `timeout`, and
//! the retry completing it), and a late answer learns why it is refused on either node.
//! An answer left for a node that is then killed is applied once by the node that
//! takes its executions over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::nodes::Rig;
use super::served::Served;

const EXECUTIONS: usize = 6;
const ITEMS: usize = 30;
const WORKERS: usize = 4;

/// Long enough that a worker's heartbeat, sent as soon as it holds a lease, comes in
/// time on a loaded machine (at 1.5 s, a full test run on two cores once let a live
/// lease expire); the abandoned lease still expires within the test.
fn workflow() -> String {
    format!(
        "name: shared-queue
tasks:
  work:
    type: worker
    for_each: ${{ [range({ITEMS})] }}
    concurrency: 10
    retry: {{max_attempts: 3, retry_on: [timeout], initial_delay: 100ms}}
    with: {{queue: jobs, input: '${{ {{n: $item}} }}', heartbeat_timeout: 4s}}
outputs:
  all: ${{ $tasks.work.output }}
"
    )
}

async fn call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let rb = match method {
        "GET" => http.get(url),
        _ => http.post(url),
    };
    let rb = match body {
        Some(b) => rb.json(&b),
        None => rb,
    };
    let r = rb
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The attempt a lease names.
fn attempt_of(lease: &Value) -> String {
    format!(
        "{}/{}/{}/{}",
        lease["execution_id"].as_str().unwrap_or("?"),
        lease["task"].as_str().unwrap_or("?"),
        lease["item"],
        lease["attempt"]
    )
}

#[derive(Default)]
struct Tally {
    /// Leases granted, by attempt.
    leased: HashMap<String, usize>,
    /// Completions the server accepted.
    completed: usize,
    /// Heartbeats the server accepted, per node the lease was not polled on.
    heartbeats_elsewhere: usize,
    /// Answers sent to the node the lease was not polled on.
    answers_elsewhere: usize,
    /// Refused answers, with why.
    refused: Vec<Value>,
}

#[test]
fn workers_share_queues_across_nodes_and_answer_through_either() {
    let rig = Rig::new();
    let flags = ["--lease", "3s"];
    let a = rig.node("a", &flags);
    let b = rig.node("b", &flags);
    let bases = [a.base.clone(), b.base.clone()];
    let (rt, http) = (&rig.rt, rig.http.clone());
    rig.apply(&bases[0], &workflow());
    let started = Instant::now();

    let (ids, abandoned) = rt.block_on(async {
        // Every execution runs on node A.
        let mut ids = Vec::new();
        for _ in 0..EXECUTIONS {
            let url = format!("{}/api/workflows/shared-queue/execute", bases[0]);
            let (status, body) = call(&http, "POST", &url, Some(json!({"inputs": {}}))).await;
            assert_eq!(status, 201, "{body}");
            ids.push(body["execution_id"].as_str().expect("an id").to_string());
        }
        // A worker on node B, where nothing runs, takes one attempt and abandons it.
        let url = format!("{}/api/workers/poll", bases[1]);
        let poll = json!({"worker_id": "quitter", "queues": ["jobs"], "max_tasks": 1, "wait": 10});
        let (status, got) = call(&http, "POST", &url, Some(poll)).await;
        assert_eq!(status, 200, "{got}");
        let abandoned = got["leases"][0].clone();
        assert!(
            abandoned["lease_id"].is_string(),
            "node B offers node A's work: {got}"
        );
        (ids, abandoned)
    });

    let tally = Arc::new(Mutex::new(Tally::default()));
    tally
        .lock()
        .expect("the tally")
        .leased
        .insert(attempt_of(&abandoned), 1);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    rt.block_on(async {
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (http, bases, tally, done) =
                    (http.clone(), bases.clone(), tally.clone(), done.clone());
                tokio::spawn(async move {
                    let mut round = w;
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        // Each call goes to the node after the previous call's.
                        let polled = round % 2;
                        round += 1;
                        let url = format!("{}/api/workers/poll", bases[polled]);
                        let poll = json!({"worker_id": format!("w{w}"), "queues": ["jobs"], "max_tasks": 2, "wait": 1});
                        let (status, got) = call(&http, "POST", &url, Some(poll)).await;
                        assert_eq!(status, 200, "{got}");
                        for lease in got["leases"].as_array().cloned().unwrap_or_default() {
                            let id = lease["lease_id"].as_str().expect("a lease id").to_string();
                            *tally.lock().expect("the tally").leased.entry(attempt_of(&lease)).or_default() += 1;
                            let other = 1 - polled;
                            let url = format!("{}/api/workers/leases/{id}/heartbeat", bases[other]);
                            let (status, beat) = call(&http, "POST", &url, Some(json!({}))).await;
                            assert_eq!(status, 200, "a heartbeat through the other node: {beat}");
                            assert_eq!(beat["cancel_requested"], false, "{beat}");
                            tally.lock().expect("the tally").heartbeats_elsewhere += 1;
                            // Answers alternate between the nodes.
                            let to = (round + w) % 2;
                            let url = format!("{}/api/workers/leases/{id}/complete", bases[to]);
                            let output = json!({"output": {"n": lease["input"]["n"], "by": format!("w{w}")}});
                            let (status, answer) = call(&http, "POST", &url, Some(output)).await;
                            let mut t = tally.lock().expect("the tally");
                            if to != polled {
                                t.answers_elsewhere += 1;
                            }
                            match status {
                                200 => t.completed += 1,
                                409 => t.refused.push(answer),
                                _ => panic!("complete answered {status}: {answer}"),
                            }
                        }
                    }
                })
            })
            .collect();
        // Until every execution has ended.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let mut open = 0;
            for id in &ids {
                let url = format!("{}/api/executions/{id}", bases[1]);
                let (status, x) = call(&http, "GET", &url, None).await;
                assert_eq!(status, 200, "{x}");
                if matches!(x["status"].as_str(), Some("pending" | "running" | "paused")) {
                    open += 1;
                }
            }
            if open == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{open} executions still open; A's log:\n{}\nB's log:\n{}",
                a.log_lines().iter().rev().take(30).rev().cloned().collect::<Vec<_>>().join("\n"),
                b.log_lines().iter().rev().take(30).rev().cloned().collect::<Vec<_>>().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        for w in workers {
            w.await.expect("a worker");
        }
    });
    let took = started.elapsed();

    let tally = tally.lock().expect("the tally");
    let twice: Vec<_> = tally.leased.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "attempts leased more than once: {twice:?}"
    );
    assert!(
        tally.refused.is_empty(),
        "refused answers: {:?}\nA's log:\n{}\nB's log:\n{}",
        tally.refused,
        a.log_lines().join("\n"),
        b.log_lines().join("\n")
    );
    assert_eq!(
        tally.completed,
        EXECUTIONS * ITEMS,
        "each item completed once, the abandoned one by its retry"
    );
    assert!(tally.answers_elsewhere > 0 && tally.heartbeats_elsewhere > 0);

    rt.block_on(async {
        let mut timeouts = 0;
        for id in &ids {
            let url = format!("{}/api/executions/{id}", bases[0]);
            let (_, x) = call(&http, "GET", &url, None).await;
            assert_eq!(x["status"], "succeeded", "{x}");
            let all = x["outputs"]["all"].as_array().cloned().unwrap_or_default();
            assert_eq!(all.len(), ITEMS, "{x}");
            for (i, out) in all.iter().enumerate() {
                assert_eq!(out["n"], json!(i), "item {i} of {id}: {out}");
            }
            let url = format!("{}/api/executions/{id}/events", bases[1]);
            let (_, events) = call(&http, "GET", &url, None).await;
            let events = events["events"].as_array().cloned().unwrap_or_default();
            timeouts += events
                .iter()
                .filter(|e| e["kind"] == "attempt_failed")
                .inspect(|e| {
                    let text = e.to_string();
                    assert!(
                        text.contains("quitter") && text.contains("heartbeat"),
                        "{text}"
                    );
                })
                .count();
        }
        assert_eq!(timeouts, 1, "the abandoned lease expired once");

        // The quitter's late answer is refused on both nodes, saying why.
        let lease = abandoned["lease_id"].as_str().expect("a lease id");
        for base in &bases {
            let url = format!("{base}/api/workers/leases/{lease}/complete");
            let (status, e) = call(&http, "POST", &url, Some(json!({"output": 1}))).await;
            assert_eq!(status, 409, "{e}");
            assert_eq!(e["error"]["details"]["reason"], "expired", "{e}");
        }
        // Answers through B left the executions where they ran: B took none over.
        let (_, health) = call(&http, "GET", &format!("{}/health", bases[1]), None).await;
        assert_eq!(health["node"]["takeovers"], 0, "{health}");
        let loaded: Vec<String> = b
            .log_lines()
            .into_iter()
            .filter(|l| l.contains("resumed execution"))
            .collect();
        assert!(loaded.is_empty(), "B loaded executions: {loaded:?}");
        // Nothing is left on the queues of either node.
        for base in &bases {
            let url = format!("{base}/api/workers/queues");
            let (_, q) = call(&http, "GET", &url, None).await;
            assert_eq!(q["queues"], json!([]), "{base}: {q}");
        }
    });
    let leases: usize = tally.leased.values().sum();
    println!(
        "shared worker queues: {} items of {EXECUTIONS} executions run on node A, done by {WORKERS} workers through both nodes in {took:.1?}: {leases} leases, {} heartbeats and {} answers through the node a lease was not polled on, 1 expiry",
        EXECUTIONS * ITEMS,
        tally.heartbeats_elsewhere,
        tally.answers_elsewhere
    );
}

/// An answer left for the node that runs the execution, when that node is killed: the
/// node that takes its executions over applies the answer, once; the worker, told to
/// send it again meanwhile (`503`) or answered at once, sees it recorded.
#[test]
fn an_answer_left_for_a_node_that_dies_is_applied_by_the_node_that_takes_over() {
    let rig = Rig::new();
    let a = rig.node("a", &["--lease", "2s"]);
    let b = rig.node("b", &["--lease", "2s"]);
    let (base_a, base_b) = (a.base.clone(), b.base.clone());
    let (rt, http) = (&rig.rt, rig.http.clone());
    rig.apply(
        &base_a,
        "name: one-job\ntasks:\n  job:\n    type: worker\n    with: {queue: solo, input: 7}\n",
    );
    let (id, lease) = rt.block_on(async {
        let url = format!("{base_a}/api/workflows/one-job/execute");
        let (status, body) = call(&http, "POST", &url, Some(json!({"inputs": {}}))).await;
        assert_eq!(status, 201, "{body}");
        let id = body["execution_id"].as_str().expect("an id").to_string();
        let url = format!("{base_b}/api/workers/poll");
        let poll = json!({"worker_id": "w", "queues": ["solo"], "wait": 10});
        let (status, got) = call(&http, "POST", &url, Some(poll)).await;
        assert_eq!(status, 200, "{got}");
        let lease = got["leases"][0]["lease_id"]
            .as_str()
            .unwrap_or_else(|| panic!("B offers A's attempt: {got}"))
            .to_string();
        (id, lease)
    });
    a.kill();
    let started = Instant::now();
    let (statuses, x) = rt.block_on(async {
        let url = format!("{base_b}/api/workers/leases/{lease}/complete");
        let mut statuses = Vec::new();
        loop {
            let (status, body) = call(&http, "POST", &url, Some(json!({"output": "done"}))).await;
            statuses.push(status);
            match status {
                200 => break,
                503 => assert!(statuses.len() < 6, "{statuses:?}: {body}"),
                _ => panic!("complete answered {status}: {body}"),
            }
        }
        let url = format!("{base_b}/api/executions/{id}");
        let mut x = Value::Null;
        for _ in 0..100 {
            x = call(&http, "GET", &url, None).await.1;
            if x["status"] == "succeeded" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (statuses, x)
    });
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["tasks"]["job"]["output"], "done", "{x}");
    assert_eq!(x["tasks"]["job"]["attempts"], 1, "{x}");
    println!(
        "an answer through B for A's execution, A killed: recorded after {:.1?} (answers: {statuses:?})",
        started.elapsed()
    );
    drop(b);
}

/// Nodes A (held `point` for 1.5 s by a test pause) and B on one database, with the
/// one-task `worker` workflow `one-job` (queue `solo`).
fn paused_pair(rig: &Rig, point: &str) -> (Served, Served) {
    let pause = format!("{point}:1500");
    let a = rig.node_with_env(
        "a",
        &["--lease", "3s"],
        &[("HARMONIA_TEST_PAUSE_AT", &pause)],
    );
    let b = rig.node("b", &["--lease", "3s"]);
    rig.apply(
        &a.base,
        "name: one-job\ntasks:\n  job:\n    type: worker\n    with: {queue: solo, input: 7, heartbeat_timeout: 30s}\n",
    );
    (a, b)
}

/// Starts `one-job` through `base`; the execution's id.
async fn start_one_job(http: &reqwest::Client, base: &str) -> String {
    let url = format!("{base}/api/workflows/one-job/execute");
    let (status, body) = call(http, "POST", &url, Some(json!({"inputs": {}}))).await;
    assert_eq!(status, 201, "{body}");
    body["execution_id"].as_str().expect("an id").to_string()
}

/// Leases one attempt of queue `solo` through `base`; the lease's id.
async fn lease_one(http: &reqwest::Client, base: &str) -> String {
    let url = format!("{base}/api/workers/poll");
    let poll = json!({"worker_id": "w", "queues": ["solo"], "wait": 10});
    let (status, got) = call(http, "POST", &url, Some(poll)).await;
    assert_eq!(status, 200, "{got}");
    got["leases"][0]["lease_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a lease through {base}: {got}"))
        .to_string()
}

/// While the node that runs an execution records a worker's answer (held there, after
/// the engine's commit and before the lease's tombstone, by a test pause), the other
/// node neither applies the same answer again nor calls it refused: an answer left
/// through B, and the same answer sent again through B while A records it, are both
/// told it was completed. Before the fix B, seeing the execution ended, applied the
/// answer itself, was refused, and wrote `cancelled` over a recorded answer.
#[test]
fn an_answer_being_recorded_on_one_node_is_not_refused_on_the_other() {
    let rig = Rig::new();
    let (a, b) = paused_pair(&rig, "worker_answer_recorded");
    let (base_a, base_b) = (a.base.clone(), b.base.clone());
    let (rt, http) = (&rig.rt, rig.http.clone());
    rt.block_on(async {
        let complete = |base: String, lease: String| {
            let http = http.clone();
            async move {
                let url = format!("{base}/api/workers/leases/{lease}/complete");
                call(&http, "POST", &url, Some(json!({"output": "done"}))).await
            }
        };

        // 1. Left through B for A, which records it and then pauses before its tombstone.
        let first = start_one_job(&http, &base_a).await;
        let lease = lease_one(&http, &base_b).await;
        let (status, body) = complete(base_b.clone(), lease.clone()).await;
        assert_eq!(status, 200, "an answer left through B: {body}");

        // 2. Sent to A, which runs the execution, and sent again through B while A
        //    records it.
        let second = start_one_job(&http, &base_a).await;
        let lease = lease_one(&http, &base_a).await;
        let through_a = tokio::spawn(complete(base_a.clone(), lease.clone()));
        tokio::time::sleep(Duration::from_millis(700)).await;
        let (status, body) = complete(base_b.clone(), lease.clone()).await;
        assert_eq!(status, 200, "the same answer again through B: {body}");
        let (status, body) = through_a.await.expect("the first answer");
        assert_eq!(status, 200, "the answer through A: {body}");

        for id in [first, second] {
            let url = format!("{base_b}/api/executions/{id}");
            let (_, x) = call(&http, "GET", &url, None).await;
            assert_eq!(x["status"], "succeeded", "{x}");
            assert_eq!(x["tasks"]["job"]["output"], "done", "{x}");
        }
        // Once recorded, a late copy learns it was completed, on either node.
        for base in [&base_a, &base_b] {
            let (status, e) = complete(base.clone(), lease.clone()).await;
            assert_eq!(status, 409, "{e}");
            assert_eq!(e["error"]["details"]["reason"], "completed", "{e}");
        }
    });
    let paused = a
        .log_lines()
        .iter()
        .filter(|l| l.contains("test pause"))
        .count();
    assert_eq!(paused, 2, "A paused once per answer");
}

/// A heartbeat that read a lease just before its answer was recorded (held there by a
/// test pause) does not write the lease back as held over its tombstone: it learns the
/// lease was completed, and so does a late copy of the answer. Before the fix the
/// heartbeat extended the lock with the note it had read, the tombstone was gone, and
/// the late copy was applied again, refused, and called `cancelled`.
#[test]
fn a_heartbeat_read_before_an_answer_does_not_bring_the_lease_back() {
    let rig = Rig::new();
    let (a, b) = paused_pair(&rig, "worker_heartbeat_read");
    let (base_a, base_b) = (a.base.clone(), b.base.clone());
    let (rt, http) = (&rig.rt, rig.http.clone());
    rt.block_on(async {
        let id = start_one_job(&http, &base_a).await;
        let lease = lease_one(&http, &base_b).await;

        let url = format!("{base_a}/api/workers/leases/{lease}/heartbeat");
        let beat = {
            let http = http.clone();
            tokio::spawn(async move { call(&http, "POST", &url, Some(json!({}))).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let complete = format!("{base_b}/api/workers/leases/{lease}/complete");
        let (status, body) = call(&http, "POST", &complete, Some(json!({"output": "done"}))).await;
        assert_eq!(
            status, 200,
            "the answer, while A's heartbeat is paused: {body}"
        );

        let (status, body) = beat.await.expect("the heartbeat");
        assert_eq!(status, 409, "the heartbeat finds the lease ended: {body}");
        assert_eq!(body["error"]["details"]["reason"], "completed", "{body}");
        let (status, e) = call(&http, "POST", &complete, Some(json!({"output": "again"}))).await;
        assert_eq!(status, 409, "{e}");
        assert_eq!(e["error"]["details"]["reason"], "completed", "{e}");

        let url = format!("{base_b}/api/executions/{id}");
        let (_, x) = call(&http, "GET", &url, None).await;
        assert_eq!(x["status"], "succeeded", "{x}");
        assert_eq!(x["tasks"]["job"]["output"], "done", "{x}");
    });
    assert_eq!(
        a.log_lines()
            .iter()
            .filter(|l| l.contains("test pause"))
            .count(),
        1,
        "A paused its heartbeat once"
    );
}
