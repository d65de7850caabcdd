//! The server-wide failure notification, end to end: `harmonia serve
//! --notify-failure-url` posts a Slack-compatible summary of a failed execution to a
//! real receiver on 127.0.0.1, tries again when the receiver fails, and says nothing of
//! an execution that succeeds. A URL that is not http(s) stops the server at start with
//! a clear message.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;

use super::served::Served;
use super::{harmonia, stderr};

type Seen = Arc<Mutex<Vec<Value>>>;

/// Refuses the first call with a 503, then takes every body.
async fn receive(State(seen): State<(Seen, Arc<Mutex<u32>>)>, body: String) -> StatusCode {
    let mut calls = seen.1.lock().expect("lock");
    *calls += 1;
    if *calls == 1 {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    seen.0
        .lock()
        .expect("lock")
        .push(serde_json::from_str(&body).expect("JSON"));
    StatusCode::OK
}

const WORKFLOWS: [&str; 2] = [
    "name: breaks
tasks:
  fine: {type: set, with: 1}
  boom: {type: set, needs: [fine], with: '${ error(\"the ledger is closed\") }'}
",
    "name: works
tasks:
  fine: {type: set, with: 1}
",
];

#[test]
fn a_failed_execution_is_summarized_to_the_configured_url() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let seen: Seen = Arc::default();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("binds");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state((seen.clone(), Arc::new(Mutex::new(0))));
    rt.spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("a temporary directory");
    let served = Served::start(&dir.path().join("n.db"), &["--notify-failure-url", &url]);
    let client = reqwest::Client::new();
    let mut failed = String::new();
    for (i, w) in WORKFLOWS.iter().enumerate() {
        let name = if i == 0 { "breaks" } else { "works" };
        rt.block_on(async {
            let r = client
                .post(format!("{}/api/workflows", served.base))
                .header("content-type", "application/yaml")
                .body(w.to_string())
                .send()
                .await
                .expect("created");
            assert_eq!(r.status(), 201);
            let r: Value = client
                .post(format!("{}/api/workflows/{name}/execute", served.base))
                .json(&serde_json::json!({"inputs": {}}))
                .send()
                .await
                .expect("started")
                .json()
                .await
                .expect("JSON");
            if i == 0 {
                failed = r["execution_id"].as_str().expect("id").to_string();
            }
        });
    }
    let since = Instant::now();
    while seen.lock().expect("lock").is_empty() && since.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // The `works` run has ended by now too; give a stray notification time to arrive.
    std::thread::sleep(Duration::from_millis(500));
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1, "one failure, one notification: {seen:?}");
    let n = &seen[0];
    assert_eq!(n["execution_id"], failed.as_str());
    assert_eq!(n["workflow"], "breaks");
    assert_eq!(n["status"], "failed");
    assert_eq!(n["error"]["task"], "boom");
    let text = n["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("`breaks`") && text.contains("the ledger is closed"),
        "{text}"
    );
    assert_eq!(n["link"], format!("/api/executions/{failed}"));
    served.terminate();

    let bad = harmonia(&[
        "serve",
        "--port",
        "0",
        "--db",
        dir.path().join("x.db").to_str().expect("utf-8"),
        "--notify-failure-url",
        "ftp://example.invalid/x",
    ]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("failure notification URL"),
        "{}",
        stderr(&bad)
    );
}
