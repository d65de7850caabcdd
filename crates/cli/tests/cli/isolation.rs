//! No execution can take the server down, now or at its next start. Each case aborted
//! the process before; with the execution unfinished in the database, every restart
//! aborted again (a crash loop).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::served::Served;

/// A nap that is committed, then an expression that built a value deep enough to
/// overflow the stack when it was dropped.
const DEEP_AFTER_A_NAP: &str = "name: deep-after-a-nap
tasks:
  nap: {type: sleep, with: {duration: 1500ms}}
  deep:
    type: set
    needs: [nap]
    with: {x: '${ reduce range(100000) as $i (0; [.]) | length }'}
";

const FINE: &str = "name: fine\ntasks:\n  a: {type: set, with: 1}\n  b: {type: set, needs: [a], with: 2}\noutputs:\n  b: ${ $tasks.b.output }\n";

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

async fn create(base: &str, yaml: &str) {
    let r = http()
        .post(format!("{base}/api/workflows"))
        .header("content-type", "application/yaml")
        .body(yaml.to_string())
        .send()
        .await
        .expect("answers");
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

async fn execute(base: &str, name: &str) -> String {
    let r = http()
        .post(format!("{base}/api/workflows/{name}/execute"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 201);
    let v: Value = r.json().await.expect("json");
    v["execution_id"].as_str().expect("an id").to_string()
}

/// Polls an execution until it ends; its record.
async fn ended(base: &str, id: &str) -> Value {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let x: Value = http()
            .get(format!("{base}/api/executions/{id}"))
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("json");
        if matches!(
            x["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            return x;
        }
        assert!(Instant::now() < until, "{id} did not end: {x}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_value_after_a_committed_nap_fails_its_execution_and_every_restart_serves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("h.db");
    let served = Served::start(&db, &[]);
    create(&served.base, DEEP_AFTER_A_NAP).await;
    create(&served.base, FINE).await;
    let id = execute(&served.base, "deep-after-a-nap").await;
    // Killed while it naps: the nap is committed, the deep task comes after a restart.
    tokio::time::sleep(Duration::from_millis(300)).await;
    served.kill();
    let served = Served::start(&db, &[]);
    let x = ended(&served.base, &id).await;
    assert_eq!(x["status"], "failed", "{x}");
    let message = x["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("nested more than 100 levels"), "{message}");
    // The server is still there, and runs the rest.
    let other = execute(&served.base, "fine").await;
    assert_eq!(
        ended(&served.base, &other).await["outputs"],
        json!({"b": 2})
    );
    // And it starts again.
    assert!(served.terminate().success());
    let served = Served::start(&db, &[]);
    assert_eq!(ended(&served.base, &id).await["status"], "failed");
    assert!(served.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bug_in_one_execution_fails_it_and_the_server_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("h.db");
    // A test-only fault: applying the success of task `b` panics, as a bug would.
    let env = [("HARMONIA_TEST_CRASH_AT", "panic_on:b")];
    let served = Served::start_with_env(&db, &[], &env);
    create(&served.base, FINE).await;
    create(
        &served.base,
        "name: other\ntasks:\n  a: {type: set, with: 1}\noutputs:\n  a: ${ $tasks.a.output }\n",
    )
    .await;
    let id = execute(&served.base, "fine").await;
    let x = ended(&served.base, &id).await;
    assert_eq!(x["status"], "failed", "{x}");
    let message = x["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("internal error"), "{message}");
    // Its unfinished task is not left running in the read model.
    let tasks = x["tasks"].to_string();
    assert!(!tasks.contains("\"running\""), "{tasks}");
    // Other executions run, and the server still answers.
    let other = execute(&served.base, "other").await;
    assert_eq!(ended(&served.base, &other).await["status"], "succeeded");
    assert!(served.terminate().success());
    // Nothing of it is left to trip the next start.
    let served = Served::start_with_env(&db, &[], &env);
    let other = execute(&served.base, "other").await;
    assert_eq!(ended(&served.base, &other).await["status"], "succeeded");
    assert!(served.terminate().success());
}
