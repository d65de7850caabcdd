//! `harmonia serve` with Hermes, end to end: a real server against a Hermes written
//! for the test (register, heartbeat, unregister and query on 127.0.0.1, tokens that
//! expire), with heartbeats every 200 ms. Harmonia registers with the right payload,
//! heart-beats with its token, registers again when the token expires, starts and
//! serves while Hermes is down and registers once it comes up, unregisters on SIGTERM,
//! and calls a component it discovered through Hermes.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::served::Served;

/// The heartbeat interval every test asks of the server.
const HEARTBEAT: &str = "200ms";

/// A blocking HTTP client for the test thread, over a runtime that also serves the
/// test's own servers (fake Hermes, MCP component) in the background.
struct Net {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Net {
    fn new() -> Net {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a client");
        Net { rt, http }
    }

    fn send(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        self.rt.block_on(async {
            let r = rb.send().await.expect("the server answers");
            let status = r.status().as_u16();
            let text = r.text().await.expect("a body");
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }

    fn get(&self, url: &str) -> (u16, Value) {
        self.send(self.http.get(url))
    }

    fn post(&self, url: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(url).json(&body))
    }

    fn post_yaml(&self, url: &str, yaml: &str) -> (u16, Value) {
        self.send(
            self.http
                .post(url)
                .header("content-type", "application/yaml")
                .body(yaml.to_string()),
        )
    }

    /// Serves `app` on `addr` in the background.
    fn serve(&self, addr: SocketAddr, app: Router) -> SocketAddr {
        let listener = self
            .rt
            .block_on(tokio::net::TcpListener::bind(addr))
            .expect("binds");
        let local = listener.local_addr().expect("an address");
        self.rt
            .spawn(async move { axum::serve(listener, app).await });
        local
    }
}

/// One heartbeat Hermes received.
#[derive(Debug, Clone)]
struct Beat {
    component_id: Option<String>,
    token: Option<String>,
    status: Option<String>,
    accepted: bool,
}

/// One unregistration Hermes received.
#[derive(Debug, Clone)]
struct Unregistration {
    component_id: Option<String>,
    token: Option<String>,
    accepted: bool,
}

/// A registration Hermes issued.
#[derive(Debug, Clone)]
struct Issued {
    component_id: String,
    token: String,
    at: Instant,
    payload: Value,
}

/// What the fake Hermes knows and saw.
#[derive(Debug, Default)]
struct Registry {
    ttl: Duration,
    issued: Vec<Issued>,
    /// Registered components by id (removed when unregistered).
    live: BTreeMap<String, Value>,
    /// Components listed by every query besides the registered ones.
    seeded: Vec<Value>,
    beats: Vec<Beat>,
    unregistrations: Vec<Unregistration>,
    queries: Vec<Value>,
}

impl Registry {
    /// The component a valid, unexpired token was issued for.
    fn holder(&self, token: Option<&str>) -> Option<&Issued> {
        let token = token?;
        self.issued
            .iter()
            .find(|i| i.token == token && i.at.elapsed() < self.ttl)
    }
}

type Shared = Arc<Mutex<Registry>>;

/// A Hermes for the test, on 127.0.0.1.
struct Hermes {
    url: String,
    registry: Shared,
}

impl Hermes {
    /// Starts on a free port; tokens expire after `ttl`.
    fn start(net: &Net, ttl: Duration) -> Hermes {
        Hermes::start_on(net, SocketAddr::from(([127, 0, 0, 1], 0)), ttl)
    }

    /// Starts on `addr`; tokens expire after `ttl`.
    fn start_on(net: &Net, addr: SocketAddr, ttl: Duration) -> Hermes {
        let registry: Shared = Arc::new(Mutex::new(Registry {
            ttl,
            ..Registry::default()
        }));
        let app = Router::new()
            .route("/api/register", post(register))
            .route("/api/heartbeat", post(heartbeat))
            .route("/api/unregister", post(unregister))
            .route("/api/query", post(query))
            .with_state(registry.clone());
        let local = net.serve(addr, app);
        Hermes {
            url: format!("http://{local}"),
            registry,
        }
    }

    fn seed(&self, component: Value) {
        self.lock().seeded.push(component);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().expect("the registry lock")
    }

    fn issued(&self) -> Vec<Issued> {
        self.lock().issued.clone()
    }

    fn beats(&self) -> Vec<Beat> {
        self.lock().beats.clone()
    }

    fn unregistrations(&self) -> Vec<Unregistration> {
        self.lock().unregistrations.clone()
    }

    /// Waits up to `limit` for `ok` to hold of the registry.
    fn wait_for(&self, limit: Duration, what: &str, ok: impl Fn(&Registry) -> bool) {
        let since = Instant::now();
        loop {
            {
                let r = self.lock();
                if ok(&r) {
                    return;
                }
                assert!(
                    since.elapsed() < limit,
                    "{what} did not happen within {limit:?}; Hermes saw: issued {:?}, beats {:?}, unregistrations {:?}",
                    r.issued,
                    r.beats,
                    r.unregistrations
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn auth_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-authentication-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn refused(why: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"success": false, "message": why})),
    )
        .into_response()
}

async fn register(State(reg): State<Shared>, Json(payload): Json<Value>) -> Response {
    let name = payload.get("name").and_then(Value::as_str).unwrap_or("");
    let endpoint = payload
        .get("endpoint")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() || endpoint.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "message": "name and endpoint are required"})),
        )
            .into_response();
    }
    let mut r = reg.lock().expect("the registry lock");
    let n = r.issued.len() + 1;
    let component_id = format!("{name}-{n}");
    let token = format!("token-{n}-{}", n * 7919);
    r.live.insert(
        component_id.clone(),
        json!({
            "componentId": component_id,
            "name": name,
            "endpoint": endpoint,
            "capabilities": payload.get("capabilities").cloned().unwrap_or(json!([])),
            "healthy": true,
            "metadata": payload.get("metadata").cloned().unwrap_or(json!({})),
        }),
    );
    r.issued.push(Issued {
        component_id: component_id.clone(),
        token: token.clone(),
        at: Instant::now(),
        payload,
    });
    Json(json!({"success": true, "componentId": component_id, "token": token})).into_response()
}

async fn heartbeat(
    State(reg): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let token = auth_token(&headers);
    let component_id = body
        .get("component_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut r = reg.lock().expect("the registry lock");
    let accepted = r
        .holder(token.as_deref())
        .is_some_and(|i| Some(&i.component_id) == component_id.as_ref());
    r.beats.push(Beat {
        component_id,
        token,
        status: body
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_string),
        accepted,
    });
    if accepted {
        Json(json!({"success": true})).into_response()
    } else {
        refused("invalid or expired token")
    }
}

async fn unregister(
    State(reg): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let token = auth_token(&headers);
    let component_id = query.get("component_id").cloned();
    let mut r = reg.lock().expect("the registry lock");
    let accepted = r
        .holder(token.as_deref())
        .is_some_and(|i| Some(&i.component_id) == component_id.as_ref());
    r.unregistrations.push(Unregistration {
        component_id: component_id.clone(),
        token,
        accepted,
    });
    if accepted {
        if let Some(id) = &component_id {
            r.live.remove(id);
        }
        Json(json!({"success": true})).into_response()
    } else {
        refused("invalid or expired token")
    }
}

async fn query(State(reg): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let mut r = reg.lock().expect("the registry lock");
    r.queries.push(body.clone());
    let capability = body.get("capability").and_then(Value::as_str);
    let found: Vec<Value> = r
        .live
        .values()
        .chain(r.seeded.iter())
        .filter(|c| {
            capability.is_none_or(|cap| {
                c["capabilities"]
                    .as_array()
                    .is_some_and(|caps| caps.iter().any(|x| x == cap))
            })
        })
        .cloned()
        .collect();
    Json(Value::Array(found))
}

/// A `harmonia serve` told to register with `hermes_url`.
fn serve_with_hermes(dir: &tempfile::TempDir, hermes_url: &str) -> Served {
    Served::start_with_env(
        &dir.path().join("h.db"),
        &[],
        &[
            ("HERMES_URL", hermes_url),
            ("HARMONIA_HERMES_HEARTBEAT", HEARTBEAT),
            ("HARMONIA_PUBLIC_URL", ""),
        ],
    )
}

fn health(net: &Net, served: &Served) -> Value {
    let (status, body) = net.get(&format!("{}/health", served.base));
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls `/health` until `ok` holds of it, and returns it.
fn health_when(net: &Net, served: &Served, limit: Duration, ok: impl Fn(&Value) -> bool) -> Value {
    let since = Instant::now();
    loop {
        let h = health(net, served);
        if ok(&h) {
            return h;
        }
        assert!(
            since.elapsed() < limit,
            "/health did not reach the expected state within {limit:?}: {h}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn harmonia_registers_with_its_payload_and_heart_beats_with_its_token() {
    let net = Net::new();
    let hermes = Hermes::start(&net, Duration::from_secs(60));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let served = serve_with_hermes(&dir, &hermes.url);

    hermes.wait_for(Duration::from_secs(10), "three accepted heartbeats", |r| {
        r.beats.iter().filter(|b| b.accepted).count() >= 3
    });
    let issued = hermes.issued();
    assert_eq!(issued.len(), 1, "one registration: {issued:?}");
    let reg = &issued[0];
    let p = &reg.payload;
    assert_eq!(p["name"], "harmonia", "{p}");
    assert_eq!(p["type"], "harmonia", "{p}");
    assert_eq!(p["version"], env!("CARGO_PKG_VERSION"), "{p}");
    assert_eq!(p["endpoint"], served.base.as_str(), "{p}");
    let capabilities: Vec<&str> = p["capabilities"]
        .as_array()
        .expect("a list of capabilities")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for c in [
        "workflow_orchestration",
        "workflow_execution",
        "template_management",
        "state_management",
    ] {
        assert!(
            capabilities.contains(&c),
            "{c} missing from {capabilities:?}"
        );
    }
    assert_eq!(
        p["metadata"]["api_base"],
        format!("{}/api/v1", served.base),
        "{p}"
    );

    // Every heartbeat carries the token in its header, and the id it was issued for.
    let beats = hermes.beats();
    assert!(
        beats.iter().all(|b| b.accepted
            && b.token.as_deref() == Some(reg.token.as_str())
            && b.component_id.as_deref() == Some(reg.component_id.as_str())
            && b.status.as_deref() == Some("healthy")),
        "{beats:?}"
    );

    let h = health(&net, &served);
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["component"], "harmonia", "{h}");
    assert_eq!(h["registered"], true, "{h}");
    assert_eq!(h["hermes"]["url"], hermes.url.as_str(), "{h}");
    assert_eq!(
        h["hermes"]["component_id"],
        reg.component_id.as_str(),
        "{h}"
    );
    assert_eq!(h["hermes"]["registrations"], 1, "{h}");
    assert!(h["hermes"]["last_contact"].is_string(), "{h}");
    assert!(h["hermes"]["last_error"].is_null(), "{h}");
    let text = h.to_string();
    assert!(!text.contains(&reg.token), "the token is not shown: {text}");
    assert!(served.terminate().success());
}

#[test]
fn an_expired_token_makes_harmonia_register_again_and_heart_beat_with_the_new_one() {
    let net = Net::new();
    let hermes = Hermes::start(&net, Duration::from_secs(1));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let served = serve_with_hermes(&dir, &hermes.url);

    // The first token expires after 1 s: a heartbeat is refused, Harmonia registers
    // again at once and heart-beats with the second token.
    hermes.wait_for(
        Duration::from_secs(10),
        "two accepted heartbeats with the second token",
        |r| {
            r.issued.len() >= 2
                && r.beats
                    .iter()
                    .filter(|b| {
                        b.accepted && b.token.as_deref() == Some(r.issued[1].token.as_str())
                    })
                    .count()
                    >= 2
        },
    );
    let issued = hermes.issued();
    let beats = hermes.beats();
    let (first, second) = (&issued[0], &issued[1]);
    assert_ne!(first.token, second.token);
    let refused_at = beats
        .iter()
        .position(|b| !b.accepted)
        .expect("a heartbeat was refused");
    assert_eq!(
        beats[refused_at].token.as_deref(),
        Some(first.token.as_str()),
        "the refused heartbeat carried the expired token: {beats:?}"
    );
    assert!(
        beats[..refused_at]
            .iter()
            .all(|b| b.accepted && b.token.as_deref() == Some(first.token.as_str())),
        "{beats:?}"
    );
    let after = &beats[refused_at + 1..];
    assert!(
        after
            .iter()
            .all(|b| b.token.as_deref() != Some(first.token.as_str())),
        "the expired token is never sent again: {beats:?}"
    );
    assert!(
        after.first().is_some_and(|b| b.accepted
            && b.token.as_deref() == Some(second.token.as_str())
            && b.component_id.as_deref() == Some(second.component_id.as_str())),
        "the first heartbeat after the refusal is the second registration's: {beats:?}"
    );
    assert_eq!(second.payload, first.payload, "the same payload");

    let h = health_when(&net, &served, Duration::from_secs(5), |h| {
        h["registered"] == true && h["hermes"]["registrations"].as_u64() >= Some(2)
    });
    let id = h["hermes"]["component_id"].as_str().expect("an id");
    assert!(
        hermes.issued()[1..].iter().any(|i| i.component_id == id),
        "/health names a later registration: {h}"
    );
    assert!(served.terminate().success());
}

#[test]
fn harmonia_serves_while_hermes_is_down_and_registers_once_it_comes_up() {
    let net = Net::new();
    // A port nobody listens on, for now.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("binds")
        .local_addr()
        .expect("an address");
    let url = format!("http://{addr}");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let started = Instant::now();
    let served = serve_with_hermes(&dir, &url);
    assert!(
        !served.base.ends_with(&format!(":{}", addr.port())),
        "the server took the port meant for Hermes"
    );

    // /health answers at once, unregistered, and says why.
    let h = health(&net, &served);
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["registered"], false, "{h}");
    assert_eq!(h["hermes"]["url"], url.as_str(), "{h}");
    let h = health_when(&net, &served, Duration::from_secs(5), |h| {
        h["hermes"]["last_error"].is_string()
    });
    assert_eq!(h["registered"], false, "{h}");
    assert!(
        h["hermes"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot reach Hermes")),
        "{h}"
    );
    assert_eq!(h["hermes"]["registrations"], 0, "{h}");

    // The API works meanwhile.
    let (status, body) = net.post_yaml(
        &format!("{}/api/workflows", served.base),
        "name: meanwhile\ntasks:\n  a: {type: set, with: 41}\noutputs:\n  out: ${ $tasks.a.output + 1 }\n",
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = net.post(
        &format!("{}/api/workflows/meanwhile/execute", served.base),
        json!({"inputs": {}}),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["execution_id"].as_str().expect("an id").to_string();
    let since = Instant::now();
    loop {
        let (_, x) = net.get(&format!("{}/api/executions/{id}", served.base));
        if x["status"] == "succeeded" {
            assert_eq!(x["outputs"], json!({"out": 42}), "{x}");
            break;
        }
        assert!(since.elapsed() < Duration::from_secs(10), "{x}");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Hermes comes up on that port after the second try (1 s after the first):
    // Harmonia registers at its third (the backoff doubles, 2 s later).
    std::thread::sleep(Duration::from_millis(1500).saturating_sub(started.elapsed()));
    let up = started.elapsed();
    let hermes = Hermes::start_on(&net, addr, Duration::from_secs(60));
    hermes.wait_for(Duration::from_secs(12), "a registration", |r| {
        !r.issued.is_empty() && r.beats.iter().any(|b| b.accepted)
    });
    eprintln!(
        "Hermes came up {up:?} after the server started; registered {:?} after that",
        started.elapsed() - up
    );
    let issued = hermes.issued();
    assert_eq!(issued.len(), 1, "{issued:?}");
    let h = health_when(&net, &served, Duration::from_secs(5), |h| {
        h["registered"] == true
    });
    assert_eq!(
        h["hermes"]["component_id"],
        issued[0].component_id.as_str(),
        "{h}"
    );
    assert_eq!(h["hermes"]["registrations"], 1, "{h}");
    assert!(h["hermes"]["last_error"].is_null(), "{h}");
    assert!(served.terminate().success());
}

#[test]
fn sigterm_unregisters_from_hermes_and_exits_zero() {
    let net = Net::new();
    let hermes = Hermes::start(&net, Duration::from_secs(60));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let served = serve_with_hermes(&dir, &hermes.url);
    hermes.wait_for(Duration::from_secs(10), "an accepted heartbeat", |r| {
        r.beats.iter().any(|b| b.accepted)
    });
    assert!(hermes.unregistrations().is_empty());

    let status = served.terminate();
    assert!(status.success(), "{status}");
    let issued = hermes.issued();
    assert_eq!(issued.len(), 1, "{issued:?}");
    let gone = hermes.unregistrations();
    assert_eq!(gone.len(), 1, "one unregistration: {gone:?}");
    assert!(gone[0].accepted, "{gone:?}");
    assert_eq!(
        gone[0].component_id.as_deref(),
        Some(issued[0].component_id.as_str())
    );
    assert_eq!(gone[0].token.as_deref(), Some(issued[0].token.as_str()));
    assert!(hermes.lock().live.is_empty(), "Hermes no longer lists it");
}

/// The calls an MCP-style component received.
type Calls = Arc<Mutex<Vec<Value>>>;

async fn process(State(calls): State<Calls>, Json(body): Json<Value>) -> Json<Value> {
    calls.lock().expect("the calls lock").push(body.clone());
    Json(json!({
        "status": "success",
        "result": {
            "tool": body.get("tool_name").cloned().unwrap_or(Value::Null),
            "args": body.get("arguments").cloned().unwrap_or(Value::Null),
            "context": body.get("context").cloned().unwrap_or(Value::Null),
        }
    }))
}

async fn tools() -> Json<Value> {
    Json(
        json!({"tools": [{"name": "echo", "description": "Answers with its arguments and context"}]}),
    )
}

const CALLS_ECHO: &str = "name: calls-echo
tasks:
  call:
    type: component
    with: {component: echo-mcp, tool: echo, arguments: {x: 1}}
outputs:
  out: ${ $tasks.call.output }
";

#[test]
fn a_component_registered_with_hermes_is_listed_and_its_tool_called() {
    let net = Net::new();
    let calls: Calls = Arc::default();
    let mcp = net.serve(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Router::new()
            .route("/api/mcp/v2/process", post(process))
            .route("/api/mcp/v2/tools", get(tools))
            .with_state(calls.clone()),
    );
    let endpoint = format!("http://{mcp}");
    let hermes = Hermes::start(&net, Duration::from_secs(60));
    hermes.seed(json!({
        "componentId": "echo-mcp-1",
        "name": "echo-mcp",
        "endpoint": endpoint,
        "capabilities": ["echo"],
        "healthy": true,
        "metadata": {"mcp_prefix": "/api/mcp/v2"}
    }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let served = serve_with_hermes(&dir, &hermes.url);
    let base = &served.base;

    let (status, list) = net.get(&format!("{base}/api/components"));
    assert_eq!(status, 200, "{list}");
    let found = list["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == "echo-mcp")
        .unwrap_or_else(|| panic!("echo-mcp is listed: {list}"))
        .clone();
    assert_eq!(found["source"], "hermes", "{found}");
    assert_eq!(found["endpoint"], endpoint.as_str(), "{found}");
    assert_eq!(found["mcp_prefix"], "/api/mcp/v2", "{found}");
    assert_eq!(found["capabilities"], json!(["echo"]), "{found}");
    assert_eq!(found["healthy"], true, "{found}");
    assert_eq!(found["authenticated"], false, "{found}");
    assert!(list["hermes_error"].is_null(), "{list}");
    assert!(!hermes.lock().queries.is_empty(), "Harmonia asked Hermes");

    let (status, tools) = net.get(&format!("{base}/api/components/echo-mcp/tools"));
    assert_eq!(status, 200, "{tools}");
    assert_eq!(tools["component"], "echo-mcp", "{tools}");
    let listed = tools["tools"].as_array().expect("tools");
    assert_eq!(listed.len(), 1, "{tools}");
    assert_eq!(listed[0]["name"], "echo", "{tools}");

    let (status, body) = net.post_yaml(&format!("{base}/api/workflows"), CALLS_ECHO);
    assert_eq!(status, 201, "{body}");
    let (status, body) = net.post(
        &format!("{base}/api/workflows/calls-echo/execute"),
        json!({"inputs": {}}),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["execution_id"].as_str().expect("an id").to_string();
    let since = Instant::now();
    let x = loop {
        let (_, x) = net.get(&format!("{base}/api/executions/{id}"));
        if ["succeeded", "failed", "cancelled"].contains(&x["status"].as_str().unwrap_or("")) {
            break x;
        }
        assert!(since.elapsed() < Duration::from_secs(15), "{x}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(x["status"], "succeeded", "{x}");
    let out = &x["outputs"]["out"];
    assert_eq!(out["tool"], "echo", "{x}");
    assert_eq!(out["args"], json!({"x": 1}), "{x}");
    let context = &out["context"];
    assert_eq!(context["execution_id"], id.as_str(), "{x}");
    assert_eq!(context["workflow"], "calls-echo", "{x}");
    assert_eq!(context["task"], "call", "{x}");
    assert_eq!(context["attempt"], 1, "{x}");
    let calls = calls.lock().expect("the calls lock").clone();
    assert_eq!(calls.len(), 1, "one call: {calls:?}");
    assert_eq!(calls[0]["tool_name"], "echo");
    assert!(served.terminate().success());
}

/// Registers, then never answers anything again (a Hermes that hangs).
async fn register_then_hang(
    State(registered): State<Arc<Mutex<u32>>>,
    Json(_): Json<Value>,
) -> Json<Value> {
    *registered.lock().expect("lock") += 1;
    Json(serde_json::json!({"success": true, "componentId": "hung-1", "token": "t-hung"}))
}

async fn hang() -> Json<Value> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Json(Value::Null)
}

#[test]
fn a_hung_hermes_does_not_hold_up_a_shutdown() {
    let net = Net::new();
    let registered: Arc<Mutex<u32>> = Arc::default();
    let app = Router::new()
        .route("/api/register", axum::routing::post(register_then_hang))
        .route("/api/heartbeat", axum::routing::post(hang))
        .route("/api/unregister", axum::routing::post(hang))
        .with_state(registered.clone());
    let addr = net.serve("127.0.0.1:0".parse().expect("addr"), app);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut served = serve_with_hermes(&dir, &format!("http://{addr}"));
    let since = Instant::now();
    while *registered.lock().expect("lock") == 0 {
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "never registered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A heartbeat is now hanging.
    std::thread::sleep(Duration::from_millis(500));
    let (status, took) = served.terminate_within(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(4),
        "a hung Hermes held the shutdown for {took:?}"
    );
}
