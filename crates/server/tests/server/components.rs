//! `component` tasks against a local MCP-style component on 127.0.0.1 (success, an
//! error answer, a timeout, a retry, the adapter's action path, its token), unknown
//! components (a warning at create, a clear error at run), and `/api/components`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use harmonia_app::App;
use harmonia_app::components::{DEFAULT_TTL, Directory};
use harmonia_engine::kinds::component::Endpoint;
use harmonia_engine::kinds::{Kinds, KindsConfig};
use harmonia_engine::{EngineConfig, Plans};
use harmonia_server::{ApiConfig, AppState};
use harmonia_storage::Store;
use serde_json::{Value, json};

use super::{Server, assert_error};

const TOKEN: &str = "component-token-1234";

#[derive(Default)]
struct Seen {
    flaky_calls: AtomicU32,
    unauthenticated: AtomicU32,
}

fn authorized(seen: &Seen, headers: &HeaderMap) -> bool {
    let ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"));
    if !ok {
        seen.unauthenticated.fetch_add(1, Ordering::SeqCst);
    }
    ok
}

async fn process(
    State(seen): State<Arc<Seen>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&seen, &headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "no token"})));
    }
    let tool = body["tool_name"].as_str().unwrap_or_default();
    match tool {
        "echo" => (
            StatusCode::OK,
            Json(
                json!({"status": "success", "result": {"args": body["arguments"], "context": body["context"]}}),
            ),
        ),
        "broken" => (
            StatusCode::OK,
            Json(json!({"status": "error", "error": "the model is overloaded"})),
        ),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            (
                StatusCode::OK,
                Json(json!({"status": "success", "result": 1})),
            )
        }
        "flaky" => {
            let n = seen.flaky_calls.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"status": "error", "error": "warming up"})),
                )
            } else {
                (
                    StatusCode::OK,
                    Json(json!({"status": "success", "result": {"call": n + 1}})),
                )
            }
        }
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"status": "error", "error": format!("no tool {tool}")})),
        ),
    }
}

async fn action(
    State(seen): State<Arc<Seen>>,
    headers: HeaderMap,
    Path(action): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    authorized(&seen, &headers);
    Json(
        json!({"status": "success", "result": {"action": action, "params": body["params"], "named": body["action"]}}),
    )
}

async fn tools() -> Json<Value> {
    Json(json!({"tools": [{"name": "echo", "description": "Says it back"}]}))
}

/// A component on 127.0.0.1, and what it saw.
async fn component() -> (Endpoint, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = axum::Router::new()
        .route("/api/mcp/v2/process", post(process))
        .route("/api/mcp/v2/tools", get(tools))
        .route("/api/actions/{action}", post(action))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoint = Endpoint {
        name: "echoer".into(),
        url: reqwest::Url::parse(&url).expect("url"),
        mcp_prefix: "/api/mcp/v2".into(),
        token: Some(TOKEN.into()),
    };
    (endpoint, seen)
}

/// A server whose `component` tasks find `declared`.
async fn server_with_components(declared: Vec<Endpoint>) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(
        harmonia_storage_sql::SqliteStore::open(&dir.path().join("s.db"), Default::default())
            .await
            .expect("store"),
    );
    let directory = Arc::new(Directory::new(declared, None, DEFAULT_TTL));
    let kinds = Kinds::builtin(&KindsConfig {
        components: directory.clone(),
        ..KindsConfig::default()
    });
    let plans = Arc::new(Plans::new(store.clone(), kinds.task_types().clone(), None));
    let (handle, _join) =
        harmonia_engine::spawn(EngineConfig::default(), store.clone(), plans, kinds)
            .await
            .expect("engine");
    let app = App::with_components(handle, directory);
    Server {
        app: harmonia_server::app(AppState::with_app(app, ApiConfig::default(), None)),
        store,
        dir,
    }
}

async fn run(s: &Server, yaml: &str) -> (Value, Value) {
    let created = s.post_yaml("/api/workflows", yaml).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    let name = created["name"].as_str().expect("name").to_string();
    let r = s
        .post_json(&format!("/api/workflows/{name}/execute"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let exec = r.json()["execution_id"].as_str().expect("id").to_string();
    (s.finished(&exec).await, created)
}

#[tokio::test]
async fn a_tool_call_gives_its_result_with_the_attempt_as_context() {
    let (endpoint, seen) = component().await;
    let s = server_with_components(vec![endpoint]).await;
    let (x, created) = run(
        &s,
        "name: calls
tasks:
  ask: {type: component, with: {component: echoer, tool: echo, arguments: {q: '${ 40 + 2 }'}}}
  act: {type: component, with: {component: echoer, action: 'sum up', params: {n: 1}}}
",
    )
    .await;
    assert_eq!(created["warnings"], json!([]), "{created}");
    assert_eq!(x["status"], "succeeded", "{x}");
    let out = &x["tasks"]["ask"]["output"];
    assert_eq!(out["args"], json!({"q": 42}));
    let context = &out["context"];
    assert_eq!(context["execution_id"], x["id"]);
    assert_eq!(
        (&context["workflow"], &context["task"], &context["attempt"]),
        (&json!("calls"), &json!("ask"), &json!(1))
    );
    assert_eq!(
        x["tasks"]["act"]["output"],
        json!({"action": "sum up", "params": {"n": 1}, "named": "sum up"})
    );
    assert_eq!(seen.unauthenticated.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_error_answer_fails_as_component_error_and_a_retry_can_pass() {
    let (endpoint, _) = component().await;
    let s = server_with_components(vec![endpoint]).await;
    let (x, _) = run(
        &s,
        "name: errs
tasks:
  bad: {type: component, retry: {max_attempts: 1}, with: {component: echoer, tool: broken}}
",
    )
    .await;
    assert_eq!(x["status"], "failed", "{x}");
    let e = &x["tasks"]["bad"]["error"];
    assert_eq!(e["class"], "component_error", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("the model is overloaded"),
        "{e}"
    );
    assert_eq!(e["details"]["tool"], "broken");
    assert!(!x.to_string().contains(TOKEN), "the token never shows");

    let (x, _) = run(
        &s,
        "name: flaky
tasks:
  again: {type: component, retry: {max_attempts: 3, initial_delay: 10ms}, with: {component: echoer, tool: flaky}}
",
    )
    .await;
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["tasks"]["again"]["attempts"], 2);
    assert_eq!(x["tasks"]["again"]["output"], json!({"call": 2}));
}

#[tokio::test]
async fn a_slow_component_times_out() {
    let (endpoint, _) = component().await;
    let s = server_with_components(vec![endpoint]).await;
    let (x, _) = run(
        &s,
        "name: slow
tasks:
  wait: {type: component, timeout: 300ms, retry: {max_attempts: 1}, with: {component: echoer, tool: slow}}
",
    )
    .await;
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(x["tasks"]["wait"]["error"]["class"], "timeout", "{x}");
}

#[tokio::test]
async fn an_unknown_component_is_a_warning_at_create_and_a_clear_error_at_run() {
    let s = server_with_components(Vec::new()).await;
    let (x, created) = run(
        &s,
        "name: lost
tasks:
  call: {type: component, retry: {max_attempts: 1}, with: {component: nowhere, tool: echo}}
",
    )
    .await;
    let warnings = created["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{created}");
    assert_eq!(warnings[0]["path"], "tasks.call.with.component");
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("no component `nowhere`"),
        "{created}"
    );
    assert_eq!(x["status"], "failed");
    let e = &x["tasks"]["call"]["error"];
    assert_eq!(e["class"], "validation");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("[[components]]"),
        "{e}"
    );
    // Both or neither of tool and action: refused at create.
    let r = s
        .post_yaml(
            "/api/workflows",
            "name: both\ntasks:\n  c: {type: component, with: {component: x, tool: a, action: b}}\n",
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_definition");
}

#[tokio::test]
async fn components_are_listed_with_their_tools() {
    let (endpoint, _) = component().await;
    let unreachable = Endpoint {
        name: "gone".into(),
        url: reqwest::Url::parse("http://127.0.0.1:9").expect("url"),
        mcp_prefix: "/mcp".into(),
        token: None,
    };
    let s = server_with_components(vec![endpoint.clone(), unreachable]).await;
    let list = s.get("/api/components").await.json();
    let names: Vec<&str> = list["components"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["echoer", "gone"]);
    assert_eq!(list["components"][0]["source"], "config");
    assert_eq!(list["components"][0]["authenticated"], true);
    assert!(!list.to_string().contains(TOKEN));
    let one = s.get("/api/components/echoer").await.json();
    assert_eq!(one["mcp_prefix"], "/api/mcp/v2");
    let tools = s.get("/api/components/echoer/tools").await;
    assert_eq!(tools.status, StatusCode::OK, "{}", tools.text);
    assert_eq!(tools.json()["tools"][0]["name"], "echo");
    assert_error(
        &s.get("/api/components/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let e = assert_error(
        &s.get("/api/components/gone/tools").await,
        StatusCode::BAD_GATEWAY,
        "bad_gateway",
    );
    assert!(
        e["message"].as_str().unwrap_or("").contains("`gone`"),
        "{e}"
    );
}
