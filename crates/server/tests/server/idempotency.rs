//! `Idempotency-Key` on execute: one execution per key and request, whatever the
//! races; the key reused for another request is refused.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::{HELLO, Reply, Server, assert_error, server};

async fn execute(s: &Server, key: Option<&str>, body: &Value) -> Reply {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/workflows/hello/execute")
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    s.send(req.body(Body::from(body.to_string())).expect("request"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_identical_requests_at_once_start_one_execution() {
    let s = server().await;
    assert_eq!(
        s.post_yaml("/api/workflows", HELLO).await.status,
        StatusCode::CREATED
    );
    let body = json!({"inputs": {"who": "ada", "times": 1}});
    let replies =
        futures::future::join_all((0..50).map(|_| execute(&s, Some("order-42"), &body))).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let replayed = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(
        (created, replayed),
        (1, 49),
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let ids: std::collections::HashSet<String> = replies
        .iter()
        .map(|r| {
            r.json()["execution_id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    let listed = s.get("/api/executions?workflow=hello").await.json();
    assert_eq!(
        listed["executions"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    // The same request later: the same execution, and its status now.
    let id = ids.into_iter().next().unwrap_or_default();
    s.finished(&id).await;
    let again = execute(&s, Some("order-42"), &body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["execution_id"], id.as_str());
    assert_eq!(again.json()["status"], "succeeded");
    // Keys are objects compared by content: the key order of the body does not matter.
    let reordered: Value =
        serde_json::from_str(r#"{"inputs": {"times": 1, "who": "ada"}}"#).expect("json");
    assert_eq!(
        execute(&s, Some("order-42"), &reordered).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_key_reused_for_another_request_or_malformed_is_refused_and_starts_nothing() {
    let s = server().await;
    assert_eq!(
        s.post_yaml("/api/workflows", HELLO).await.status,
        StatusCode::CREATED
    );
    let first = execute(&s, Some("k1"), &json!({"inputs": {"who": "ada"}})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let other = execute(&s, Some("k1"), &json!({"inputs": {"who": "bob"}})).await;
    assert_error(
        &other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    );
    let spaces = execute(&s, Some("has spaces"), &json!({"inputs": {"who": "bob"}})).await;
    assert_error(&spaces, StatusCode::BAD_REQUEST, "invalid_request");
    let long = "k".repeat(256);
    let too_long = execute(&s, Some(&long), &json!({"inputs": {"who": "bob"}})).await;
    assert_error(&too_long, StatusCode::BAD_REQUEST, "invalid_request");
    // Bad inputs with a key: refused, and the key stays free for a good request.
    let bad = execute(&s, Some("k2"), &json!({"inputs": {}})).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    let good = execute(&s, Some("k2"), &json!({"inputs": {"who": "cy"}})).await;
    assert_eq!(good.status, StatusCode::CREATED, "{}", good.text);
    let listed = s.get("/api/executions?workflow=hello").await.json();
    assert_eq!(
        listed["executions"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    // Without a key, every request starts one.
    let plain = execute(&s, None, &json!({"inputs": {"who": "ada"}})).await;
    assert_eq!(plain.status, StatusCode::CREATED);
}
