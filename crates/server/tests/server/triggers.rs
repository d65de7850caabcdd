//! Event triggers through the API: a posted CloudEvent starts the workflows whose
//! `event` trigger it matches, once per event, with the inputs the trigger maps; what
//! each trigger did is in the event's receipt.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Server, server};

const FULFIL: &str = "name: fulfil
inputs: {type: object, required: [order], properties: {order: {type: integer}, rush: {type: boolean}}}
triggers:
  - event:
      type: order.paid
      source: shop
      filter: ${ $event.data.total > 100 }
      inputs: {order: '${ $event.data.order }', rush: '${ $event.data.total > 1000 }'}
  - event:
      type: order.rush
      inputs: {order: '${ $event.data.order }'}
tasks:
  pack: {type: set, with: '${ {order: $inputs.order, rush: ($inputs.rush // false)} }'}
outputs: {packed: '${ $tasks.pack.output }'}
";

fn event(id: &str, ty: &str, source: &str, data: Value) -> Value {
    json!({"specversion": "1.0", "id": id, "source": source, "type": ty, "data": data})
}

async fn post(s: &Server, body: &Value) -> super::Reply {
    s.call(
        Method::POST,
        "/api/events",
        Some("application/json"),
        &body.to_string(),
        None,
    )
    .await
}

#[tokio::test]
async fn a_matching_event_starts_the_workflow_once_with_the_mapped_inputs() {
    let s = server().await;
    let r = s.post_yaml("/api/workflows", FULFIL).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Matches the first trigger: started with the inputs it maps.
    let r = post(
        &s,
        &event(
            "o1",
            "order.paid",
            "shop",
            json!({"order": 7, "total": 2000}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let receipt = r.json();
    let started = receipt["started"].as_array().cloned().unwrap_or_default();
    assert_eq!(started.len(), 1, "{receipt}");
    assert_eq!(started[0]["workflow"], "fulfil");
    assert_eq!(started[0]["trigger"], 0);
    let id = started[0]["execution_id"]
        .as_str()
        .expect("an execution")
        .to_string();
    assert_eq!(
        s.outputs_when_succeeded(&id).await,
        json!({"packed": {"order": 7, "rush": true}})
    );

    // The same event again: a duplicate, nothing more started.
    let r = post(
        &s,
        &event(
            "o1",
            "order.paid",
            "shop",
            json!({"order": 7, "total": 2000}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["started"][0]["execution_id"], id.as_str());
    assert_eq!(s.executions_of("fulfil").await, 1);

    // The filter is false, the source is another, the type matches no trigger: nothing.
    for e in [
        event("o2", "order.paid", "shop", json!({"order": 8, "total": 5})),
        event(
            "o3",
            "order.paid",
            "elsewhere",
            json!({"order": 9, "total": 500}),
        ),
        event(
            "o4",
            "order.created",
            "shop",
            json!({"order": 10, "total": 500}),
        ),
    ] {
        let r = post(&s, &e).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        assert_eq!(r.json()["started"], json!([]), "{}", r.text);
    }
    assert_eq!(s.executions_of("fulfil").await, 1);

    // Inputs the workflow refuses: the event is kept, the receipt says why.
    let r = post(
        &s,
        &event("o5", "order.rush", "any", json!({"order": "seven"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let receipt = r.json();
    let why = receipt["started"][0]["error"].as_str().unwrap_or_default();
    assert!(why.contains("order"), "{receipt}");
    assert_eq!(s.executions_of("fulfil").await, 1);

    // The second trigger, from any source.
    let r = post(&s, &event("o6", "order.rush", "any", json!({"order": 11}))).await;
    let receipt = r.json();
    assert_eq!(receipt["started"][0]["trigger"], 1, "{receipt}");
    let id = receipt["started"][0]["execution_id"]
        .as_str()
        .expect("an execution")
        .to_string();
    assert_eq!(
        s.outputs_when_succeeded(&id).await,
        json!({"packed": {"order": 11, "rush": false}})
    );
}

#[tokio::test]
async fn an_event_posted_many_times_at_once_starts_its_workflow_once() {
    let s = server().await;
    assert_eq!(
        s.post_yaml("/api/workflows", FULFIL).await.status,
        StatusCode::CREATED
    );
    let e = event(
        "burst",
        "order.paid",
        "shop",
        json!({"order": 1, "total": 200}),
    );
    let posts = (0..20).map(|_| post(&s, &e));
    let replies = futures::future::join_all(posts).await;
    // A duplicate answered while the first receipt is still being routed shows no
    // deliveries yet (`routed_at` is null); every reply that shows a start shows the
    // same execution, and there is one.
    let mut ids = std::collections::HashSet::new();
    for r in &replies {
        let receipt = r.json();
        match receipt["started"][0]["execution_id"].as_str() {
            Some(id) => {
                ids.insert(id.to_string());
            }
            None => assert!(receipt["routed_at"].is_null(), "{receipt}"),
        }
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(s.executions_of("fulfil").await, 1);
}

#[tokio::test]
async fn triggers_are_listed_and_a_paused_one_starts_nothing_until_resumed() {
    let s = server().await;
    assert_eq!(
        s.post_yaml("/api/workflows", FULFIL).await.status,
        StatusCode::CREATED
    );
    let listed = s.get("/api/triggers").await.json();
    let ids: Vec<&str> = listed["triggers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(ids, ["fulfil.0", "fulfil.1"], "{listed}");
    let one = s.get("/api/triggers/fulfil.0").await.json();
    assert_eq!(one["kind"], "event");
    assert_eq!(one["definition"]["type"], "order.paid");
    assert_eq!(one["paused"], false);
    for missing in [
        "/api/triggers/fulfil.7",
        "/api/triggers/nope.0",
        "/api/triggers/fulfil",
    ] {
        let r = s.get(missing).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{missing}: {}", r.text);
    }
    let r = s.post_json("/api/triggers/fulfil.9/pause", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    let paused = s.post_json("/api/triggers/fulfil.0/pause", json!({})).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    let since = paused.json()["paused_since"].clone();
    assert!(since.is_string(), "{}", paused.text);
    // Pausing again keeps the first time.
    let again = s
        .post_json("/api/triggers/fulfil.0/pause", json!({}))
        .await
        .json();
    assert_eq!(again["paused_since"], since);

    let r = post(
        &s,
        &event(
            "p1",
            "order.paid",
            "shop",
            json!({"order": 1, "total": 500}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(
        r.json()["started"],
        json!([{"workflow": "fulfil", "trigger": 0, "paused": true}])
    );
    assert_eq!(s.executions_of("fulfil").await, 0);

    let resumed = s
        .post_json("/api/triggers/fulfil.0/resume", json!({}))
        .await
        .json();
    assert_eq!(resumed["paused"], false, "{resumed}");
    let r = post(
        &s,
        &event(
            "p2",
            "order.paid",
            "shop",
            json!({"order": 2, "total": 500}),
        ),
    )
    .await;
    assert!(
        r.json()["started"][0]["execution_id"].is_string(),
        "{}",
        r.text
    );
    assert_eq!(s.executions_of("fulfil").await, 1);
}
