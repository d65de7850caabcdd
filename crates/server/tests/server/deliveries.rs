//! Webhook deliveries through the API: every delivery to a hook is stored with its
//! verdict and its headers (credentials redacted); a verified one replays into a new
//! run, a forged one never does.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::hooks::{SECRET, github_signature, hooked, payload, push};
use super::{Server, assert_error};

async fn deliveries(s: &Server, query: &str) -> Value {
    let r = s
        .get(&format!("/api/triggers/deploy.0/deliveries{query}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

#[tokio::test]
async fn every_delivery_is_stored_with_its_verdict_and_replays_when_verified() {
    let s = hooked().await;
    let body = payload("acme/site");
    let sig = github_signature(SECRET, &body);
    let first = s.send(push("d-1", &sig, &body)).await.json();
    let again = s.send(push("d-1", &sig, &body)).await.json();
    let forged = payload("evil/site");
    s.send(push("d-2", &sig, &forged)).await;
    s.post_json("/api/triggers/deploy.0/pause", json!({})).await;
    s.send(push("d-3", &sig, &body)).await;
    // Regression: a delivery to a paused trigger was stored before its signature was
    // checked, so a forged one could be replayed once the trigger resumed.
    let forged_while_paused = s.send(push("d-4", &sig, &forged)).await;
    assert_eq!(forged_while_paused.status, StatusCode::UNAUTHORIZED);
    s.post_json("/api/triggers/deploy.0/resume", json!({}))
        .await;

    let page = deliveries(&s, "").await;
    let list = page["deliveries"].as_array().expect("deliveries");
    let verdicts: Vec<&str> = list
        .iter()
        .map(|d| d["verdict"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        verdicts,
        ["rejected", "paused", "rejected", "duplicate", "started"]
    );
    let verified: Vec<bool> = list
        .iter()
        .map(|d| d["verified"].as_bool().unwrap_or_default())
        .collect();
    assert_eq!(verified, [false, true, false, true, true]);
    let forged_paused = list[0].clone();
    let genuine_paused = list[1].clone();
    let list = &list[1..];
    assert_eq!(list[3]["id"], first["delivery"]);
    assert_eq!(list[3]["execution_id"], first["execution_id"]);
    assert_eq!(list[2]["execution_id"], first["execution_id"]);
    assert_eq!(again["delivery"], list[2]["id"]);
    let reason = list[1]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("signature"), "{reason}");
    // The signature is not kept; what identifies the delivery is.
    assert_eq!(list[3]["headers"]["x-hub-signature-256"], "[redacted]");
    assert_eq!(list[3]["headers"]["x-github-delivery"], "d-1");
    assert!(!page.to_string().contains(&sig), "{page}");
    // A listing leaves bodies out; reading one has it, exactly.
    assert_eq!(list[3]["body"], Value::Null);
    assert_eq!(list[3]["body_bytes"], body.len());
    let one = s
        .get(&format!("/api/deliveries/{}", list[3]["id"]))
        .await
        .json();
    assert_eq!(one["body"], body.as_str());

    // Paging: three at a time, newest first, every delivery once.
    let p1 = deliveries(&s, "?limit=3").await;
    let cursor = p1["next_cursor"].as_str().expect("more").to_string();
    let p2 = deliveries(&s, &format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(p2["deliveries"][0]["verdict"], "duplicate");
    assert_eq!(p2["next_cursor"], Value::Null);

    // A verified delivery replays: a new run, recorded as a replay.
    let r = s
        .post_json(
            &format!("/api/deliveries/{}/replay", list[3]["id"]),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let replay = r.json();
    assert_ne!(replay["execution_id"], first["execution_id"]);
    assert_eq!(replay["duplicate"], false);
    assert_eq!(
        s.outputs_when_succeeded(replay["execution_id"].as_str().unwrap_or_default())
            .await,
        json!({"shipped": "acme/site by ada"})
    );
    let newest = &deliveries(&s, "?limit=1").await["deliveries"][0];
    assert_eq!(newest["replay_of"], list[3]["id"]);
    assert_eq!(newest["verdict"], "started");

    // A forged delivery never replays, whoever clicks.
    let before = s.executions_of("deploy").await;
    let e = assert_error(
        &s.post_json(
            &format!("/api/deliveries/{}/replay", list[1]["id"]),
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("verification"),
        "{e}"
    );
    assert_eq!(s.executions_of("deploy").await, before);
    let r = s
        .post_json(
            &format!("/api/deliveries/{}/replay", forged_paused["id"]),
            json!({}),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    assert_eq!(s.executions_of("deploy").await, before);
    // A genuine delivery that arrived while the trigger was paused replays once it
    // is resumed.
    let r = s
        .post_json(
            &format!("/api/deliveries/{}/replay", genuine_paused["id"]),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);

    // Unknown ones: 404; a bad cursor: 400.
    assert_error(
        &s.get("/api/deliveries/999999").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.post_json("/api/deliveries/999999/replay", json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.get("/api/triggers/nope.0/deliveries").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.get("/api/triggers/deploy.0/deliveries?cursor=x").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

/// Regression: a delivery whose hook's secret is not set could not be checked, was
/// stored as `failed`, and could be replayed as though it had proved its sender.
#[tokio::test]
async fn a_delivery_that_could_not_be_verified_never_replays() {
    // No GH_HOOK secret: nothing can verify a delivery to `github-push`.
    let s = super::server_engine(
        tempfile::tempdir().expect("tempdir"),
        harmonia_server::ApiConfig::default(),
        harmonia_engine::EngineConfig::default(),
    )
    .await;
    let r = s.post_yaml("/api/workflows", super::hooks::DEPLOY).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let body = payload("acme/site");
    let r = s
        .send(push("d-1", &github_signature("anything", &body), &body))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let page = deliveries(&s, "").await;
    let stored = &page["deliveries"][0];
    assert_eq!(stored["verdict"], "failed");
    assert_eq!(stored["verified"], false);
    let r = s
        .post_json(
            &format!("/api/deliveries/{}/replay", stored["id"]),
            json!({}),
        )
        .await;
    let e = assert_error(&r, StatusCode::CONFLICT, "conflict");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("verification"),
        "{e}"
    );
    assert_eq!(s.executions_of("deploy").await, 0);
}
