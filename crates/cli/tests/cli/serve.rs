//! `harmonia serve` as a user meets it: the real binary on a SQLite file, auth on, curl-
//! like requests and a WebSocket over 127.0.0.1, SIGTERM, and a restart on the same
//! database.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::harmonia;
use super::served::{Served, delete_token, token, token_and_id};

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.expect("the server answers");
    let status = r.status().as_u16();
    let text = r.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

const NAPS: &str = "\
name: naps
description: Two naps and a note, slow enough to pause, resume and cancel.
tasks:
  first:
    type: sleep
    with: { duration: 400ms }
  second:
    type: sleep
    needs: [first]
    with: { duration: 30s }
  note:
    type: set
    needs: [second]
    with: { done: true }
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_drives_an_execution_through_the_api_with_auth_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("harmonia.db");
    let admin = token(&db, "admin");
    let viewer = token(&db, "viewer");
    let served = Served::start(&db, &[]);
    let base = served.base.clone();
    let http = client();

    // Without a token, or with too low a role, nothing happens.
    let (status, body) = send(http.get(format!("{base}/api/workflows"))).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = send(
        http.post(format!("{base}/api/workflows"))
            .bearer_auth(&viewer)
            .header("content-type", "application/yaml")
            .body(NAPS),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");

    // POST the YAML, execute it.
    let (status, body) = send(
        http.post(format!("{base}/api/workflows"))
            .bearer_auth(&admin)
            .header("content-type", "application/yaml")
            .body(NAPS),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, started) = send(
        http.post(format!("{base}/api/workflows/naps/execute"))
            .bearer_auth(&admin)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    let id = started["execution_id"].as_str().expect("an id").to_string();
    assert_eq!(
        started["links"]["websocket"],
        json!(format!("/ws/executions/{id}"))
    );

    // Watch it over a WebSocket (a browser passes the token in the query).
    let ws_url = format!(
        "{}/ws/executions/{id}?token={admin}",
        base.replacen("http", "ws", 1)
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("the socket opens");
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_secs(20), socket.next()).await
        {
            if let Message::Text(t) = m {
                seen.push(serde_json::from_str::<Value>(&t).expect("json messages"));
            }
        }
        seen
    });

    // Wait for the long nap, then pause, resume and cancel.
    let act = |what: &'static str| {
        let http = http.clone();
        let url = format!("{base}/api/executions/{id}/{what}");
        let admin = admin.clone();
        async move { send(http.post(url).bearer_auth(admin).json(&json!({}))).await }
    };
    let mut second_running = false;
    for _ in 0..100 {
        let (_, x) = send(
            http.get(format!("{base}/api/executions/{id}"))
                .bearer_auth(&viewer),
        )
        .await;
        if x["tasks"]["second"]["status"] == "running" {
            second_running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(second_running, "the second nap started");
    let (status, body) = act("pause").await;
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("paused")),
        "{body}"
    );
    let (status, body) = act("pause").await;
    assert_eq!(status, 409, "pausing twice: {body}");
    let (status, body) = act("resume").await;
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("running")),
        "{body}"
    );
    let (status, body) = act("cancel").await;
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("cancelled")),
        "{body}"
    );
    let (status, body) = act("resume").await;
    assert_eq!(status, 409, "resuming a cancelled execution: {body}");

    // The socket saw the snapshot, the events in order, and the end.
    let seen = watcher.await.expect("the watcher ends");
    assert_eq!(
        seen.first().map(|m| m["type"].clone()),
        Some(json!("snapshot"))
    );
    assert_eq!(
        seen.last().map(|m| m["type"].clone()),
        Some(json!("finished"))
    );
    assert_eq!(
        seen.last().map(|m| m["execution"]["status"].clone()),
        Some(json!("cancelled"))
    );
    let kinds: Vec<&str> = seen
        .iter()
        .filter(|m| m["type"] == "event")
        .filter_map(|m| m["kind"].as_str())
        .collect();
    for kind in ["paused", "resumed", "execution_cancelled"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }

    // The history holds the same story.
    let (status, history) = send(
        http.get(format!("{base}/api/executions/{id}/events"))
            .bearer_auth(&viewer),
    )
    .await;
    assert_eq!(status, 200, "{history}");
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    let order: Vec<usize> = [
        "execution_started",
        "paused",
        "resumed",
        "execution_cancelled",
    ]
    .iter()
    .map(|k| kinds.iter().position(|x| x == k).unwrap_or(usize::MAX))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{kinds:?}");

    // SIGTERM stops it cleanly; a restart on the same file has everything.
    let status = served.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let served = Served::start(&db, &[]);
    let base = served.base.clone();
    let (status, x) = send(
        http.get(format!("{base}/api/executions/{id}"))
            .bearer_auth(&viewer),
    )
    .await;
    assert_eq!(
        (status, x["status"].clone()),
        (200, json!("cancelled")),
        "{x}"
    );
    let (status, w) = send(
        http.get(format!("{base}/api/workflows/naps"))
            .bearer_auth(&viewer),
    )
    .await;
    assert_eq!((status, w["name"].clone()), (200, json!("naps")), "{w}");
}

#[test]
fn without_a_token_it_refuses_to_listen_beyond_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("harmonia.db");
    let db = db.to_str().expect("utf-8 path");
    let out = harmonia(&["serve", "--db", db, "--bind", "0.0.0.0", "--port", "0"]);
    assert!(!out.status.success());
    let err = super::stderr(&out);
    assert!(
        err.contains("--insecure") && err.contains("token create"),
        "{err}"
    );
}

const TINY: &str = "name: tiny\ntasks:\n  a: {type: set, with: 1}\n";

/// An unauthenticated attempt to create a workflow: its status and body.
async fn create_without_a_token(http: &reqwest::Client, base: &str) -> (u16, Value) {
    send(
        http.post(format!("{base}/api/workflows"))
            .header("content-type", "application/yaml")
            .body(TINY),
    )
    .await
}

/// Regression: `serve --bind 0.0.0.0` with one token, `harmonia token delete` it, and
/// an unauthenticated POST /api/workflows answered 201; the deleted token itself kept
/// working for 2 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_last_token_closes_a_network_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("harmonia.db");
    let (admin, id) = token_and_id(&db, "admin");
    let served = Served::start(&db, &["--bind", "0.0.0.0"]);
    let base = served.base.clone();
    let http = client();
    let list = |t: &str| http.get(format!("{base}/api/workflows")).bearer_auth(t);
    let (status, body) = send(list(&admin)).await;
    assert_eq!(status, 200, "{body}");

    delete_token(&db, &id);
    // The very next request with the deleted token is refused.
    let (status, body) = send(list(&admin)).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = create_without_a_token(&http, &base).await;
    assert_eq!(status, 401, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("harmonia token create"), "{body}");
    // Still closed later (no cache runs out), and nothing was created.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = create_without_a_token(&http, &base).await;
    assert_eq!(status, 401, "{body}");
    let viewer = token(&db, "viewer");
    let (status, body) = send(list(&viewer)).await;
    assert_eq!(
        (status, body["workflows"].clone()),
        (200, json!([])),
        "{body}"
    );
}

/// A loopback server that has had a token never opens again: not after the delete,
/// not after a restart, not with `--insecure` on every address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_had_a_token_stays_closed_after_a_delete_and_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("harmonia.db");
    let http = client();
    let served = Served::start(&db, &[]);
    let (status, body) = send(http.get(format!("{}/api/workflows", served.base))).await;
    assert_eq!(status, 200, "open before any token: {body}");
    let (_, id) = token_and_id(&db, "admin");
    let (status, body) = create_without_a_token(&http, &served.base).await;
    assert_eq!(status, 401, "{body}");
    delete_token(&db, &id);
    let (status, body) = create_without_a_token(&http, &served.base).await;
    assert_eq!(status, 401, "{body}");

    assert!(served.terminate().success());
    let served = Served::start(&db, &[]);
    let (status, body) = create_without_a_token(&http, &served.base).await;
    assert_eq!(status, 401, "after a restart: {body}");
    assert!(served.terminate().success());

    let served = Served::start(&db, &["--bind", "0.0.0.0", "--insecure"]);
    let (status, body) = create_without_a_token(&http, &served.base).await;
    assert_eq!(status, 401, "with --insecure: {body}");
}

/// The line `harmonia serve ARGS` prints when it listens (it is then killed), or its
/// error when it does not start.
fn listening_line(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> String {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_harmonia"))
        .arg("serve")
        .args(["--port", "0"])
        .args(args)
        .envs(env.iter().copied())
        .env_remove("HARMONIA_DB")
        .env_remove("HARMONIA_PORT")
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("text");
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("listening on") {
            let _ = child.kill();
            let _ = child.wait();
            return line;
        }
    }
    let _ = child.wait();
    seen
}

#[test]
fn durability_comes_from_the_config_file_the_environment_and_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(listening_line(&[], &[], d).ends_with("durability: process)"));
    std::fs::write(d.join("harmonia.toml"), "durability = \"fsync\"\n").expect("write");
    assert!(listening_line(&[], &[], d).ends_with("durability: fsync)"));
    // The environment overrides the file, the flag both.
    let env = [("HARMONIA_DURABILITY", "process")];
    assert!(listening_line(&[], &env, d).ends_with("durability: process)"));
    let line = listening_line(&["--durability", "fsync"], &env, d);
    assert!(line.ends_with("durability: fsync)"), "{line}");
    // A value that is neither is refused, naming the choices.
    std::fs::write(d.join("harmonia.toml"), "durability = \"disk\"\n").expect("write");
    let err = listening_line(&[], &[], d);
    assert!(err.contains("process") && err.contains("fsync"), "{err}");
}

/// Regression: with its stderr a closed pipe (`harmonia serve 2>&1 | grep -m1
/// listening`), SIGTERM did not stop the server: logging "shutting down" to the closed
/// pipe panicked the task that was to stop it.
#[test]
fn sigterm_stops_the_server_when_its_stderr_is_closed() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    // stdout and stderr on one pipe, as `2>&1 |` makes them.
    let mut child = std::process::Command::new("sh")
        .args(["-c", "exec \"$0\" serve --port 0 --db \"$1\" 2>&1"])
        .arg(env!("CARGO_BIN_EXE_harmonia"))
        .arg(dir.path().join("h.db"))
        .env_remove("HARMONIA_DB")
        .env_remove("HARMONIA_PORT")
        .env_remove("RUST_LOG")
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the server starts");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let listening = lines.any(|l| l.is_ok_and(|l| l.contains("listening on")));
    assert!(listening, "the server did not say it listens");
    // Close the reading end, as `grep -m1` does once it has its line.
    drop(lines);
    // What the server logs from now on meets a closed pipe.
    std::thread::sleep(Duration::from_millis(1500));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.is_some(),
        "SIGTERM did not stop the server within 15 s"
    );
}

/// Regression: a server on SQLite killed with SIGKILL and started again waited for its
/// predecessor's lease (10 s) before resuming the executions it had left: a server on
/// SQLite is the only one, so it takes them all at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_sqlite_restarted_after_sigkill_resumes_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("h.db");
    let served = Served::start(&db, &[]);
    let http = client();
    let (status, body) = send(
        http.post(format!("{}/api/workflows", served.base))
            .header("content-type", "application/yaml")
            .body("name: nap\ntasks:\n  nap: {type: sleep, with: {duration: 1s}}\n  done: {type: set, needs: [nap], with: 1}\n"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, started) = send(
        http.post(format!("{}/api/workflows/nap/execute", served.base))
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    let id = started["execution_id"].as_str().expect("an id").to_string();
    served.kill();

    let restarted = std::time::Instant::now();
    let served = Served::start(&db, &[]);
    loop {
        let (_, x) = send(http.get(format!("{}/api/executions/{id}", served.base))).await;
        if x["status"] == "succeeded" {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(6),
            "not resumed 6 s after the restart: {x}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, health) = send(http.get(format!("{}/health", served.base))).await;
    assert!(health["node"]["lease_ms"].is_null(), "{health}");
}

/// Regression: a server stopped with SIGTERM left its WAL beside the database (the last
/// checkpoint raced the exit), so a copy of the file alone missed the last executions;
/// `harmonia token` left its token in the WAL the same way. Each now closes the
/// database before it exits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_leaves_everything_in_the_database_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("h.db");
    let wal = dir.path().join("h.db-wal");
    let (token, _) = token_and_id(&db, "admin");
    let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        left, 0,
        "`harmonia token create` left {left} bytes in the WAL"
    );
    let served = Served::start(&db, &[]);
    let http = client();
    let (status, body) = send(
        http.post(format!("{}/api/workflows", served.base))
            .bearer_auth(&token)
            .header("content-type", "application/yaml")
            .body("name: one\ntasks:\n  a: {type: set, with: 1}\n"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, started) = send(
        http.post(format!("{}/api/workflows/one/execute", served.base))
            .bearer_auth(&token)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    let id = started["execution_id"].as_str().expect("an id").to_string();
    let since = std::time::Instant::now();
    loop {
        let (_, x) = send(
            http.get(format!("{}/api/executions/{id}", served.base))
                .bearer_auth(&token),
        )
        .await;
        if x["status"] == "succeeded" {
            break;
        }
        assert!(since.elapsed() < Duration::from_secs(10), "{x}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served.terminate().success());
    let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(left, 0, "the stopped server left {left} bytes in the WAL");
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).expect("dir");
    std::fs::copy(&db, copy.join("h.db")).expect("copy");
    use harmonia_storage::prelude::*;
    let store = harmonia_storage_sql::SqliteStore::open(&copy.join("h.db"), Default::default())
        .await
        .expect("open");
    let x = store
        .execution(id.parse().expect("an execution id"))
        .await
        .expect("read")
        .expect("the execution is in the copy");
    assert_eq!(x.status, harmonia_storage::ExecutionStatus::Succeeded);
}
