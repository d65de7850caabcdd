//! Durable waits and timers across a crash: `harmonia serve` is killed with SIGKILL while
//! approvals and `wait_event` tasks wait and while a retry's backoff is pending, then
//! started again on the same SQLite file.
//!
//! Five executions, one workflow each (see `WORKFLOWS`):
//! - `approval_expires`: an approval with a `SHORT` timeout and `on_timeout: approve`;
//! - `approval_answered`: an approval with a form and a 1 h timeout, answered after the
//!   restart;
//! - `event_matched`: a `wait_event` with a filter and a 1 h timeout, ended by an event
//!   posted after the restart;
//! - `event_expires`: a `wait_event` with a `SHORT` timeout;
//! - `retried`: an `http` task whose first call gets a 500 (see `Flaky`), retried after a
//!   fixed `SHORT` delay.
//!
//! The server is killed once all of them wait (the retry is scheduled), stays down for
//! `DOWN`, and the new one must be up before the first deadline. Then:
//! - every wait has the deadline (`until`) set before the kill, and is the same attempt
//!   (one attempt each: a wait is not begun again);
//! - the deadlines that pass after the restart end their task no earlier than planned
//!   and less than `LATE` after it; `LATE` is shorter than `DOWN`, so a timer armed again
//!   with its whole duration at the restart would be caught;
//! - the expiring approval is approved with `by: null`; the expiring `wait_event` fails
//!   with the class `wait_timeout`;
//! - the answered approval refuses inputs that break its form (422, nothing recorded),
//!   then takes valid ones: `{decision: approved, by, at, inputs}`, defaults filled in;
//! - the event wait ignores an event its filter rejects, takes the matching one (its
//!   output is the event), and the same event posted again is a duplicate (200) that
//!   changes nothing;
//! - the retry runs once, at about its original due time, and succeeds: two attempts,
//!   two calls.
//!
//! Deadlines and ends are the server's own timestamps (`until`, `due`, `ended_at`, an
//! attempt's start), on the same clock as the test's. The test prints a summary.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use harmonia_storage::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};

use super::served::Served;

/// The short timeouts and the retry's delay: time enough to kill and restart the server
/// before they pass, on a slow and busy machine.
const SHORT: Duration = Duration::from_secs(12);
/// How long the server stays down.
const DOWN: Duration = Duration::from_secs(4);
/// How late a deadline may end its task after the restart.
const LATE: Duration = Duration::from_secs(3);
const _: () = assert!(LATE.as_millis() < DOWN.as_millis());
/// How long anything awaited may take.
const PATIENCE: Duration = Duration::from_secs(60);

/// The five workflows (names as in the module doc); `SHORT` stands for [`SHORT`].
const WORKFLOWS: [&str; 5] = [
    "name: approval_expires
tasks:
  go: {type: approval, with: {prompt: Ship?, timeout: SHORT, on_timeout: approve}}
",
    "name: approval_answered
tasks:
  go:
    type: approval
    with:
      prompt: Deploy?
      timeout: 1h
      form:
        type: object
        required: [reason]
        additionalProperties: false
        properties: {reason: {type: string, minLength: 3}, ticket: {type: integer, default: 7}}
outputs: {reason: '${ $tasks.go.output.inputs.reason }'}
",
    "name: event_matched
tasks:
  paid:
    type: wait_event
    with: {type: crash.order.paid, filter: '${ $event.data.order == 42 }', timeout: 1h}
",
    "name: event_expires
tasks:
  refunded: {type: wait_event, with: {type: crash.order.refunded, timeout: SHORT}}
",
    "name: retried
inputs: {type: object, required: [url], properties: {url: {type: string}}}
tasks:
  call:
    type: http
    with: {method: POST, url: '${ $inputs.url }'}
    retry: {max_attempts: 2, backoff: fixed, initial_delay: SHORT}
",
];

/// An endpoint on 127.0.0.1 that answers 500 to its first call and 200 afterwards, and
/// records when each call arrived.
struct Flaky {
    url: String,
    calls: Arc<Mutex<Vec<Timestamp>>>,
}

async fn flaky(State(calls): State<Arc<Mutex<Vec<Timestamp>>>>) -> (StatusCode, Json<Value>) {
    let mut calls = calls.lock().expect("the calls lock");
    calls.push(Timestamp::now());
    match calls.len() {
        1 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "not yet"})),
        ),
        n => (StatusCode::OK, Json(json!({"call": n}))),
    }
}

/// The test's HTTP client (and the runtime the flaky endpoint runs on).
struct Client {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Client {
    fn new() -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("the client's runtime");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .expect("a client");
        Client { rt, http }
    }

    fn flaky(&self) -> Flaky {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/flaky", post(flaky))
            .with_state(calls.clone());
        let listener = self
            .rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("the flaky endpoint binds");
        let addr = listener.local_addr().expect("its address");
        self.rt
            .spawn(async move { axum::serve(listener, app).await });
        Flaky {
            url: format!("http://{addr}/flaky"),
            calls,
        }
    }

    /// A request to the server, and its status and JSON body.
    fn send(&self, method: Method, url: String, body: Option<(&str, String)>) -> (u16, Value) {
        let mut request = self.http.request(method, &url);
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        self.rt.block_on(async {
            let r = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            let body = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{url}: {status} but not JSON ({e}): {text}"));
            (status, body)
        })
    }

    fn get(&self, base: &str, path: &str) -> Value {
        let (status, body) = self.send(Method::GET, format!("{base}{path}"), None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// A POST of `body` (a `Value` is sent as JSON).
    fn post(
        &self,
        base: &str,
        path: &str,
        content_type: &str,
        body: impl ToString,
    ) -> (u16, Value) {
        let body = Some((content_type, body.to_string()));
        self.send(Method::POST, format!("{base}{path}"), body)
    }

    fn start(&self, base: &str, workflow: &str, inputs: Value) -> String {
        let path = format!("/api/workflows/{workflow}/execute");
        let (status, body) = self.post(base, &path, "application/json", json!({"inputs": inputs}));
        assert_eq!(status, 201, "starting {workflow}: {body}");
        body["execution_id"]
            .as_str()
            .expect("an execution id")
            .to_string()
    }

    fn detail(&self, base: &str, id: &str) -> Value {
        self.get(base, &format!("/api/executions/{id}"))
    }

    fn history(&self, base: &str, id: &str) -> Vec<Value> {
        let h = self.get(base, &format!("/api/executions/{id}/events"));
        h["events"].as_array().cloned().expect("a list of events")
    }

    /// The deadline of `task`'s wait, once it waits.
    fn until(&self, base: &str, id: &str, task: &str) -> Timestamp {
        poll(&format!("{id} to wait in `{task}`"), || {
            let x = self.detail(base, id);
            let until = &x["tasks"][task]["waiting"]["until"];
            until.is_string().then(|| ts(until))
        })
    }

    /// The execution once it has ended.
    fn ended(&self, base: &str, id: &str) -> Value {
        poll(&format!("{id} to end"), || {
            let x = self.detail(base, id);
            let status = x["status"].as_str().unwrap_or_default();
            ["succeeded", "failed", "cancelled"]
                .contains(&status)
                .then_some(x)
        })
    }
}

/// `f`'s first `Some`, trying every 100 ms for `PATIENCE`.
fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ts(v: &Value) -> Timestamp {
    v.as_str()
        .and_then(Timestamp::parse)
        .unwrap_or_else(|| panic!("not a timestamp: {v}"))
}

/// The first history entry of `kind` whose `event` `f` accepts.
fn find<'a>(history: &'a [Value], kind: &str, f: impl Fn(&Value) -> bool) -> Option<&'a Value> {
    history.iter().find(|e| e["kind"] == kind && f(&e["event"]))
}

/// Checks that a deadline ended its task at about its time; a line for the summary.
fn on_time(what: &str, planned: Timestamp, actual: Timestamp, killed: Timestamp) -> String {
    let after_kill = |t: Timestamp| t.since(killed).as_secs_f64();
    assert!(
        actual >= planned && actual.since(planned) < LATE,
        "{what}: planned at {planned}, happened at {actual} (the kill was at {killed}): not \
         within {LATE:?} after the original deadline"
    );
    format!(
        "{what}: planned {:.3}s after the kill, happened at {:.3}s ({} ms late)",
        after_kill(planned),
        after_kill(actual),
        actual.millis() - planned.millis()
    )
}

fn cloud_event(id: &str, ty: &str, order: u64) -> Value {
    json!({"specversion": "1.0", "id": id, "source": "crash-test", "type": ty,
           "data": {"order": order}})
}

#[test]
fn waits_and_a_retry_timer_resume_with_their_remaining_time_after_a_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("harmonia.db");
    let client = Client::new();
    let flaky = client.flaky();
    let served = Served::start(&db, &[]);
    let base = served.base.clone();
    for yaml in WORKFLOWS {
        let yaml = yaml.replace("SHORT", &format!("{}s", SHORT.as_secs()));
        let (status, body) = client.post(&base, "/api/workflows", "application/yaml", yaml);
        assert_eq!(status, 201, "creating a workflow: {body}");
    }

    // The long waits first, the timed ones last, so as to kill soon after they begin.
    let answered = client.start(&base, "approval_answered", json!({}));
    let matched = client.start(&base, "event_matched", json!({}));
    let expires = client.start(&base, "approval_expires", json!({}));
    let event_expires = client.start(&base, "event_expires", json!({}));
    let retried = client.start(&base, "retried", json!({"url": flaky.url}));
    let waits = [
        (&answered, "go"),
        (&matched, "paid"),
        (&expires, "go"),
        (&event_expires, "refunded"),
    ];
    let untils: Vec<Timestamp> = waits
        .iter()
        .map(|(id, task)| client.until(&base, id, task))
        .collect();
    let due = poll("the retry to be scheduled", || {
        let history = client.history(&base, &retried);
        let scheduled = find(&history, "retry_scheduled", |e| e["attempt"] == 2)?;
        Some(ts(&scheduled["event"]["due"]))
    });

    let killed = Timestamp::now();
    served.kill();
    std::thread::sleep(DOWN);
    let served = Served::start(&db, &[]);
    let base = served.base.clone();
    let up = Timestamp::now();
    let first_deadline = untils[2].min(untils[3]).min(due);
    assert!(
        up.plus(Duration::from_secs(1)) < first_deadline,
        "the server was up again at {up}, too close to the first deadline {first_deadline} \
         (killed at {killed}): the machine is too slow for this test's SHORT = {SHORT:?}"
    );

    // Every wait is the one begun before the kill, with its deadline.
    for ((id, task), until) in waits.iter().zip(&untils) {
        let x = client.detail(&base, id);
        let t = &x["tasks"][task];
        assert_eq!(t["waiting"]["until"], json!(until.to_string()), "{id}: {x}");
        assert_eq!(t["attempts"], 1, "{id}: {x}");
    }

    answer_the_approval(&client, &base, &answered, untils[0], up);
    match_the_event(&client, &base, &matched);

    // The deadlines: each passes at its original time.
    let mut summary = Vec::new();
    let x = client.ended(&base, &expires);
    let task = &x["tasks"]["go"];
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(task["output"]["decision"], "approved", "{x}");
    assert!(task["output"]["by"].is_null(), "{x}");
    let ended = ts(&task["ended_at"]);
    summary.push(on_time("approval timeout", untils[2], ended, killed));

    let x = client.ended(&base, &event_expires);
    let task = &x["tasks"]["refunded"];
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(task["error"]["class"], "wait_timeout", "{x}");
    assert_eq!(task["attempts"], 1, "{x}");
    let ended = ts(&task["ended_at"]);
    summary.push(on_time("wait_event timeout", untils[3], ended, killed));

    let x = client.ended(&base, &retried);
    assert_eq!(x["status"], "succeeded", "{x}");
    assert_eq!(x["tasks"]["call"]["attempts"], 2, "{x}");
    let history = client.history(&base, &retried);
    let scheduled = history
        .iter()
        .filter(|e| e["kind"] == "retry_scheduled")
        .count();
    assert_eq!(scheduled, 1, "the retry was scheduled again: {history:?}");
    let second = find(&history, "attempt_started", |e| e["attempt"] == 2)
        .unwrap_or_else(|| panic!("no second attempt: {history:?}"));
    summary.push(on_time("retry", due, ts(&second["at"]), killed));
    let calls = flaky.calls.lock().expect("the calls lock").clone();
    assert_eq!(calls.len(), 2, "the flaky endpoint's calls: {calls:?}");
    assert!(
        calls[1] >= due,
        "the retry called at {} before its due time {due}",
        calls[1]
    );

    eprintln!(
        "waits across a SIGKILL: down {DOWN:?}, up again {:.3}s after the kill; long waits \
         kept their deadlines and were answered after the restart",
        up.since(killed).as_secs_f64()
    );
    for line in summary {
        eprintln!("  {line}");
    }
}

/// After the restart, the approval refuses a bad answer (changing nothing) and takes a
/// good one.
fn answer_the_approval(
    client: &Client,
    base: &str,
    answered: &str,
    until: Timestamp,
    up: Timestamp,
) {
    let approve = format!("/api/executions/{answered}/tasks/go/approve");
    let before = client.history(base, answered).len();
    let bad = json!({"inputs": {"reason": "x"}});
    let (status, body) = client.post(base, &approve, "application/json", &bad);
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("invalid_inputs")),
        "{body}"
    );
    assert_eq!(
        client.history(base, answered).len(),
        before,
        "a refused answer recorded something"
    );
    let still = client.until(base, answered, "go");
    assert_eq!(still, until, "a refused answer moved the deadline");
    let good = json!({"inputs": {"reason": "after the crash"}});
    let (status, body) = client.post(base, &approve, "application/json", &good);
    assert_eq!(status, 200, "{body}");
    let x = client.ended(base, answered);
    assert_eq!(x["status"], "succeeded", "{x}");
    let out = &x["tasks"]["go"]["output"];
    assert_eq!(out["decision"], "approved", "{x}");
    assert_eq!(out["by"], "local", "{x}");
    assert_eq!(
        out["inputs"],
        json!({"reason": "after the crash", "ticket": 7}),
        "{x}"
    );
    assert!(
        ts(&out["at"]) > up,
        "answered at {} before the restart",
        out["at"]
    );
    assert_eq!(x["outputs"], json!({"reason": "after the crash"}), "{x}");
}

/// After the restart, the event wait ignores a miss, takes a match, and the match posted
/// again is a duplicate that changes nothing.
fn match_the_event(client: &Client, base: &str, matched: &str) {
    let events = "application/cloudevents+json";
    let miss = cloud_event("order-41", "crash.order.paid", 41);
    let (status, body) = client.post(base, "/api/events", events, &miss);
    assert_eq!((status, &body["delivered_to"]), (202, &json!([])), "{body}");
    let hit = cloud_event("order-42", "crash.order.paid", 42);
    let (status, body) = client.post(base, "/api/events", events, &hit);
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        body["delivered_to"],
        json!([{"execution_id": matched, "task": "paid", "item": null}])
    );
    let x = client.ended(base, matched);
    assert_eq!(x["status"], "succeeded", "{x}");
    let out = &x["tasks"]["paid"]["output"];
    for field in ["specversion", "id", "source", "type", "data"] {
        assert_eq!(out[field], hit[field], "the output is the event: {out}");
    }
    let before = client.history(base, matched).len();
    let (status, body) = client.post(base, "/api/events", events, &hit);
    assert_eq!((status, &body["duplicate"]), (200, &json!(true)), "{body}");
    assert_eq!(
        client.history(base, matched).len(),
        before,
        "a duplicate recorded something"
    );
    assert_eq!(
        client.detail(base, matched)["tasks"]["paid"]["output"],
        *out
    );
}
