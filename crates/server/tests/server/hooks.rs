//! Webhooks through the API: deliveries signed the way GitHub and GitLab sign them
//! start their workflow once per delivery id; tampered, unsigned, unknown and paused
//! deliveries start nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use harmonia_engine::EngineConfig;
use harmonia_server::ApiConfig;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};

use super::{Server, assert_error, server_engine};

pub(super) const DEPLOY: &str = r#"name: deploy
inputs: {type: object, required: [repo], properties: {repo: {type: string}, by: {type: string}}}
triggers:
  - webhook:
      name: github-push
      verify: {preset: github, secret: "${ $secrets.GH_HOOK }"}
      dedup: ${ $request.headers["x-github-delivery"] }
      inputs: {repo: "${ $request.body.repository.full_name }", by: "${ $request.body.pusher.name }"}
  - webhook:
      name: gitlab
      verify: {preset: gitlab, secret: "${ $secrets.GL_TOKEN }"}
      inputs: {repo: "${ $request.body.project.path_with_namespace }"}
tasks:
  ship: {type: set, with: "${ $inputs.repo + \" by \" + ($inputs.by // \"?\") }"}
outputs: {shipped: "${ $tasks.ship.output }"}
"#;

pub(super) const SECRET: &str = "It's a Secret to Everybody";

pub(super) async fn hooked() -> Server {
    let mut engine = EngineConfig::default();
    engine.secrets.insert("GH_HOOK".into(), SECRET.into());
    engine.secrets.insert("GL_TOKEN".into(), "gl-token".into());
    let s = server_engine(
        tempfile::tempdir().expect("tempdir"),
        ApiConfig::default(),
        engine,
    )
    .await;
    let r = s.post_yaml("/api/workflows", DEPLOY).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    s
}

/// `X-Hub-Signature-256` as GitHub computes it: HMAC-SHA256 of the raw body.
pub(super) fn github_signature(secret: &str, body: &str) -> String {
    let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    m.update(body.as_bytes());
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

pub(super) fn push(delivery: &str, signature: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/hooks/github-push")
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", signature)
        .body(Body::from(body.to_string()))
        .expect("request")
}

pub(super) fn payload(repo: &str) -> String {
    json!({"repository": {"full_name": repo}, "pusher": {"name": "ada"}}).to_string()
}

#[tokio::test]
async fn a_signed_push_runs_once_per_delivery() {
    let s = hooked().await;
    let body = payload("acme/site");
    let sig = github_signature(SECRET, &body);

    let r = s.send(push("d-1", &sig, &body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let receipt = r.json();
    assert_eq!(receipt["trigger"], "deploy.0");
    assert_eq!(receipt["duplicate"], false);
    let id = receipt["execution_id"]
        .as_str()
        .expect("an execution")
        .to_string();
    assert_eq!(
        s.outputs_when_succeeded(&id).await,
        json!({"shipped": "acme/site by ada"})
    );

    // The same delivery again (GitHub redelivers): the first execution, nothing new.
    let r = s.send(push("d-1", &sig, &body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["execution_id"], id.as_str());
    assert_eq!(r.json()["duplicate"], true);
    // A new delivery of the same payload is a new run.
    let r = s.send(push("d-2", &sig, &body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(s.executions_of("deploy").await, 2);

    // Tampered body, wrong secret, no signature: 401, nothing started.
    let other = payload("evil/site");
    for req in [
        push("d-3", &sig, &other),
        push("d-4", &github_signature("guess", &body), &body),
        push("d-5", "", &body),
    ] {
        assert_error(
            &s.send(req).await,
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
        );
    }
    let mut unsigned = push("d-6", &sig, &body);
    unsigned.headers_mut().remove("x-hub-signature-256");
    let e = assert_error(
        &s.send(unsigned).await,
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("x-hub-signature-256"),
        "{e}"
    );
    assert!(!e.to_string().contains(SECRET));
    assert_eq!(s.executions_of("deploy").await, 2);

    // An unknown hook: 404.
    let mut unknown = push("d-7", &sig, &body);
    *unknown.uri_mut() = "/hooks/nope".parse().expect("uri");
    assert_error(&s.send(unknown).await, StatusCode::NOT_FOUND, "not_found");

    // Paused: 409 and nothing started, until resumed.
    let r = s.post_json("/api/triggers/deploy.0/pause", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_error(
        &s.send(push("d-8", &sig, &body)).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert_eq!(s.executions_of("deploy").await, 2);
    s.post_json("/api/triggers/deploy.0/resume", json!({}))
        .await;
    let r = s.send(push("d-8", &sig, &body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(s.executions_of("deploy").await, 3);
}

#[tokio::test]
async fn gitlab_sends_its_token_and_inputs_the_workflow_refuses_are_422() {
    let s = hooked().await;
    let gitlab = |token: &str, body: Value| {
        Request::builder()
            .method(Method::POST)
            .uri("/hooks/gitlab")
            .header("content-type", "application/json")
            .header("x-gitlab-token", token)
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let r = s
        .send(gitlab(
            "gl-token",
            json!({"project": {"path_with_namespace": "g/p"}}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = r.json()["execution_id"]
        .as_str()
        .expect("an execution")
        .to_string();
    assert_eq!(
        s.outputs_when_succeeded(&id).await,
        json!({"shipped": "g/p by ?"})
    );
    assert_error(
        &s.send(gitlab(
            "wrong",
            json!({"project": {"path_with_namespace": "g/p"}}),
        ))
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
    );
    // Verified, but the mapped `repo` is missing: the workflow refuses its inputs.
    let r = s.send(gitlab("gl-token", json!({"other": 1}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(s.executions_of("deploy").await, 1);
}
