//! `harmonia trigger` against a real `harmonia serve`: list, show, pause and resume a
//! workflow's event trigger, and check with a posted event that a paused trigger starts
//! nothing and a resumed one starts its workflow.

use std::process::{Command, Output};

use serde_json::{Value, json};

use super::served::Served;
use super::{ok, stderr};

const FULFIL: &str = "name: fulfil
inputs: {type: object, required: [order], properties: {order: {type: integer}}}
triggers:
  - event: {type: order.paid, filter: '${ $event.data.total > 100 }', inputs: {order: '${ $event.data.order }'}}
tasks:
  pack: {type: set, with: '${ $inputs.order }'}
";

fn trigger(served: &Served, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .arg("trigger")
        .args(args)
        .args(["--server", &served.base])
        .env_remove("HARMONIA_SERVER")
        .env_remove("HARMONIA_TOKEN")
        .output()
        .expect("the binary runs")
}

/// POSTs `body` with `content_type` and returns the status and the JSON answer.
fn post(url: &str, content_type: &str, body: String) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    })
}

fn paid(served: &Served, id: &str) -> Value {
    let event = json!({"specversion": "1.0", "id": id, "source": "shop", "type": "order.paid",
                       "data": {"order": 3, "total": 500}});
    let (status, receipt) = post(
        &format!("{}/api/events", served.base),
        "application/json",
        event.to_string(),
    );
    assert_eq!(status, 202, "{receipt}");
    receipt
}

#[test]
fn triggers_are_listed_paused_and_resumed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let served = Served::start(&dir.path().join("t.db"), &[]);
    let (status, created) = post(
        &format!("{}/api/workflows", served.base),
        "application/yaml",
        FULFIL.to_string(),
    );
    assert_eq!(status, 201, "{created}");

    let listed = ok(&trigger(&served, &["list"]));
    let line = listed
        .lines()
        .find(|l| l.starts_with("fulfil.0"))
        .unwrap_or_else(|| panic!("no fulfil.0 in:\n{listed}"));
    for part in [
        "fulfil",
        "event",
        "active",
        "order.paid if ${ $event.data.total > 100 }",
    ] {
        assert!(line.contains(part), "{part} not in {line}");
    }

    let paused = ok(&trigger(&served, &["pause", "fulfil.0"]));
    assert!(paused.starts_with("fulfil.0 paused since "), "{paused}");
    let receipt = paid(&served, "e1");
    assert_eq!(receipt["started"][0]["paused"], true, "{receipt}");
    let json: Value =
        serde_json::from_str(&ok(&trigger(&served, &["list", "--json"]))).expect("JSON");
    assert!(json[0]["paused_since"].is_string(), "{json}");

    let missing = trigger(&served, &["show", "fulfil.9"]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("no trigger `fulfil.9`"),
        "{}",
        stderr(&missing)
    );

    let resumed = ok(&trigger(&served, &["resume", "fulfil.0"]));
    assert_eq!(resumed.trim(), "fulfil.0 active");
    let receipt = paid(&served, "e2");
    assert!(
        receipt["started"][0]["execution_id"].is_string(),
        "{receipt}"
    );
    let shown: Value =
        serde_json::from_str(&ok(&trigger(&served, &["show", "fulfil.0"]))).expect("JSON");
    assert_eq!(shown["paused"], false, "{shown}");
}

const LOCAL_HOOK: &str = "name: build
inputs: {type: object, required: [branch], properties: {branch: {type: string}}}
triggers:
  - webhook: {name: local-build, verify: {preset: none}, inputs: {branch: '${ $request.body.ref }'}}
tasks:
  go: {type: set, with: '${ $inputs.branch }'}
";

#[test]
fn a_webhooks_deliveries_are_listed_and_one_is_replayed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let served = Served::start(&dir.path().join("t.db"), &[]);
    let (status, created) = post(
        &format!("{}/api/workflows", served.base),
        "application/yaml",
        LOCAL_HOOK.to_string(),
    );
    assert_eq!(status, 201, "{created}");
    let listed = ok(&trigger(&served, &["list"]));
    assert!(listed.contains("POST /hooks/local-build"), "{listed}");

    let hook = format!("{}/hooks/local-build", served.base);
    let (status, first) = post(&hook, "application/json", r#"{"ref": "main"}"#.into());
    assert_eq!(status, 202, "{first}");
    let (status, bad) = post(&hook, "application/json", r#"{"no": "ref"}"#.into());
    assert_eq!(status, 422, "{bad}");

    let table = ok(&trigger(&served, &["deliveries", "build.0"]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID"), "{table}");
    assert!(lines[1].contains("invalid"), "{table}");
    assert!(lines[2].contains("started"), "{table}");
    assert!(
        lines[2].contains(first["execution_id"].as_str().unwrap_or("?")),
        "{table}"
    );

    let delivery = first["delivery"].to_string();
    let replayed = ok(&trigger(&served, &["replay", &delivery]));
    assert_eq!(replayed.trim().len(), 36, "{replayed}");
    assert_ne!(
        replayed.trim(),
        first["execution_id"].as_str().unwrap_or("")
    );
    let page: Value = serde_json::from_str(&ok(&trigger(
        &served,
        &["deliveries", "build.0", "--limit", "1", "--json"],
    )))
    .expect("JSON");
    assert_eq!(
        page["deliveries"][0]["replay_of"], first["delivery"],
        "{page}"
    );
    assert_eq!(page["deliveries"][0]["execution_id"], replayed.trim());
}

#[test]
fn a_schedule_is_listed_with_its_pattern_and_backfilled_from_the_command_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let served = Served::start(&dir.path().join("t.db"), &[]);
    let (status, created) = post(
        &format!("{}/api/workflows", served.base),
        "application/yaml",
        "name: nightly
triggers:
  - schedule: {cron: '0 2 * * *', timezone: America/New_York}
tasks:
  a: {type: set, with: 1}
"
        .to_string(),
    );
    assert_eq!(status, 201, "{created}");
    let listed = ok(&trigger(&served, &["list"]));
    assert!(listed.contains("0 2 * * * America/New_York"), "{listed}");
    let out = ok(&trigger(
        &served,
        &[
            "backfill",
            "nightly.0",
            "--from",
            "2026-11-01T00:00:00Z",
            "--to",
            "2026-11-02T23:00:00Z",
        ],
    ));
    let lines: Vec<&str> = out.lines().collect();
    // The clocks went back from 02:00 EDT to 01:00 EST on the 1st: 02:00 came once,
    // in EST, both days.
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("2026-11-01T07:00:00Z ") && lines[0].ends_with(" started"),
        "{out}"
    );
    assert!(lines[1].starts_with("2026-11-02T07:00:00Z "), "{out}");
    let bad = trigger(
        &served,
        &[
            "backfill",
            "nightly.0",
            "--from",
            "soon",
            "--to",
            "2026-11-02T23:00:00Z",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("`from`"), "{}", stderr(&bad));
}
