//! External workers through the API: leases polled, heart-beaten, completed and failed;
//! expiry, cancellation, restarts, races, roles, and bad input.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use harmonia_server::{ApiConfig, Role};
use serde_json::{Value, json};

use super::{Server, assert_error, server};

const ONE: &str = "name: one
tasks:
  work:
    type: worker
    retry: {max_attempts: 3, initial_delay: 10ms}
    with: {queue: q, input: {n: 41}, heartbeat_timeout: 400ms}
  after: {type: set, needs: [work], with: '${ $tasks.work.output.n + 1 }'}
outputs:
  out: ${ $tasks.after.output }
";

async fn start(s: &Server, yaml: &str) -> String {
    let created = s.post_yaml("/api/workflows", yaml).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let name = created.json()["name"].as_str().expect("name").to_string();
    let r = s
        .post_json(&format!("/api/workflows/{name}/execute"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["execution_id"].as_str().expect("id").to_string()
}

async fn poll(s: &Server, queue: &str, max: u32, wait: f64) -> Vec<Value> {
    let r = s
        .post_json(
            "/api/workers/poll",
            json!({"worker_id": "w1", "queues": [queue], "max_tasks": max, "wait": wait}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["leases"].as_array().expect("leases").clone()
}

async fn lease_of(s: &Server, queue: &str) -> Value {
    let got = poll(s, queue, 1, 5.0).await;
    assert_eq!(got.len(), 1, "{got:?}");
    got[0].clone()
}

fn id(lease: &Value) -> &str {
    lease["lease_id"].as_str().expect("lease id")
}

async fn kinds_of(s: &Server, exec: &str) -> Vec<String> {
    let events = s
        .get(&format!("/api/executions/{exec}/events"))
        .await
        .json();
    events["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_worker_leases_completes_and_the_execution_goes_on() {
    let s = server().await;
    let exec = start(&s, ONE).await;
    let lease = lease_of(&s, "q").await;
    assert_eq!(lease["execution_id"], exec.as_str());
    assert_eq!(
        (&lease["workflow"], &lease["task"], &lease["attempt"]),
        (&json!("one"), &json!("work"), &json!(1))
    );
    assert_eq!(lease["input"], json!({"n": 41}));
    assert_eq!(lease["heartbeat_timeout_ms"], 400);
    assert!(lease.get("item").is_none(), "{lease}");
    let queues = s.get("/api/workers/queues").await.json();
    assert_eq!(
        queues["queues"],
        json!([{"queue": "q", "ready": 0, "leased": 1}])
    );

    let done = s
        .post_json(
            &format!("/api/workers/leases/{}/complete", id(&lease)),
            json!({"output": {"n": 41}}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.json()["status"], "completed");
    assert_eq!(s.outputs_when_succeeded(&exec).await, json!({"out": 42}));

    // A second answer changes nothing.
    let again = s
        .post_json(
            &format!("/api/workers/leases/{}/complete", id(&lease)),
            json!({"output": 0}),
        )
        .await;
    let e = assert_error(&again, StatusCode::CONFLICT, "lease_lost");
    assert_eq!(e["details"]["reason"], "completed");
    assert_eq!(
        s.get("/api/workers/queues").await.json()["queues"],
        json!([])
    );
}

#[tokio::test]
async fn a_failure_keeps_its_class_and_is_retried_unless_the_worker_says_it_is_final() {
    let s = server().await;
    let exec = start(&s, ONE).await;
    let first = lease_of(&s, "q").await;
    let r = s
        .post_json(
            &format!("/api/workers/leases/{}/fail", id(&first)),
            json!({"error": {"class": "OutOfPaper", "message": "tray 2 is empty"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let second = lease_of(&s, "q").await;
    assert_eq!(second["attempt"], 2);
    let r = s
        .post_json(
            &format!("/api/workers/leases/{}/fail", id(&second)),
            json!({"error": {"class": "OutOfPaper", "message": "still empty", "details": {"tray": 2}}, "retryable": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let x = s.finished(&exec).await;
    assert_eq!(x["status"], "failed", "{x}");
    let error = &x["tasks"]["work"]["error"];
    assert_eq!(error["class"], "worker_error", "{x}");
    assert_eq!(error["message"], "still empty");
    assert_eq!(error["details"]["class"], "OutOfPaper");
    assert_eq!(error["details"]["details"], json!({"tray": 2}));
    assert_eq!(x["tasks"]["work"]["attempts"], 2, "no third attempt");
    assert!(poll(&s, "q", 1, 0.2).await.is_empty());
}

#[tokio::test]
async fn an_expired_lease_fails_its_attempt_as_a_timeout_and_its_late_answer_changes_nothing() {
    let s = server().await;
    let exec = start(&s, ONE).await;
    let first = lease_of(&s, "q").await;
    let beat = s
        .post_json(
            &format!("/api/workers/leases/{}/heartbeat", id(&first)),
            json!({}),
        )
        .await;
    assert_eq!(beat.status, StatusCode::OK, "{}", beat.text);
    assert_eq!(beat.json()["cancel_requested"], false);
    // No more heartbeats: the lease expires and attempt 2 is offered.
    let second = lease_of(&s, "q").await;
    assert_eq!(second["attempt"], 2, "{second}");
    for op in ["heartbeat", "complete"] {
        let late = s
            .post_json(
                &format!("/api/workers/leases/{}/{op}", id(&first)),
                json!({}),
            )
            .await;
        let e = assert_error(&late, StatusCode::CONFLICT, "lease_lost");
        assert_eq!(e["details"]["reason"], "expired", "{op}: {e}");
    }
    let r = s
        .post_json(
            &format!("/api/workers/leases/{}/complete", id(&second)),
            json!({"output": {"n": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(s.outputs_when_succeeded(&exec).await, json!({"out": 2}));
    let x = s.get(&format!("/api/executions/{exec}")).await.json();
    let kinds = kinds_of(&s, &exec).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "attempt_succeeded").count(),
        2,
        "work once, after once: {kinds:?}"
    );
    assert_eq!(x["tasks"]["work"]["attempts"], 2);
    let history = s
        .get(&format!("/api/executions/{exec}/events"))
        .await
        .json();
    let failed: Vec<&Value> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "attempt_failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["event"]["error"]["class"], "timeout");
}

#[tokio::test]
async fn heartbeats_keep_a_lease_and_a_cancel_reaches_the_worker_at_its_next_heartbeat() {
    let s = server().await;
    let exec = start(&s, ONE).await;
    let lease = lease_of(&s, "q").await;
    let held = Instant::now();
    while held.elapsed() < Duration::from_millis(1000) {
        let beat = s
            .post_json(
                &format!("/api/workers/leases/{}/heartbeat", id(&lease)),
                json!({}),
            )
            .await;
        assert_eq!(beat.status, StatusCode::OK, "{}", beat.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cancelled = s
        .post_json(&format!("/api/executions/{exec}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(s.finished(&exec).await["status"], "cancelled");
    let beat = s
        .post_json(
            &format!("/api/workers/leases/{}/heartbeat", id(&lease)),
            json!({}),
        )
        .await;
    assert_eq!(beat.status, StatusCode::OK, "{}", beat.text);
    assert_eq!(beat.json()["cancel_requested"], true);
    let late = s
        .post_json(
            &format!("/api/workers/leases/{}/complete", id(&lease)),
            json!({"output": 1}),
        )
        .await;
    let e = assert_error(&late, StatusCode::CONFLICT, "lease_lost");
    assert_eq!(e["details"]["reason"], "cancelled");
}

#[tokio::test]
async fn a_long_poll_wakes_when_work_arrives_and_a_short_one_answers_empty() {
    let s = server().await;
    let t = Instant::now();
    assert!(poll(&s, "q", 1, 0.0).await.is_empty());
    assert!(t.elapsed() < Duration::from_secs(1));
    let t = Instant::now();
    let (leases, exec) = tokio::join!(poll(&s, "q", 1, 10.0), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        start(&s, ONE).await
    });
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0]["execution_id"], exec.as_str());
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "woken, not timed out: {:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn two_pollers_racing_for_one_attempt_get_it_once() {
    let s = server().await;
    start(&s, ONE).await;
    // Both wait less than the lease lasts, so no second attempt comes.
    let (a, b) = tokio::join!(poll(&s, "q", 1, 0.3), poll(&s, "q", 1, 0.3));
    assert_eq!(a.len() + b.len(), 1, "{a:?} {b:?}");
}

#[tokio::test]
async fn fan_out_items_are_leased_by_index_many_at_a_time() {
    let s = server().await;
    let exec = start(
        &s,
        "name: many
tasks:
  work:
    type: worker
    for_each: ${ [range(25)] }
    with: {queue: q, input: '${ $item }'}
outputs:
  sum: ${ [$tasks.work.output[]] | add }
",
    )
    .await;
    let mut seen = Vec::new();
    // On a loaded machine one long poll may end before the next items are queued:
    // polls go on until every item came, within a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < 25 {
        assert!(std::time::Instant::now() < deadline, "leased {seen:?}");
        let got = poll(&s, "q", 10, 5.0).await;
        assert!(got.len() <= 10, "{}", got.len());
        for l in got {
            assert_eq!(l["input"], l["item"], "{l}");
            seen.push(l["item"].as_u64().expect("item"));
            let r = s
                .post_json(
                    &format!("/api/workers/leases/{}/complete", id(&l)),
                    json!({"output": l["input"]}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..25).collect::<Vec<u64>>());
    assert_eq!(s.outputs_when_succeeded(&exec).await, json!({"sum": 300}));
}

#[tokio::test]
async fn after_a_restart_a_leased_attempt_is_offered_again_and_its_old_lease_is_unknown() {
    let s = server().await;
    let exec = start(&s, ONE).await;
    let old = lease_of(&s, "q").await;
    let s = s.restart(ApiConfig::default()).await;
    let again = lease_of(&s, "q").await;
    assert_eq!(
        (&again["execution_id"], &again["attempt"]),
        (&json!(exec), &json!(1)),
        "the same attempt, offered again"
    );
    let late = s
        .post_json(
            &format!("/api/workers/leases/{}/complete", id(&old)),
            json!({"output": {"n": 0}}),
        )
        .await;
    let e = assert_error(&late, StatusCode::CONFLICT, "lease_lost");
    assert_eq!(e["details"]["reason"], "unknown");
    let r = s
        .post_json(
            &format!("/api/workers/leases/{}/complete", id(&again)),
            json!({"output": {"n": 9}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(s.outputs_when_succeeded(&exec).await, json!({"out": 10}));
}

#[tokio::test]
async fn bad_polls_and_reports_are_refused_naming_the_field() {
    let s = server().await;
    for (body, says) in [
        (json!({"worker_id": "w", "queues": []}), "`queues`"),
        (json!({"worker_id": "w", "queues": ["a b"]}), "`queues[0]`"),
        (json!({"worker_id": "", "queues": ["q"]}), "`worker_id`"),
        (
            json!({"worker_id": "w", "queues": ["q"], "max_tasks": 0}),
            "`max_tasks`",
        ),
        (
            json!({"worker_id": "w", "queues": ["q"], "max_tasks": 101}),
            "`max_tasks`",
        ),
        (
            json!({"worker_id": "w", "queues": ["q"], "wait": 61}),
            "`wait`",
        ),
        (
            json!({"worker_id": "w", "queues": ["q"], "wait": -1}),
            "`wait`",
        ),
        (
            json!({"worker_id": "w", "queues": ["q"], "lease": 1}),
            "lease",
        ),
        (json!({"queues": ["q"]}), "worker_id"),
    ] {
        let r = s.post_json("/api/workers/poll", body.clone()).await;
        let e = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
        assert!(
            e["message"].as_str().unwrap_or("").contains(says),
            "{body}: {e}"
        );
    }
    let r = s
        .post_json(
            "/api/workers/leases/ls_x/fail",
            json!({"error": {"class": "x"}}),
        )
        .await;
    let e = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        e["message"].as_str().unwrap_or("").contains("message"),
        "{e}"
    );
    let r = s
        .post_json("/api/workers/leases/ls_nope/heartbeat", json!({}))
        .await;
    let e = assert_error(&r, StatusCode::CONFLICT, "lease_lost");
    assert_eq!(e["details"]["reason"], "unknown");
}

#[tokio::test]
async fn a_worker_token_may_only_poll_and_report() {
    let s = server().await;
    start(&s, ONE).await;
    let mut tokens = Vec::new();
    for role in [Role::Worker, Role::Viewer, Role::Operator] {
        let (t, _) = harmonia_server::create_token(s.store.as_ref(), "t", role)
            .await
            .expect("token");
        tokens.push(t);
    }
    let [worker, viewer, operator] = <[String; 3]>::try_from(tokens).expect("three");
    let body = json!({"worker_id": "w", "queues": ["q"], "wait": 0}).to_string();
    let poll_as = |t: String| {
        let body = body.clone();
        let s = &s;
        async move {
            s.call(
                Method::POST,
                "/api/workers/poll",
                Some("application/json"),
                &body,
                Some(&t),
            )
            .await
        }
    };
    assert_eq!(poll_as(worker.clone()).await.status, StatusCode::OK);
    assert_eq!(poll_as(operator).await.status, StatusCode::OK);
    let e = assert_error(
        &poll_as(viewer.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert!(
        e["message"].as_str().unwrap_or("").contains("worker"),
        "{e}"
    );
    // Regression: the queues' figures, which the worker guide has workers read,
    // refused a worker's token. Viewers read them too.
    for t in [&worker, &viewer] {
        let queues = s
            .call(Method::GET, "/api/workers/queues", None, "", Some(t))
            .await;
        assert_eq!(queues.status, StatusCode::OK, "{}", queues.text);
    }
    let read = s
        .call(Method::GET, "/api/workflows", None, "", Some(&worker))
        .await;
    let e = assert_error(&read, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("may only poll and report"),
        "{e}"
    );
    let execute = s
        .call(
            Method::POST,
            "/api/workflows/one/execute",
            Some("application/json"),
            "{}",
            Some(&worker),
        )
        .await;
    assert_error(&execute, StatusCode::FORBIDDEN, "forbidden");
}
