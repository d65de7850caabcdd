//! Events stored but not routed when the process stopped (a crash between the two) are
//! routed at the next start: the task waiting for one takes it, the workflow its
//! trigger matches starts once, and routing again, or the event posted again, changes
//! nothing.

use harmonia_storage::json::RawJson;
use harmonia_storage::{ExecutionStatus, Timestamp};
use serde_json::{Map, json};

use super::{api, env, yaml};

const WAITS: &str = "name: waits
tasks:
  paid: {type: wait_event, with: {type: order.paid, timeout: 1h}}
outputs: {order: '${ $tasks.paid.output.data.order }'}
";

const STARTS: &str = "name: starts
inputs: {type: object, properties: {order: {type: integer}}}
triggers:
  - event: {type: order.paid, inputs: {order: '${ $event.data.order }'}}
tasks:
  a: {type: set, with: '${ $inputs.order }'}
";

#[tokio::test]
async fn an_event_stored_but_not_routed_is_routed_once_at_the_next_start() {
    let env = env().await;
    env.app
        .workflows()
        .create(&yaml(WAITS))
        .await
        .expect("created");
    env.app
        .workflows()
        .create(&yaml(STARTS))
        .await
        .expect("created");
    let waiting = env
        .app
        .executions()
        .start("waits", None, Map::new(), None, api())
        .await
        .expect("started")
        .execution;
    for _ in 0..500 {
        let tasks = env.store.task_runs(waiting).await.expect("tasks");
        if tasks.iter().any(|t| t.wait.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // What a crash between storing and routing leaves: the event in the inbox only.
    let event = json!({"specversion": "1.0", "id": "o-1", "source": "shop",
                       "type": "order.paid", "data": {"order": 7}});
    let raw = RawJson::to_raw(&event).expect("raw");
    env.store
        .receive("shop", "o-1", "order.paid", &raw, Timestamp::now())
        .await
        .expect("stored");

    assert_eq!(env.app.events().route_unrouted().await.expect("routes"), 1);
    assert_eq!(env.ended(waiting).await, ExecutionStatus::Succeeded);
    let started = env
        .store
        .executions(&harmonia_storage::ExecutionQuery {
            workflow: Some("starts".into()),
            ..Default::default()
        })
        .await
        .expect("listed");
    assert_eq!(started.len(), 1, "{started:?}");
    // Started by the trigger, recorded by its id (`GET /api/triggers`'s).
    assert_eq!(
        started[0].origin,
        Some(harmonia_storage::Origin::by(
            harmonia_storage::OriginKind::Event,
            "starts.0"
        ))
    );

    // Nothing is left to route; the same event posted again is a duplicate.
    assert_eq!(env.app.events().route_unrouted().await.expect("routes"), 0);
    let again = env.app.events().receive(event).await.expect("received");
    assert!(again.duplicate);
    let after = env
        .store
        .executions(&harmonia_storage::ExecutionQuery {
            workflow: Some("starts".into()),
            ..Default::default()
        })
        .await
        .expect("listed");
    assert_eq!(after.len(), 1);
}
