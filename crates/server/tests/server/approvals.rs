//! Approvals through the API: answers checked against the task's form and approvers,
//! refusals that change nothing, and the task's result.

use axum::http::{Method, StatusCode};
use harmonia_server::Role;
use serde_json::{Value, json};

use super::{Server, assert_error, server};

const DEPLOY: &str = "name: deploy
tasks:
  go:
    type: approval
    with:
      prompt: Deploy ${ $inputs.version }?
      approvers: {role: admin}
      form:
        type: object
        required: [reason]
        additionalProperties: false
        properties:
          reason: {type: string, minLength: 3}
          ticket: {type: integer}
  ship: {type: set, needs: [go], with: '${ $tasks.go.output.inputs.reason }'}
outputs: {shipped: '${ $tasks.ship.output }', by: '${ $tasks.go.output.by }'}
";

/// Starts `deploy` and waits until `go` waits for its answer.
async fn waiting(s: &Server) -> String {
    let created = s.post_yaml("/api/workflows", DEPLOY).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let started = s
        .post_json(
            "/api/workflows/deploy/execute",
            json!({"inputs": {"version": "2"}}),
        )
        .await
        .json();
    let id = started["execution_id"].as_str().expect("id").to_string();
    for _ in 0..500 {
        let x = s.get(&format!("/api/executions/{id}")).await.json();
        if x["tasks"]["go"]["waiting"].is_object() {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("`go` never waited");
}

async fn events(s: &Server, id: &str) -> usize {
    s.get(&format!("/api/executions/{id}/events")).await.json()["events"]
        .as_array()
        .map_or(0, Vec::len)
}

async fn answer(
    s: &Server,
    id: &str,
    verb: &str,
    body: Value,
    token: Option<&str>,
) -> super::Reply {
    s.call(
        Method::POST,
        &format!("/api/executions/{id}/tasks/go/{verb}"),
        Some("application/json"),
        &body.to_string(),
        token,
    )
    .await
}

#[tokio::test]
async fn the_execution_shows_what_it_waits_for_and_bad_answers_change_nothing() {
    let s = server().await;
    let id = waiting(&s).await;
    let x = s.get(&format!("/api/executions/{id}")).await.json();
    let w = &x["tasks"]["go"]["waiting"];
    assert_eq!(w["for"], "approval", "{x}");
    assert_eq!(w["prompt"], "Deploy 2?");
    assert_eq!(w["approvers"], json!({"role": "admin"}));
    assert!(w["form"]["properties"]["reason"].is_object());
    assert_eq!(
        w["links"]["approve"],
        format!("/api/executions/{id}/tasks/go/approve")
    );
    let before = events(&s, &id).await;

    // Every violation, and nothing recorded.
    let bad = answer(
        &s,
        &id,
        "approve",
        json!({"inputs": {"reason": "x", "ticket": "t", "extra": 1}}),
        None,
    )
    .await;
    let e = assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    assert_eq!(e["details"].as_array().map(Vec::len), Some(3), "{e}");
    let unknown = answer(&s, &id, "approve", json!({"input": {}}), None).await;
    assert_error(&unknown, StatusCode::BAD_REQUEST, "invalid_request");
    let not_json = s
        .call(
            Method::POST,
            &format!("/api/executions/{id}/tasks/go/approve"),
            Some("application/json"),
            "{",
            None,
        )
        .await;
    assert_error(&not_json, StatusCode::BAD_REQUEST, "invalid_request");
    let no_task = s
        .call(
            Method::POST,
            &format!("/api/executions/{id}/tasks/nope/approve"),
            Some("application/json"),
            "{}",
            None,
        )
        .await;
    assert_error(&no_task, StatusCode::NOT_FOUND, "not_found");
    let not_waiting = s
        .call(
            Method::POST,
            &format!("/api/executions/{id}/tasks/ship/approve"),
            Some("application/json"),
            "{}",
            None,
        )
        .await;
    assert_error(&not_waiting, StatusCode::CONFLICT, "not_waiting");
    let no_execution = answer(
        &s,
        "01a20b95-3770-719e-8ae1-f9888c382918",
        "approve",
        json!({}),
        None,
    )
    .await;
    assert_error(&no_execution, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(events(&s, &id).await, before, "nothing was recorded");

    let ok = answer(
        &s,
        &id,
        "approve",
        json!({"inputs": {"reason": "canary is green"}}),
        None,
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let ok = ok.json();
    assert_eq!(ok["task_status"], "succeeded");
    assert_eq!(ok["output"]["decision"], "approved");
    assert_eq!(ok["output"]["by"], "local");
    let x = s.finished(&id).await;
    assert_eq!(
        x["outputs"],
        json!({"shipped": "canary is green", "by": "local"})
    );
    assert!(x["tasks"]["go"]["waiting"].is_null());
    let again = answer(
        &s,
        &id,
        "reject",
        json!({"inputs": {"reason": "too late"}}),
        None,
    )
    .await;
    assert_error(&again, StatusCode::CONFLICT, "not_waiting");
}

#[tokio::test]
async fn a_rejection_fails_the_task_and_approvers_are_checked_by_role() {
    let s = server().await;
    let id = waiting(&s).await;
    let (admin, _) = harmonia_server::create_token(s.store.as_ref(), "root", Role::Admin)
        .await
        .expect("token");
    let (operator, _) = harmonia_server::create_token(s.store.as_ref(), "ops", Role::Operator)
        .await
        .expect("token");
    let (viewer, _) = harmonia_server::create_token(s.store.as_ref(), "eyes", Role::Viewer)
        .await
        .expect("token");
    let body = json!({"inputs": {"reason": "not today"}});
    let r = answer(&s, &id, "reject", body.clone(), Some(&viewer)).await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = answer(&s, &id, "reject", body.clone(), Some(&operator)).await;
    let e = assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("admin")),
        "{e}"
    );
    let r = answer(&s, &id, "reject", body, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = r.json();
    assert_eq!(r["task_status"], "failed");
    assert_eq!(r["error"]["class"], "rejected");
    assert_eq!(r["error"]["details"]["by"], "root");
    let x = s
        .call(
            Method::GET,
            &format!("/api/executions/{id}"),
            None,
            "",
            Some(&admin),
        )
        .await
        .json();
    let _ = x;
    for _ in 0..500 {
        let x = s
            .call(
                Method::GET,
                &format!("/api/executions/{id}"),
                None,
                "",
                Some(&admin),
            )
            .await
            .json();
        if x["status"] == "failed" {
            assert_eq!(x["tasks"]["ship"]["status"], "skipped");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the execution did not fail");
}
