//! CloudEvents through the API: checked, kept once by (source, id), delivered to the
//! `wait_event` tasks they match, listed.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Server, assert_error, server};

const SETTLE: &str = "name: settle
inputs: {type: object, required: [order], properties: {order: {type: integer}}}
tasks:
  paid:
    type: wait_event
    with: {type: payment.settled, filter: '${ $event.data.order == $inputs.order }', timeout: 1h}
outputs: {amount: '${ $tasks.paid.output.data.amount }'}
";

fn event(id: &str, order: u64) -> Value {
    json!({"specversion": "1.0", "id": id, "source": "shop", "type": "payment.settled",
           "data": {"order": order, "amount": order * 10}})
}

async fn post(s: &Server, body: &Value) -> super::Reply {
    s.call(
        Method::POST,
        "/api/events",
        Some("application/cloudevents+json"),
        &body.to_string(),
        None,
    )
    .await
}

async fn waiting(s: &Server, order: u64) -> String {
    let started = s
        .post_json(
            "/api/workflows/settle/execute",
            json!({"inputs": {"order": order}}),
        )
        .await
        .json();
    let id = started["execution_id"].as_str().expect("id").to_string();
    for _ in 0..500 {
        let x = s.get(&format!("/api/executions/{id}")).await.json();
        if x["tasks"]["paid"]["waiting"]["for"] == "event" {
            assert_eq!(x["tasks"]["paid"]["waiting"]["type"], "payment.settled");
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the task never waited");
}

#[tokio::test]
async fn an_event_is_checked_kept_once_and_delivered_to_the_task_it_matches() {
    let s = server().await;
    assert_eq!(
        s.post_yaml("/api/workflows", SETTLE).await.status,
        StatusCode::CREATED
    );
    let one = waiting(&s, 1).await;
    let two = waiting(&s, 2).await;

    let bad = post(&s, &json!({"specversion": "0.3", "id": 5, "type": ""})).await;
    let e = assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_event");
    let attributes: Vec<&str> = e["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["attribute"].as_str())
        .collect();
    assert_eq!(attributes, ["specversion", "id", "source", "type"], "{e}");

    // Matches nothing: kept, delivered nowhere.
    let r = post(&s, &event("e1", 3)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json()["delivered_to"], json!([]));
    // Matches `two` only.
    let r = post(&s, &event("e2", 2)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let r = r.json();
    assert_eq!(r["duplicate"], false);
    assert_eq!(r["delivered_to"][0]["execution_id"], two.as_str());
    assert_eq!(r["delivered_to"][0]["task"], "paid");
    let x = s.finished(&two).await;
    assert_eq!(x["outputs"], json!({"amount": 20}));
    // The same event again: a duplicate, delivered nowhere again.
    let again = post(&s, &event("e2", 2)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()["duplicate"], true);
    // `one` still waits.
    let x = s.get(&format!("/api/executions/{one}")).await.json();
    assert_eq!(x["status"], "running");

    let listed = s.get("/api/events?type=payment.settled&limit=1").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let listed = listed.json();
    assert_eq!(listed["events"][0]["id"], "e2", "newest first");
    assert_eq!(listed["events"][0]["event"]["data"]["order"], 2);
    let cursor = listed["next_cursor"].as_str().expect("a next page");
    let next = s
        .get(&format!("/api/events?type=payment.settled&cursor={cursor}"))
        .await
        .json();
    assert_eq!(next["events"][0]["id"], "e1");
    for bad in ["nope", "", "9007199254740992"] {
        assert_error(
            &s.get(&format!("/api/events?cursor={bad}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    }
}

#[tokio::test]
async fn an_event_posted_many_times_at_once_is_delivered_once() {
    let s = server().await;
    assert_eq!(
        s.post_yaml("/api/workflows", SETTLE).await.status,
        StatusCode::CREATED
    );
    let id = waiting(&s, 7).await;
    let same = event("same", 7);
    let posts = (0..20).map(|_| post(&s, &same));
    let replies = futures::future::join_all(posts).await;
    let accepted = replies
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    let duplicates = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!((accepted, duplicates), (1, 19));
    let x = s.finished(&id).await;
    assert_eq!(x["status"], "succeeded");
    let history = s.get(&format!("/api/executions/{id}/events")).await.json();
    let received = history["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "signal_received")
        .count();
    assert_eq!(received, 1, "the task took the event once");
}

/// A binary-mode request (the CloudEvents HTTP binding): the attributes as `ce-*`
/// headers, the body as the data.
fn binary(id: &str, content_type: &str, body: Vec<u8>) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/events")
        .header("ce-specversion", "1.0")
        .header("ce-id", id)
        .header("ce-source", "shop")
        .header("ce-type", "payment.settled")
        .header("ce-tenant", "acme%20corp")
        .header("content-type", content_type)
        .body(axum::body::Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn binary_mode_events_are_the_same_events_as_structured_ones() {
    let s = server().await;
    assert_eq!(
        s.post_yaml("/api/workflows", SETTLE).await.status,
        StatusCode::CREATED
    );
    let id = waiting(&s, 4).await;

    // JSON data, in binary mode: delivered like a structured event.
    let r = s
        .send(binary(
            "b1",
            "application/json",
            br#"{"order": 4, "amount": 40}"#.to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json()["delivered_to"][0]["execution_id"], id.as_str());
    let x = s.get(&format!("/api/executions/{id}")).await.json();
    assert_eq!(x["outputs"], json!({"amount": 40}), "{x}");
    let got = &x["tasks"]["paid"]["output"];
    assert_eq!(got["tenant"], "acme corp", "{got}");
    assert_eq!(got["datacontenttype"], "application/json", "{got}");

    // The same (source, id) in structured mode is a duplicate of it.
    let r = post(&s, &event("b1", 4)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["duplicate"], true);

    // Any content type in binary mode: text is kept as text, bytes as base64.
    let r = s
        .send(binary("b2", "text/plain", b"settled".to_vec()))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let r = s
        .send(binary("b3", "application/octet-stream", vec![0xff, 0x00]))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let listed = s.get("/api/events?limit=2").await.json();
    assert_eq!(
        listed["events"][0]["event"]["data_base64"], "/wA=",
        "{listed}"
    );
    assert_eq!(listed["events"][1]["event"]["data"], "settled", "{listed}");

    // Binary mode with JSON that is not JSON, or a missing attribute: 422, nothing kept.
    let r = s
        .send(binary("b4", "application/json", b"{nope".to_vec()))
        .await;
    let e = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_event");
    assert_eq!(e["details"][0]["attribute"], "data", "{e}");
    let mut no_type = binary("b5", "text/plain", b"x".to_vec());
    no_type.headers_mut().remove("ce-type");
    let e = assert_error(
        &s.send(no_type).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_event",
    );
    assert_eq!(e["details"][0]["attribute"], "type", "{e}");
    let listed = s.get("/api/events?limit=10").await.json();
    assert_eq!(
        listed["events"].as_array().map(Vec::len),
        Some(3),
        "{listed}"
    );

    // Without `ce-*` headers, text/plain is still refused: no web page can post an
    // event behind a browser's back.
    let r = s
        .call(Method::POST, "/api/events", Some("text/plain"), "{}", None)
        .await;
    assert_error(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
}
