//! The server as clients use it: router tests with `oneshot` on a real engine and a
//! real SQLite file, the auth matrix, and a WebSocket over a real socket.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use harmonia_engine::kinds::{Kinds, KindsConfig};
use harmonia_engine::{EngineConfig, Plans};
use harmonia_server::{ApiConfig, AppState, Role};
use harmonia_storage::Store;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

mod analytics;
mod approvals;
mod assist;
mod components;
mod deliveries;
mod designer_api;
mod events;
mod handlers;
mod hooks;
mod idempotency;
mod inputs;
mod mcp;
mod origins;
mod schedules;
mod security;
mod templates;
mod triggers;
mod ui;
mod workers;

struct Server {
    app: Router,
    store: Arc<dyn Store>,
    dir: tempfile::TempDir,
}

async fn server_with(config: ApiConfig) -> Server {
    server_in(tempfile::tempdir().expect("tempdir"), config).await
}

/// A server on the database `s.db` in `dir` (which may hold one already: a restart).
async fn server_in(dir: tempfile::TempDir, config: ApiConfig) -> Server {
    server_engine(dir, config, EngineConfig::default()).await
}

/// [`server_in`] with these engine settings (secrets, say).
async fn server_engine(dir: tempfile::TempDir, config: ApiConfig, engine: EngineConfig) -> Server {
    server_model(dir, config, engine, None).await
}

/// [`server_engine`] whose assistant asks `llm`.
async fn server_model(
    dir: tempfile::TempDir,
    config: ApiConfig,
    engine: EngineConfig,
    llm: Option<Arc<dyn harmonia_llm::Provider>>,
) -> Server {
    let store: Arc<dyn Store> = Arc::new(
        harmonia_storage_sql::SqliteStore::open(&dir.path().join("s.db"), Default::default())
            .await
            .expect("store"),
    );
    let kinds = Kinds::builtin(&KindsConfig::default());
    let plans = Arc::new(Plans::new(store.clone(), kinds.task_types().clone(), None));
    let (handle, _join) = harmonia_engine::spawn(engine, store.clone(), plans, kinds)
        .await
        .expect("engine");
    let mut app = harmonia_app::App::new(handle);
    if let Some(llm) = llm {
        app = app.with_llm(llm);
    }
    let state = AppState::with_app(app, config, None);
    Server {
        app: harmonia_server::app(state),
        store,
        dir,
    }
}

async fn server() -> Server {
    server_with(ApiConfig::default()).await
}

struct Reply {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl Server {
    /// The outputs of execution `id` once it has succeeded (it must, within 5 s).
    async fn outputs_when_succeeded(&self, id: &str) -> Value {
        for _ in 0..500 {
            let x = self.get(&format!("/api/executions/{id}")).await.json();
            if x["status"] == "succeeded" {
                return x["outputs"].clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("execution {id} did not succeed");
    }

    /// How many executions of `workflow` there are (up to 100).
    async fn executions_of(&self, workflow: &str) -> usize {
        let page = self
            .get(&format!("/api/executions?workflow={workflow}&limit=100"))
            .await
            .json();
        page["executions"].as_array().map_or(0, Vec::len)
    }

    /// Stops serving and starts a new server, with `config`, on the same database (as
    /// a restart of the process would).
    async fn restart(self, config: ApiConfig) -> Server {
        let Server { app, store, dir } = self;
        drop((app, store));
        server_in(dir, config).await
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        content_type: Option<&str>,
        body: &str,
        token: Option<&str>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.send(req.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    /// Sends a request as it is.
    async fn send(&self, req: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(req).await.expect("response");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            content_type,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, uri: &str) -> Reply {
        self.call(Method::GET, uri, None, "", None).await
    }

    async fn post_yaml(&self, uri: &str, body: &str) -> Reply {
        self.call(Method::POST, uri, Some("application/yaml"), body, None)
            .await
    }

    async fn post_json(&self, uri: &str, body: Value) -> Reply {
        self.call(
            Method::POST,
            uri,
            Some("application/json"),
            &body.to_string(),
            None,
        )
        .await
    }

    /// Waits until the execution ends and returns its detail.
    async fn finished(&self, id: &str) -> Value {
        for _ in 0..500 {
            let r = self.get(&format!("/api/executions/{id}")).await.json();
            if ["succeeded", "failed", "cancelled"].contains(&r["status"].as_str().unwrap_or("")) {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("execution {id} did not finish");
    }
}

pub(crate) const HELLO: &str = "name: hello
description: Greets
inputs: {type: object, required: [who], properties: {who: {type: string, minLength: 1}, times: {type: integer, default: 2}}}
tasks:
  greet: {type: set, with: {msg: 'hello ${ $inputs.who }'}}
  shout: {type: transform, needs: [greet], with: {input: '${ $tasks.greet.output.msg }', expr: ascii_upcase}}
  each: {type: set, needs: [greet], for_each: '${ [range($inputs.times)] }', with: '${ $item }'}
outputs:
  shout: ${ $tasks.shout.output }
";

fn assert_error(r: &Reply, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(
        r.content_type.starts_with("application/json"),
        "{}",
        r.content_type
    );
    let v = r.json();
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert!(v["error"].get("details").is_some(), "{v}");
    v["error"].clone()
}

#[tokio::test]
async fn create_read_execute_and_watch_a_workflow() {
    let s = server().await;
    let created = s.post_yaml("/api/workflows", HELLO).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let w = created.json();
    assert_eq!(
        (w["name"].as_str(), w["version"].as_u64()),
        (Some("hello"), Some(1))
    );
    let id = w["id"].as_str().expect("id").to_string();

    // By name and by id.
    let by_name = s.get("/api/workflows/hello").await.json();
    let by_id = s.get(&format!("/api/workflows/{id}")).await.json();
    assert_eq!(by_name["source"], HELLO);
    assert_eq!(by_name["definition"]["tasks"]["greet"]["type"], "set");
    assert_eq!(by_id["name"], "hello");

    // Execute: 201 with the id and links.
    let started = s
        .post_json(
            "/api/workflows/hello/execute",
            json!({"inputs": {"who": "ada"}}),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    let started = started.json();
    let exec = started["execution_id"].as_str().expect("id").to_string();
    assert_eq!(started["links"]["self"], format!("/api/executions/{exec}"));
    assert_eq!(
        started["links"]["websocket"],
        format!("/ws/executions/{exec}")
    );

    let x = s.finished(&exec).await;
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["outputs"], json!({"shout": "HELLO ADA"}));
    assert_eq!(x["inputs"], json!({"who": "ada", "times": 2}));
    assert_eq!(x["tasks"]["greet"]["attempts"], 1);
    assert_eq!(
        x["tasks"]["each"]["items"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(x["tasks"]["shout"]["started_at"].is_string());

    let events = s
        .get(&format!("/api/executions/{exec}/events"))
        .await
        .json();
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"execution_started"));
    assert_eq!(kinds.last(), Some(&"execution_succeeded"));

    // The same under /api/v1.
    assert_eq!(
        s.get(&format!("/api/v1/executions/{exec}")).await.json()["status"],
        "succeeded"
    );
}

/// Regression: an output nested 200 deep was committed, then reading its execution or
/// its events answered 500 ("recursion limit exceeded"). Values are bounded where they
/// are made, and what is stored reads back: as deep as allowed, the answers are whole
/// (and within what common JSON parsers read); deeper, the task fails and says why.
#[tokio::test]
async fn the_deepest_values_allowed_read_back_through_the_api() {
    let s = server().await;
    let at_limit = harmonia_expr::MAX_DEPTH;
    let yaml = format!(
        "name: deep\ntasks:\n  at: {{type: transform, with: {{expr: 'reduce range({at_limit}) as $i (0; [.])'}}}}\n  beyond: {{type: set, needs: [at], with: {{x: '${{ $tasks.at.output }}'}}}}\n"
    );
    assert_eq!(
        s.post_yaml("/api/workflows", &yaml).await.status,
        StatusCode::CREATED
    );
    let started = s
        .post_json("/api/workflows/deep/execute", json!({}))
        .await
        .json();
    let exec = started["execution_id"].as_str().expect("id").to_string();
    let x = s.finished(&exec).await;
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(x["tasks"]["at"]["status"], "succeeded");
    let beyond = x["tasks"]["beyond"]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(beyond.contains("nested more than"), "{beyond}");
    let detail = s.get(&format!("/api/executions/{exec}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    let events = s.get(&format!("/api/executions/{exec}/events")).await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    assert!(
        events.json()["events"]
            .as_array()
            .is_some_and(|e| e.len() > 3)
    );
}

#[tokio::test]
async fn definitions_in_json_and_every_diagnostic_of_a_bad_one() {
    let s = server().await;
    let r = s
        .post_json(
            "/api/workflows",
            json!({"name": "j", "tasks": {"a": {"type": "set"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let bad = s
        .post_yaml(
            "/api/workflows",
            "name: bad\ntasks:\n  a: {type: htp, neds: [b]}\n",
        )
        .await;
    let e = assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_definition");
    let details = e["details"].as_array().expect("diagnostics");
    assert_eq!(details.len(), 2, "{e}");
    assert_eq!(
        (details[0]["line"].as_u64(), details[0]["column"].as_u64()),
        (Some(3), Some(13))
    );
    assert_eq!(
        (details[1]["line"].as_u64(), details[1]["column"].as_u64()),
        (Some(3), Some(18))
    );
    assert!(details.iter().any(|d| {
        d["message"]
            .as_str()
            .unwrap_or("")
            .contains("did you mean `http`")
    }));
    // Nothing was created.
    assert_error(
        &s.get("/api/workflows/bad").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // A second create of the same name is a conflict.
    assert_error(
        &s.post_json(
            "/api/workflows",
            json!({"name": "j", "tasks": {"b": {"type": "set"}}}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    );
}

#[tokio::test]
async fn updates_make_versions_and_old_versions_stay_readable() {
    let s = server().await;
    s.post_yaml("/api/workflows", HELLO).await;
    let v2 = HELLO.replace("description: Greets", "description: Greets loudly");
    let r = s
        .call(
            Method::PUT,
            "/api/workflows/hello",
            Some("application/yaml"),
            &v2,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["version"], 2);
    // Identical text: the same version.
    let r = s
        .call(
            Method::PUT,
            "/api/workflows/hello",
            Some("application/yaml"),
            &v2,
            None,
        )
        .await;
    assert_eq!(r.json()["version"], 2);
    let versions = s.get("/api/workflows/hello/versions").await.json();
    assert_eq!(versions["versions"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        s.get("/api/workflows/hello?version=1").await.json()["description"],
        "Greets"
    );
    assert_eq!(
        s.get("/api/workflows/hello").await.json()["description"],
        "Greets loudly"
    );
    assert_error(
        &s.get("/api/workflows/hello?version=9").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // A definition under another name is refused.
    let other = HELLO.replace("name: hello", "name: other");
    let r = s
        .call(
            Method::PUT,
            "/api/workflows/hello",
            Some("application/yaml"),
            &other,
            None,
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_definition");
    // Execute an old version.
    let r = s
        .post_json(
            "/api/workflows/hello/execute",
            json!({"inputs": {"who": "x"}, "version": 1}),
        )
        .await;
    assert_eq!(r.json()["version"], 1);
    // The difference between the versions, by default the latest and the one before.
    let diff = s.get("/api/workflows/hello/diff").await.json();
    assert_eq!(
        (diff["from"].clone(), diff["to"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(
        diff["changes"],
        json!([{"path": "/description", "change": "changed", "before": "Greets", "after": "Greets loudly"}])
    );
    let same = s.get("/api/workflows/hello/diff?from=2&to=2").await.json();
    assert_eq!(same["changes"], json!([]));
    assert_error(
        &s.get("/api/workflows/hello/diff?from=1&to=9").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.get("/api/workflows/hello/diff?from=x").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

#[tokio::test]
async fn warnings_come_back_with_a_stored_definition() {
    // Regression: `$inputs.typo` and a sub-workflow that does not exist were stored
    // without a word; the answer had no place for warnings.
    let s = server().await;
    let parent = "name: parent
inputs: {type: object, properties: {city: {type: string}}}
tasks:
  a: {type: set, with: '${ $inputs.cty }'}
  b: {type: workflow, with: {workflow: child}}
";
    let r = s.post_yaml("/api/workflows", parent).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let body = r.json();
    assert_eq!(body["name"], "parent");
    assert_eq!(
        body["warnings"],
        json!([
            {"severity": "warning", "path": "tasks.a.with", "task": "a", "line": 4, "column": 28,
             "message": "`$inputs.cty` reads `cty`, which the `inputs` schema does not declare (did you mean `$inputs.city`?)"},
            {"severity": "warning", "path": "tasks.b.with.workflow", "task": "b", "line": 5, "column": 40,
             "message": "no workflow `child` is stored yet: task `b` fails when it runs unless `child` is created first"},
        ])
    );
    // Once the child exists (and the typo is fixed), an update has nothing to say,
    // but a version the child does not have is named.
    let r = s
        .post_yaml("/api/workflows", "name: child\ntasks:\n  x: {type: set}\n")
        .await;
    assert_eq!(r.json()["warnings"], json!([]));
    let fixed = parent.replace("$inputs.cty", "$inputs.city");
    let r = s
        .call(
            Method::PUT,
            "/api/workflows/parent",
            Some("application/yaml"),
            &fixed,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["version"], 2);
    assert_eq!(r.json()["warnings"], json!([]));
    let pinned = fixed.replace("workflow: child}", "workflow: child, version: 2}");
    let r = s
        .call(
            Method::PUT,
            "/api/workflows/parent",
            Some("application/yaml"),
            &pinned,
            None,
        )
        .await;
    assert_eq!(
        r.json()["warnings"][0]["message"],
        "workflow `child` has no version 2 (its latest is 1): task `b` fails when it runs unless that version is stored first"
    );
    // A closed schema makes the same read an error: nothing is stored.
    let closed = parent.replace("name: parent", "name: closed").replace(
        "inputs: {type: object,",
        "inputs: {type: object, additionalProperties: false,",
    );
    let r = s.post_yaml("/api/workflows", &closed).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_definition");
    assert_eq!(
        s.get("/api/workflows/closed").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_inputs_name_every_violation_and_create_nothing() {
    let s = server().await;
    s.post_yaml("/api/workflows", HELLO).await;
    let r = s
        .post_json(
            "/api/workflows/hello/execute",
            json!({"inputs": {"who": "", "times": "two"}}),
        )
        .await;
    let e = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    let mut got: Vec<(String, String)> = e["details"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| {
            (
                v["path"].as_str().unwrap_or("").to_string(),
                v["keyword"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("/times".to_string(), "type".to_string()),
            ("/who".to_string(), "minLength".to_string())
        ]
    );
    assert_eq!(
        s.get("/api/executions").await.json()["executions"],
        json!([])
    );
    // Unknown fields of the request itself are refused too.
    let r = s
        .post_json(
            "/api/workflows/hello/execute",
            json!({"input": {"who": "x"}}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn listing_filters_and_pages_newest_first() {
    let s = server().await;
    s.post_yaml("/api/workflows", HELLO).await;
    s.post_json(
        "/api/workflows",
        json!({"name": "other", "tasks": {"a": {"type": "set"}}}),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = s
            .post_json(
                "/api/workflows/hello/execute",
                json!({"inputs": {"who": format!("p{i}")}}),
            )
            .await
            .json();
        ids.push(r["execution_id"].as_str().expect("id").to_string());
    }
    let r = s
        .post_json("/api/workflows/other/execute", json!({}))
        .await
        .json();
    s.finished(r["execution_id"].as_str().expect("id")).await;
    for id in &ids {
        s.finished(id).await;
    }
    let page = s.get("/api/executions?workflow=hello&limit=3").await.json();
    let first: Vec<&str> = page["executions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|x| x["id"].as_str())
        .collect();
    assert_eq!(
        first,
        vec![ids[4].as_str(), ids[3].as_str(), ids[2].as_str()]
    );
    let cursor = page["next_cursor"].as_str().expect("more");
    let rest = s
        .get(&format!(
            "/api/executions?workflow=hello&limit=3&cursor={cursor}"
        ))
        .await
        .json();
    assert_eq!(rest["executions"].as_array().map(Vec::len), Some(2));
    assert!(rest["next_cursor"].is_null());
    let succeeded = s.get("/api/executions?status=succeeded").await.json();
    assert_eq!(succeeded["executions"].as_array().map(Vec::len), Some(6));
    let several = s
        .get("/api/executions?status=failed,succeeded")
        .await
        .json();
    assert_eq!(several["executions"].as_array().map(Vec::len), Some(6));
    let none = s
        .get("/api/executions?status=failed,cancelled")
        .await
        .json();
    assert_eq!(none["executions"], json!([]));
    // A short id finds its execution; the whole id too, in any case.
    let upper = ids[3].to_uppercase();
    for prefix in [&ids[3][..30], &ids[3][..], &upper[..]] {
        let found = s
            .get(&format!("/api/executions?id_prefix={prefix}"))
            .await
            .json();
        let found: Vec<&str> = found["executions"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|x| x["id"].as_str())
            .collect();
        assert_eq!(found, [ids[3].as_str()], "{prefix}");
    }
    for bad in ["01%25", "x", "0123456789012345678901234567890123456"] {
        let r = s.get(&format!("/api/executions?id_prefix={bad}")).await;
        let body = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("id_prefix")),
            "{body}"
        );
    }
    assert_eq!(
        s.get("/api/executions?since=2999-01-01T00:00:00Z")
            .await
            .json()["executions"],
        json!([])
    );
    assert_error(
        &s.get("/api/executions?since=yesterday").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    for bad in ["", "failed,", "failed,%20succeeded"] {
        let r = s.get(&format!("/api/executions?status={bad}")).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    }
    for bad in ["done", "failed,done"] {
        let r = s.get(&format!("/api/executions?status={bad}")).await;
        let body = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("`done`")),
            "{body}"
        );
    }
    let workflows = s.get("/api/workflows?limit=1").await.json();
    assert_eq!(workflows["workflows"][0]["name"], "hello");
    assert_eq!(workflows["next_cursor"], "hello");
}

const SLOW: &str = "name: slow\ntasks:\n  nap: {type: sleep, with: {duration: 30s}}\n  after: {type: set, needs: [nap]}\n";

#[tokio::test]
async fn pause_resume_cancel_and_retry_through_the_api() {
    let s = server().await;
    s.post_yaml("/api/workflows", SLOW).await;
    let x = s
        .post_json("/api/workflows/slow/execute", json!({}))
        .await
        .json();
    let id = x["execution_id"].as_str().expect("id").to_string();
    let r = s
        .post_json(&format!("/api/executions/{id}/pause"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (StatusCode::OK, json!("paused"))
    );
    assert_error(
        &s.post_json(&format!("/api/executions/{id}/pause"), json!({}))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    let r = s
        .post_json(&format!("/api/executions/{id}/resume"), json!({}))
        .await;
    assert_eq!(r.json()["status"], "running");
    let r = s
        .post_json(
            &format!("/api/executions/{id}/cancel"),
            json!({"reason": "testing"}),
        )
        .await;
    assert_eq!(r.json()["status"], "cancelled");
    // Idempotent, and a cancelled execution cannot be resumed.
    assert_eq!(
        s.post_json(&format!("/api/executions/{id}/cancel"), json!({}))
            .await
            .json()["status"],
        "cancelled"
    );
    assert_error(
        &s.post_json(&format!("/api/executions/{id}/resume"), json!({}))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    );

    let preview = s
        .post_json(
            &format!("/api/executions/{id}/retry"),
            json!({"preview": true}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let preview = preview.json();
    assert_eq!(preview["rerun"], json!(["nap", "after"]));
    assert!(preview["execution_id"].is_null());
    // Regression: a `from` naming no task was a 409 that did not say what exists.
    for preview in [true, false] {
        let r = s
            .post_json(
                &format!("/api/executions/{id}/retry"),
                json!({"from": "napp", "preview": preview}),
            )
            .await;
        let e = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("no task `napp`") && m.contains("nap, after")),
            "{e}"
        );
        assert_eq!(
            e["details"],
            json!({"task": "napp", "tasks": ["nap", "after"]})
        );
    }
    let retried = s
        .post_json(&format!("/api/executions/{id}/retry"), json!({}))
        .await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.text);
    let new = retried.json()["execution_id"]
        .as_str()
        .expect("id")
        .to_string();
    let detail = s.get(&format!("/api/executions/{new}")).await.json();
    assert_eq!(detail["retry_of"], json!(id));
    s.post_json(&format!("/api/executions/{new}/cancel"), json!({}))
        .await;

    assert_error(
        &s.post_json("/api/executions/not-an-id/cancel", json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let unknown = harmonia_storage::ExecutionId::new();
    assert_error(
        &s.get(&format!("/api/executions/{unknown}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn deleting_a_workflow_with_running_executions_needs_force() {
    let s = server().await;
    s.post_yaml("/api/workflows", SLOW).await;
    let x = s
        .post_json("/api/workflows/slow/execute", json!({}))
        .await
        .json();
    let id = x["execution_id"].as_str().expect("id").to_string();
    let r = s
        .call(Method::DELETE, "/api/workflows/slow", None, "", None)
        .await;
    let e = assert_error(&r, StatusCode::CONFLICT, "conflict");
    assert_eq!(e["details"]["executions"], json!([id]));
    let r = s
        .call(
            Method::DELETE,
            "/api/workflows/slow?force=true",
            None,
            "",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_error(
        &s.get("/api/workflows/slow").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The execution is still there, on its pinned version.
    assert_eq!(
        s.get(&format!("/api/executions/{id}")).await.json()["status"],
        "running"
    );
    s.post_json(&format!("/api/executions/{id}/cancel"), json!({}))
        .await;
}

#[tokio::test]
async fn graphs_in_three_formats() {
    let s = server().await;
    s.post_yaml("/api/workflows", HELLO).await;
    let m = s.get("/api/workflows/hello/graph").await;
    assert!(
        m.content_type.starts_with("text/plain") && m.text.contains("flowchart LR"),
        "{}",
        m.text
    );
    let d = s.get("/api/workflows/hello/graph?format=dot").await;
    assert!(d.text.starts_with("digraph"));
    let j = s.get("/api/workflows/hello/graph?format=json").await.json();
    assert_eq!(j["order"][0], "greet");
    assert_error(
        &s.get("/api/workflows/hello/graph?format=png").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

#[tokio::test]
async fn every_error_has_the_one_shape() {
    let s = server_with(ApiConfig {
        max_body_bytes: 1024,
        ..ApiConfig::default()
    })
    .await;
    assert_error(
        &s.get("/api/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Paths without an extension outside the API are the console's routes (see
    // `ui.rs`); a missing file is the API's 404.
    assert_error(
        &s.get("/nowhere.txt").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let r = s
        .call(Method::DELETE, "/api/executions", None, "", None)
        .await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    s.post_yaml("/api/workflows", "name: w\ntasks:\n  a: {type: set}\n")
        .await;
    let r = s
        .call(
            Method::POST,
            "/api/workflows/w/execute",
            Some("application/json"),
            "{\"inputs\": ",
            None,
        )
        .await;
    let e = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        e["message"].as_str().unwrap_or("").contains("invalid JSON"),
        "{e}"
    );
    // Option bodies are objects; `null` or nothing means "no options".
    let r = s
        .call(
            Method::POST,
            "/api/workflows/w/execute",
            Some("application/json"),
            "[]",
            None,
        )
        .await;
    let e = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("must be an object, found an array"),
        "{e}"
    );
    for empty in ["null", ""] {
        let r = s
            .call(
                Method::POST,
                "/api/workflows/w/execute",
                Some("application/yaml"),
                empty,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{empty:?}: {}", r.json());
    }
    let r = s
        .post_json("/api/workflows/w/execute", json!({"version": 7}))
        .await;
    let e = assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("no version 7 (its latest is 1)"),
        "{e}"
    );
    let big = format!(
        "name: w\ndescription: {}\ntasks:\n  a: {{type: set}}\n",
        "x".repeat(4096)
    );
    assert_error(
        &s.post_yaml("/api/workflows", &big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let r = s
        .call(Method::POST, "/api/workflows", Some("image/png"), "x", None)
        .await;
    assert_error(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    assert_error(
        &s.post_yaml("/api/workflows", "").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    // Regression: the docs' own 404 had an empty body.
    let e = assert_error(
        &s.get("/docs/nope.js").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("/docs/nope.js"),
        "{e}"
    );
}

/// Writes `request` on a new connection to `addr` and reads the whole answer (hyper
/// closes the connection after these): the status and the body.
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    // The server may answer and close before it has read everything: ignore that.
    let _ = socket.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer))
        .await
        .expect("an answer in time");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {answer:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, head.to_string(), body.to_string())
}

/// Regression: hyper answers a request head it cannot read by itself (414, 431, 400),
/// and those answers had empty bodies.
#[tokio::test]
async fn hypers_own_answers_have_the_one_shape_too() {
    let s = server().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = s.app.clone();
    tokio::spawn(
        async move { harmonia_server::serve(listener, app, std::future::pending()).await },
    );
    let long_uri = format!(
        "GET /api/workflows?x={} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n",
        "a".repeat(70_000)
    );
    let many_headers = format!(
        "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n{}\r\n",
        (0..120)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_header = format!(
        "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: {}\r\n\r\n",
        "b".repeat(500_000)
    );
    for (request, status, code) in [
        (long_uri.as_str(), 414, "uri_too_long"),
        (many_headers.as_str(), 431, "headers_too_large"),
        (huge_header.as_str(), 431, "headers_too_large"),
        (
            "GET /health HTTP/1.1\r\nbad header\r\n\r\n",
            400,
            "invalid_request",
        ),
    ] {
        let (got, head, body) = raw_exchange(addr, request.as_bytes()).await;
        assert_eq!(got, status, "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
        assert_eq!(v["error"]["code"], code, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // Ordinary requests on the same server are untouched, keep-alive included.
    let (got, _, body) = raw_exchange(
        addr,
        b"GET /api/nowhere HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(got, 404);
    assert!(
        body.contains("\"not_found\"") && body.contains("\"status\":\"ok\""),
        "{body}"
    );
}

#[tokio::test]
async fn operations_and_the_api_description() {
    let s = server().await;
    let h = s.get("/health").await.json();
    assert_eq!(h["status"], "ok");
    assert_eq!(s.get("/ready").await.json()["ready"], true);
    let spec = s.get("/openapi.json").await.json();
    assert_eq!(spec["openapi"], "3.1.0");
    // Stored definitions are answered with their warnings, and the description says so.
    for (path, method, status, schema) in [
        ("/api/workflows", "post", "201", "WorkflowSaved"),
        ("/api/workflows/{id}", "put", "200", "WorkflowSaved"),
        ("/api/templates", "post", "201", "TemplateSaved"),
        ("/api/templates/{id}", "put", "200", "TemplateSaved"),
    ] {
        let reference = &spec["paths"][path][method]["responses"][status]["content"]["application/json"]
            ["schema"]["$ref"];
        assert_eq!(
            reference,
            &json!(format!("#/components/schemas/{schema}")),
            "{method} {path}"
        );
        let schema = &spec["components"]["schemas"][schema];
        let warnings = schema["properties"]["warnings"]
            .as_object()
            .or_else(|| {
                // A flattened summary makes the schema an `allOf`.
                schema["allOf"]
                    .as_array()?
                    .iter()
                    .find_map(|s| s["properties"]["warnings"].as_object())
            })
            .unwrap_or_else(|| panic!("no `warnings` in {schema:#}"));
        assert_eq!(warnings["items"]["$ref"], "#/components/schemas/Warning");
    }
    let paths = spec["paths"].as_object().expect("paths");
    for p in [
        "/api/workflows",
        "/api/workflows/{id}",
        "/api/workflows/{id}/versions",
        "/api/workflows/{id}/execute",
        "/api/workflows/{id}/graph",
        "/api/workflows/validate",
        "/api/task-types",
        "/api/task-types/{name}",
        "/api/executions",
        "/api/executions/{id}",
        "/api/executions/{id}/events",
        "/api/executions/{id}/cancel",
        "/api/executions/{id}/pause",
        "/api/executions/{id}/resume",
        "/api/executions/{id}/retry",
        "/ws/executions/{id}",
        "/ws/workflows",
        "/health",
        "/ready",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "{p} is not described");
    }
    let docs = s.get("/docs/").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        docs.text.contains("swagger"),
        "{}",
        &docs.text[..docs.text.len().min(200)]
    );
}

#[tokio::test]
async fn the_auth_matrix() {
    let s = server().await;
    // Without tokens, everything is open (the server only binds to loopback then).
    assert_eq!(s.get("/api/workflows").await.status, StatusCode::OK);
    let (admin, _) = harmonia_server::create_token(s.store.as_ref(), "root", Role::Admin)
        .await
        .expect("token");
    let (operator, _) = harmonia_server::create_token(s.store.as_ref(), "ops", Role::Operator)
        .await
        .expect("token");
    let (viewer, _) = harmonia_server::create_token(s.store.as_ref(), "eyes", Role::Viewer)
        .await
        .expect("token");

    let r = s
        .call(
            Method::POST,
            "/api/workflows",
            Some("application/yaml"),
            HELLO,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let x = s
        .call(
            Method::POST,
            "/api/workflows/hello/execute",
            Some("application/json"),
            "{\"inputs\": {\"who\": \"a\"}}",
            Some(&admin),
        )
        .await
        .json();
    let exec = x["execution_id"].as_str().expect("id").to_string();

    // (method, uri, body, content type, need): need 0 public, 1 read, 2 operate, 3 admin.
    let routes: Vec<(Method, String, &str, Option<&str>, u8)> = vec![
        (Method::GET, "/health".into(), "", None, 0),
        (Method::GET, "/openapi.json".into(), "", None, 0),
        (Method::GET, "/api/workflows".into(), "", None, 1),
        (Method::GET, "/api/workflows/hello".into(), "", None, 1),
        (Method::GET, format!("/api/executions/{exec}"), "", None, 1),
        (
            Method::GET,
            format!("/api/v1/executions/{exec}/events"),
            "",
            None,
            1,
        ),
        (
            Method::POST,
            "/api/workflows/hello/execute".into(),
            "{\"inputs\": {\"who\": \"b\"}}",
            Some("application/json"),
            2,
        ),
        (
            Method::POST,
            format!("/api/executions/{exec}/retry"),
            "{\"preview\": true}",
            Some("application/json"),
            2,
        ),
        (
            Method::POST,
            "/api/workflows".into(),
            "name: made\ntasks:\n  a: {type: set}\n",
            Some("application/yaml"),
            3,
        ),
        (
            Method::PUT,
            "/api/workflows/hello".into(),
            HELLO,
            Some("application/yaml"),
            3,
        ),
        // Validating stores nothing: a viewer may.
        (
            Method::POST,
            "/api/workflows/validate".into(),
            "name: checked\ntasks:\n  a: {type: set}\n",
            Some("application/yaml"),
            1,
        ),
        (
            Method::POST,
            "/api/v1/workflows/validate".into(),
            "{\"name\": \"checked\", \"tasks\": {\"a\": {\"type\": \"http\"}}}",
            Some("application/json"),
            1,
        ),
        (Method::GET, "/api/task-types".into(), "", None, 1),
        // The assistant: status to viewers; what spends a model's tokens to operators
        // (diagnosing a run that did not fail is a 409); storing a patch to admins (a
        // run that succeeded has nothing to retry: 409, and nothing is stored).
        (Method::GET, "/api/assist".into(), "", None, 1),
        (
            Method::POST,
            "/api/assist/workflows/hello/optimize".into(),
            "",
            None,
            2,
        ),
        (
            Method::POST,
            format!("/api/assist/executions/{exec}/diagnose"),
            "",
            None,
            2,
        ),
        (
            Method::POST,
            format!("/api/assist/executions/{exec}/diagnose/apply"),
            "{\"yaml\": \"name: hello\\ntasks:\\n  a: {type: set}\\n\"}",
            Some("application/json"),
            3,
        ),
        (Method::GET, "/api/v1/task-types/http".into(), "", None, 1),
        (Method::GET, "/api/templates".into(), "", None, 1),
        (
            Method::POST,
            "/api/templates".into(),
            "name: made-t\nworkflow:\n  tasks:\n    a: {type: set, with: 1}\n",
            Some("application/yaml"),
            3,
        ),
        (Method::GET, "/api/templates/made-t".into(), "", None, 1),
        (
            Method::GET,
            "/api/templates/made-t/versions".into(),
            "",
            None,
            1,
        ),
        (Method::GET, "/api/templates/export".into(), "", None, 1),
        (
            Method::POST,
            "/api/templates/made-t/instantiate".into(),
            "{\"name\": \"from-made-t\"}",
            Some("application/json"),
            3,
        ),
        (
            Method::POST,
            "/api/templates/import".into(),
            "name: made-t\nworkflow:\n  tasks:\n    a: {type: set, with: 1}\n",
            Some("application/yaml"),
            3,
        ),
    ];
    for (method, uri, body, ct, need) in routes {
        for (who, token, level) in [
            ("nobody", None, 0u8),
            ("bad", Some("hm_bad"), 0),
            ("viewer", Some(viewer.as_str()), 1),
            ("operator", Some(operator.as_str()), 2),
            ("admin", Some(admin.as_str()), 3),
        ] {
            let r = s.call(method.clone(), &uri, ct, body, token).await;
            let expected_ok = need == 0 || level >= need;
            if expected_ok {
                assert!(
                    r.status.is_success() || r.status == StatusCode::CONFLICT,
                    "{who} {method} {uri}: {} {}",
                    r.status,
                    r.text
                );
            } else if level == 0 {
                assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
            } else {
                let e = assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
                assert!(e["message"].as_str().unwrap_or("").contains("role"), "{e}");
            }
        }
    }
}

#[tokio::test]
async fn a_websocket_sends_a_snapshot_every_event_and_the_end() {
    use futures::{SinkExt, StreamExt};
    let s = server().await;
    s.post_yaml("/api/workflows", "name: ws\ntasks:\n  nap: {type: sleep, with: {duration: 300ms}}\n  done: {type: set, needs: [nap], with: 1}\n").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = s.app.clone();
    tokio::spawn(
        async move { harmonia_server::serve(listener, app, std::future::pending()).await },
    );
    let x = s
        .post_json("/api/workflows/ws/execute", json!({}))
        .await
        .json();
    let id = x["execution_id"].as_str().expect("id").to_string();

    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/executions/{id}"))
            .await
            .expect("connects");
    let mut messages = Vec::new();
    while let Some(Ok(m)) = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("in time")
    {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
            messages.push(serde_json::from_str::<Value>(&t).expect("json"));
        }
    }
    assert_eq!(
        messages.first().map(|m| m["type"].clone()),
        Some(json!("snapshot"))
    );
    assert_eq!(
        messages.last().map(|m| m["type"].clone()),
        Some(json!("finished"))
    );
    assert_eq!(
        messages.last().map(|m| m["execution"]["status"].clone()),
        Some(json!("succeeded"))
    );
    let last_seq = messages[0]["last_seq"].as_u64().expect("seq");
    let seqs: Vec<u64> = messages
        .iter()
        .filter(|m| m["type"] == "event")
        .filter_map(|m| m["seq"].as_u64())
        .collect();
    assert!(!seqs.is_empty());
    assert_eq!(
        seqs,
        ((last_seq + 1)..=(last_seq + seqs.len() as u64)).collect::<Vec<_>>(),
        "every event, in order"
    );
    assert!(messages.iter().any(|m| m["kind"] == "execution_succeeded"));

    // The workflows feed sees an execution start and finish.
    let (mut feed, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/workflows"))
        .await
        .expect("connects");
    let x = s
        .post_json("/api/workflows/ws/execute", json!({}))
        .await
        .json();
    let id = x["execution_id"].as_str().expect("id").to_string();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let m = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("ok");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).expect("json");
            if v["execution_id"] == json!(id) {
                if v["type"] == "execution_started" {
                    assert_eq!(v["origin"], json!({"kind": "api", "by": null}), "{v}");
                }
                seen.push(v["type"].as_str().unwrap_or("").to_string());
            }
        }
    }
    assert_eq!(seen, vec!["execution_started", "execution_finished"]);
    feed.send(tokio_tungstenite::tungstenite::Message::Close(None))
        .await
        .ok();

    // A plain GET on a WebSocket route gets the error shape.
    assert_error(
        &s.get(&format!("/ws/executions/{id}")).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}
