//! A real HTTP server on 127.0.0.1 that plays the services the examples call.
//!
//! It runs on its own thread and runtime, so tests can run the `harmonia` binary as a
//! separate process against it. It records what it received, and how many `/weather`
//! requests ran at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// What the server saw.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) requests: Mutex<Vec<(String, Value)>>,
    pub(crate) weather_running: AtomicUsize,
    pub(crate) weather_max: AtomicUsize,
    pub(crate) flaky_calls: AtomicUsize,
}

impl Seen {
    pub(crate) fn bodies(&self, path: &str) -> Vec<Value> {
        self.requests
            .lock()
            .map(|r| {
                r.iter()
                    .filter(|(p, _)| p == path)
                    .map(|(_, b)| b.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn note(&self, path: &str, body: Value) {
        if let Ok(mut r) = self.requests.lock() {
            r.push((path.to_string(), body));
        }
    }
}

/// A running server: its base URL and what it saw.
pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) seen: Arc<Seen>,
}

type S = State<Arc<Seen>>;

async fn orders(State(seen): S, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    seen.note("/orders", json!(q));
    Json(json!({"orders": [
        {"customer": "acme", "status": "paid", "amount": 10},
        {"customer": "acme", "status": "paid", "amount": 5},
        {"customer": "globex", "status": "refunded", "amount": 99},
        {"customer": "initech", "status": "paid", "amount": 20},
    ]}))
}

async fn weather(State(seen): S, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    let now = seen.weather_running.fetch_add(1, Ordering::SeqCst) + 1;
    seen.weather_max.fetch_max(now, Ordering::SeqCst);
    let city = q.get("city").cloned().unwrap_or_default();
    // Uneven latencies, so that completion order differs from item order.
    let delay = (city.len() as u64 * 7) % 23;
    tokio::time::sleep(Duration::from_millis(delay)).await;
    seen.weather_running.fetch_sub(1, Ordering::SeqCst);
    let temp = 20 + (city.bytes().map(u64::from).sum::<u64>() % 20);
    Json(json!({"city": city, "temp": temp}))
}

async fn record(
    State(seen): S,
    Path(path): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    seen.note(&format!("/{path}"), body.clone());
    (
        StatusCode::CREATED,
        Json(json!({"ok": true, "received": body})),
    )
}

async fn flaky(State(seen): S, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let n = seen.flaky_calls.fetch_add(1, Ordering::SeqCst) + 1;
    if n <= 2 {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "try later"})),
        );
    }
    seen.note("/flaky", body);
    (StatusCode::OK, Json(json!({"synced": true, "call": n})))
}

async fn down() -> (StatusCode, &'static str) {
    (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance")
}

async fn action(
    State(seen): S,
    Path(action): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    seen.note(&format!("/api/actions/{action}"), body.clone());
    let result = match action.as_str() {
        "investigate" => json!(format!(
            "root cause of {}",
            body["params"]["issue"].as_str().unwrap_or("?")
        )),
        "fix" => json!(format!(
            "patch for: {}",
            body["params"]["diagnosis"].as_str().unwrap_or("?")
        )),
        "verify" => json!({"passed": true, "patch": body["params"]["patch"]}),
        _ => json!(null),
    };
    Json(json!({"result": result}))
}

/// Starts the server on a free port.
pub(crate) fn start() -> Server {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/orders", get(orders))
        .route("/weather", get(weather))
        .route("/flaky", post(flaky))
        .route("/enrich", post(down))
        .route("/api/actions/{action}", post(action))
        .route("/{path}", post(record))
        .with_state(seen.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tx.send(addr).expect("send addr");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    let addr = rx.recv().expect("server address");
    Server {
        base: format!("http://{addr}"),
        seen,
    }
}
