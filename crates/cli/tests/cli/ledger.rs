//! What the crash tests compare: the side effects that really happened, and what the
//! engine's event log says ran.
//!
//! The ledger is an HTTP server on 127.0.0.1 that counts every call per key; the tasks
//! of a crash test POST `{"key": ...}` naming their execution and unit (a task, or
//! `task/item` for an item of a fan-out). A call is counted when it arrives, before the
//! ledger answers: a call whose caller died mid-request was a side effect all the same.
//! Each call takes a few milliseconds, varying by key, so that kills land mid-request.
//!
//! `units` reads an execution's log into units, and `audit` holds them against the
//! ledger: every call must have a durable `attempt_started` (the engine records an
//! attempt before it starts it), and nothing may start again once its success is
//! recorded.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use harmonia_storage::EventRecord;
use serde_json::{Value, json};

/// A running ledger server.
pub(crate) struct Ledger {
    /// Where tasks POST their calls.
    pub(crate) url: String,
    inner: Arc<Inner>,
}

struct Inner {
    calls: Mutex<HashMap<String, u32>>,
    total: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    delay_ms: RangeInclusive<u64>,
}

/// Counts a call in flight until it is answered or its caller goes away.
struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn call(State(inner): State<Arc<Inner>>, Json(body): Json<Value>) -> Json<Value> {
    let key = body["key"].as_str().unwrap_or_default().to_string();
    let n = {
        let mut calls = inner.calls.lock().expect("the ledger lock");
        let n = calls.entry(key.clone()).or_default();
        *n += 1;
        *n
    };
    inner.total.fetch_add(1, Ordering::SeqCst);
    let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _in_flight = InFlight(inner.clone());
    // FNV-1a of the key: the same key always takes the same time.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let (low, high) = (*inner.delay_ms.start(), *inner.delay_ms.end());
    let delay = low + hash % (high - low + 1);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    Json(json!({"count": n}))
}

impl Ledger {
    /// Starts a ledger on its own runtime; each call takes a time in `delay_ms`.
    pub(crate) fn start(delay_ms: RangeInclusive<u64>) -> Ledger {
        assert!(!delay_ms.is_empty(), "an empty delay range");
        let inner = Arc::new(Inner {
            calls: Mutex::default(),
            total: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            delay_ms,
        });
        let app = Router::new()
            .route("/ledger", post(call))
            .with_state(inner.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the ledger's runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("the ledger binds");
                tx.send(listener.local_addr().expect("the ledger's address"))
                    .expect("the address is sent");
                axum::serve(listener, app).await.expect("the ledger serves");
            });
        });
        let addr = rx.recv().expect("the ledger's address");
        Ledger {
            url: format!("http://{addr}/ledger"),
            inner,
        }
    }

    /// How many calls were made with `key`.
    pub(crate) fn calls(&self, key: &str) -> u32 {
        let calls = self.inner.calls.lock().expect("the ledger lock");
        calls.get(key).copied().unwrap_or(0)
    }

    /// Every key called, with its number of calls.
    pub(crate) fn all(&self) -> HashMap<String, u32> {
        self.inner.calls.lock().expect("the ledger lock").clone()
    }

    /// Calls made so far, over all keys.
    pub(crate) fn total(&self) -> u64 {
        self.inner.total.load(Ordering::SeqCst)
    }

    /// Calls arrived and not answered yet (nor abandoned by their caller).
    pub(crate) fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// The most calls that were in flight at once.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight.load(Ordering::SeqCst)
    }
}

/// What an execution's log says about one unit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Unit {
    /// `attempt_started` events.
    pub(crate) started: u32,
    /// Of those, the ones with `recovered: true` (re-run after a crash).
    pub(crate) recovered: u32,
    /// `attempt_succeeded` events.
    pub(crate) succeeded: u32,
    /// `attempt_started` events after the unit's first `attempt_succeeded`.
    pub(crate) started_after_success: u32,
}

/// The unit an attempt event is about: `task`, or `task/item` in a fan-out.
pub(crate) fn unit_of(data: &Value) -> String {
    let task = data["task"].as_str().unwrap_or_default();
    match data["item"].as_u64() {
        Some(item) => format!("{task}/{item}"),
        None => task.to_string(),
    }
}

/// The units of one execution's log, in the order of its sequence numbers.
pub(crate) fn units(events: &[EventRecord]) -> BTreeMap<String, Unit> {
    let mut ordered: Vec<&EventRecord> = events.iter().collect();
    ordered.sort_by_key(|e| e.seq);
    let mut units: BTreeMap<String, Unit> = BTreeMap::new();
    for e in ordered {
        let data = e.data.value();
        match e.kind.as_str() {
            "attempt_started" => {
                let unit = units.entry(unit_of(&data)).or_default();
                unit.started += 1;
                if data["recovered"] == json!(true) {
                    unit.recovered += 1;
                }
                if unit.succeeded > 0 {
                    unit.started_after_success += 1;
                }
            }
            "attempt_succeeded" => {
                units.entry(unit_of(&data)).or_default().succeeded += 1;
            }
            _ => {}
        }
    }
    units
}

/// Every way the log of execution `label` disagrees with the ledger: `calls` holds the
/// ledger's calls per unit of that execution.
pub(crate) fn audit(
    label: &str,
    calls: &BTreeMap<String, u32>,
    units: &BTreeMap<String, Unit>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (unit, &n) in calls {
        let started = units.get(unit).map_or(0, |u| u.started);
        if n > started {
            problems.push(format!(
                "{label}: {unit} was called {n} times but has {started} durable attempts"
            ));
        }
    }
    for (unit, u) in units {
        if u.started_after_success > 0 {
            problems.push(format!(
                "{label}: {unit} started {} times after its success was recorded ({u:?})",
                u.started_after_success
            ));
        }
        if u.succeeded > 1 {
            problems.push(format!(
                "{label}: {unit} succeeded {} times ({u:?})",
                u.succeeded
            ));
        }
    }
    problems
}
