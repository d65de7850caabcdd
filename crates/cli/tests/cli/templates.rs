//! Templates end to end: every built-in template instantiated and run by the real engine
//! on a SQLite file against local HTTP servers; export and import between two stores,
//! byte for byte; a converted Tekton chain running against component endpoints.
//!
//! The helpers `store_template`, `export` and `import` are the glue the server's routes
//! and the CLI need between `harmonia_model::template` and the `Store`; they are written
//! here the way those callers are meant to write them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use harmonia_app::templates::{self, new_version};
use harmonia_engine::kinds::{Kinds, KindsConfig};
use harmonia_engine::{EngineConfig, Handle, Plans, StartRequest, spawn};
use harmonia_model::template::{self, Document, Template, builtin, instantiate, tekton};
use harmonia_model::{Format, Source, TaskTypes};
use harmonia_storage::prelude::*;

fn builtin_types() -> TaskTypes {
    harmonia_engine::kinds::builtin_types()
}
use harmonia_storage::{
    ExecutionRecord, ExecutionStatus, OnConflict, PutOutcome, Store, TemplatePut, Timestamp,
};
use harmonia_storage_sql::SqliteStore;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------
// Local HTTP services the templates call.

/// What the services saw, and how they behave.
#[derive(Default)]
struct Seen {
    posted: Mutex<Vec<(String, Value)>>,
    running: AtomicUsize,
    max_running: AtomicUsize,
    item_calls: AtomicUsize,
    flaky_calls: AtomicUsize,
    /// How many calls to `/flaky` fail (503) before it answers.
    flaky_failures: AtomicUsize,
}

impl Seen {
    fn bodies(&self, path: &str) -> Vec<Value> {
        self.posted
            .lock()
            .map(|p| {
                p.iter()
                    .filter(|(p, _)| p == path)
                    .map(|(_, b)| b.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

type S = State<Arc<Seen>>;

async fn item(State(seen): S, Path(n): Path<u32>) -> Json<Value> {
    let now = seen.running.fetch_add(1, Ordering::SeqCst) + 1;
    seen.max_running.fetch_max(now, Ordering::SeqCst);
    seen.item_calls.fetch_add(1, Ordering::SeqCst);
    // Later items answer sooner, so that completion order differs from item order.
    tokio::time::sleep(Duration::from_millis(40 + u64::from(20 - n.min(20)) * 3)).await;
    seen.running.fetch_sub(1, Ordering::SeqCst);
    Json(json!({"n": n, "square": n * n}))
}

async fn orders() -> Json<Value> {
    Json(json!({"orders": [
        {"id": 1, "customer": "acme", "status": "paid", "amount": 10},
        {"id": 2, "customer": "globex", "status": "refunded", "amount": 99},
        {"id": 3, "customer": "acme", "status": "paid", "amount": 5},
    ]}))
}

async fn records() -> Json<Value> {
    Json(json!({"records": [
        {"id": 1, "Category": "books", "Amount": 12},
        {"id": 2, "category": "books", "amount": 150},
        {"id": 2, "category": "books", "amount": 150},
        {"id": 3, "category": "games", "amount": 40},
        {"id": 4, "category": "games"},
        {"id": 5, "amount": 3},
        "not a record",
        {"id": 6, "category": "music", "amount": 250},
    ]}))
}

async fn metric(Path(name): Path<String>) -> Json<Value> {
    let value = match name.as_str() {
        "signups" => 120,
        "orders" => 80,
        "errors" => 7,
        _ => 0,
    };
    Json(json!({"value": value, "errors_total": value / 10}))
}

async fn flaky(State(seen): S, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let n = seen.flaky_calls.fetch_add(1, Ordering::SeqCst) + 1;
    if n <= seen.flaky_failures.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "try later"})),
        );
    }
    (StatusCode::OK, Json(json!({"accepted": body, "call": n})))
}

async fn down(State(seen): S) -> (StatusCode, &'static str) {
    seen.flaky_calls.fetch_add(1, Ordering::SeqCst);
    (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance")
}

async fn record(
    State(seen): S,
    Path(path): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if let Ok(mut p) = seen.posted.lock() {
        p.push((format!("/{path}"), body));
    }
    (StatusCode::CREATED, Json(json!({"ok": true})))
}

/// A Tekton-style component: `POST /api/actions/{action}` with `{action, params,
/// context}`, answering `{result}`.
async fn action(
    State(seen): S,
    Path(action): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    if let Ok(mut p) = seen.posted.lock() {
        p.push((format!("/api/actions/{action}"), body.clone()));
    }
    let params = &body["params"];
    let result = match action.as_str() {
        "investigate" => json!({
            "root_cause": format!("null check missing ({})", params["report"].as_str().unwrap_or("?")),
            "recommended_fix": "guard the value",
        }),
        "fix" => json!({"title": "Guard the value", "branch": params["branch"]}),
        "verify" => json!({"passed": true, "checked": params["patch"]["title"]}),
        _ => Value::Null,
    };
    Json(json!({"result": result}))
}

struct Services {
    base: String,
    seen: Arc<Seen>,
}

async fn services() -> Services {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/items/{n}", get(item))
        .route("/orders", get(orders))
        .route("/records", get(records))
        .route("/metrics/{name}", get(metric))
        .route("/flaky", post(flaky))
        .route("/down", post(down))
        .route("/api/actions/{action}", post(action))
        .route("/{path}", post(record))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Services {
        base: format!("http://{addr}"),
        seen,
    }
}

// ---------------------------------------------------------------------------------
// The engine, and the glue between templates and the store.

struct Env {
    handle: Handle,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn engine() -> Env {
    engine_with(KindsConfig::default()).await
}

/// [`engine`] with these kinds' settings (a component directory, say).
async fn engine_with(config: KindsConfig) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("harmonia.db"), Default::default())
            .await
            .expect("opens"),
    );
    let kinds = Kinds::builtin(&config);
    let plans = Arc::new(Plans::new(store.clone(), kinds.task_types().clone(), None));
    let (handle, _join) = spawn(EngineConfig::default(), store.clone(), plans, kinds)
        .await
        .expect("engine starts");
    Env {
        handle,
        store,
        _dir: dir,
    }
}

/// Reads, validates and stores a template's text (what `POST /api/templates` does).
async fn store_template(store: &dyn Store, source: &Source, note: Option<&str>) -> TemplatePut {
    let t = template::read(source, &builtin_types())
        .expect("valid template")
        .template;
    store
        .put_template(&new_version(
            &t,
            source.text(),
            source.format(),
            note,
            Timestamp::now(),
        ))
        .await
        .expect("stored")
}

/// Every version of every template, as a document (what export does).
async fn export(store: &dyn Store) -> Document {
    templates::export(store, &[]).await.expect("export")
}

/// Reads a document and imports it (what import does).
async fn import(
    store: &dyn Store,
    text: &str,
    format: Format,
    on_conflict: OnConflict,
) -> harmonia_storage::Result<Vec<TemplatePut>> {
    let doc = Document::read(&Source::new("import", text, format), &builtin_types())
        .expect("a valid document");
    templates::import(store, &doc, format, on_conflict).await
}

/// Stores built-in template `name`, instantiates it with `params`, registers the
/// workflow and runs it to the end.
async fn run_builtin(env: &Env, name: &str, params: Value) -> ExecutionRecord {
    let b = template::BUILTIN
        .iter()
        .find(|b| b.file == format!("{name}.yaml"))
        .expect("a built-in template");
    let put = store_template(env.store.as_ref(), &b.source(), Some("built in")).await;
    let t = Template::from_content(&put.record.content).expect("stored");
    run_template(env, &t, put.record.version, params).await
}

async fn run_template(env: &Env, t: &Template, version: u32, params: Value) -> ExecutionRecord {
    let instance = match instantiate(t, version, None, params) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    let workflow = match env
        .handle
        .plans()
        .register(&instance.source(Format::Yaml))
        .await
    {
        Ok(w) => w,
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(
        workflow.plan.workflow.template.as_ref().map(|t| t.version),
        Some(version)
    );
    // What the engine does with a workflow's `params`: they are `$params`.
    let mut request = StartRequest::new(workflow.clone(), json!({}));
    request.params = workflow.plan.workflow.params.clone().unwrap_or(Value::Null);
    let id = env.handle.start(request).await.expect("starts");
    tokio::time::timeout(Duration::from_secs(60), env.handle.wait(id))
        .await
        .expect("finishes in time")
        .expect("waits")
}

fn succeeded(r: &ExecutionRecord) {
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:#?}", r.error);
}

// ---------------------------------------------------------------------------------
// Every built-in template runs.

const TESTED: &[&str] = &[
    "http-fan-out",
    "etl",
    "retry-api-call",
    "scheduled-report",
    "data-pipeline",
];

#[test]
fn every_builtin_template_has_a_run_test() {
    let mut names: Vec<String> = builtin().into_iter().map(|t| t.name).collect();
    names.sort();
    let mut tested: Vec<String> = TESTED.iter().map(|s| s.to_string()).collect();
    tested.sort();
    assert_eq!(names, tested);
    assert!(names.len() >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn builtin_http_fan_out_keeps_to_its_concurrency_limit() {
    let s = services().await;
    let env = engine().await;
    let urls: Vec<String> = (1..=12).map(|n| format!("{}/items/{n}", s.base)).collect();
    let r = run_builtin(&env, "http-fan-out", json!({"urls": urls})).await;
    succeeded(&r);
    let out = r.outputs.expect("outputs");
    assert_eq!(out["count"], 12);
    assert_eq!(out["by_status"], json!({"200": 12}));
    let ns: Vec<Value> = out["responses"]
        .as_array()
        .expect("list")
        .iter()
        .map(|x| x["body"]["n"].clone())
        .collect();
    assert_eq!(
        ns,
        (1..=12).map(Value::from).collect::<Vec<_>>(),
        "in order"
    );
    assert_eq!(out["responses"][2]["url"], urls[2]);
    assert_eq!(s.seen.item_calls.load(Ordering::SeqCst), 12);
    let max = s.seen.max_running.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&max),
        "at most 4 at once, and in parallel: {max}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn builtin_etl_extracts_transforms_and_loads() {
    let s = services().await;
    let env = engine().await;
    let r = run_builtin(
        &env,
        "etl",
        json!({
            "source_url": format!("{}/orders", s.base),
            "target_url": format!("{}/warehouse", s.base),
            "transform": ".orders | map(select(.status == \"paid\")) | group_by(.customer) | map({customer: .[0].customer, total: (map(.amount) | add)})",
        }),
    )
    .await;
    succeeded(&r);
    let expected = json!([{"customer": "acme", "total": 15}]);
    let out = r.outputs.expect("outputs");
    assert_eq!(out["loaded"], expected);
    assert_eq!(out["status"], 201);
    assert_eq!(s.seen.bodies("/warehouse"), [expected]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn builtin_retry_api_call_retries_until_the_api_answers() {
    let s = services().await;
    s.seen.flaky_failures.store(3, Ordering::SeqCst);
    let env = engine().await;
    let r = run_builtin(
        &env,
        "retry-api-call",
        json!({
            "url": format!("{}/flaky", s.base),
            "body": {"sync": "accounts"},
            "notify_url": format!("{}/alerts", s.base),
        }),
    )
    .await;
    succeeded(&r);
    let out = r.outputs.expect("outputs");
    assert_eq!(out["status"], 200);
    assert_eq!(out["attempts"], 4);
    assert_eq!(out["response"]["accepted"], json!({"sync": "accounts"}));
    assert!(s.seen.bodies("/alerts").is_empty(), "no notification");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn builtin_retry_api_call_notifies_then_fails_when_the_api_stays_down() {
    let s = services().await;
    let env = engine().await;
    let url = format!("{}/down", s.base);
    let r = run_builtin(
        &env,
        "retry-api-call",
        json!({"url": url, "notify_url": format!("{}/alerts", s.base), "channel": "#ops"}),
    )
    .await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let error = r.error.expect("an error").to_string();
    assert!(error.contains("a notification was sent"), "{error}");
    assert_eq!(
        s.seen.flaky_calls.load(Ordering::SeqCst),
        5,
        "every attempt was made"
    );
    let alerts = s.seen.bodies("/alerts");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["channel"], "#ops");
    assert_eq!(alerts[0]["error"]["class"], "http_5xx");
    let text = alerts[0]["text"].as_str().unwrap_or("");
    assert!(
        text.starts_with(&format!("POST {url} failed after 5 attempts: ")),
        "{text}"
    );
    assert_eq!(alerts[0]["execution"], r.id.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn builtin_scheduled_report_collects_summarizes_and_publishes() {
    let s = services().await;
    let env = engine().await;
    let source = |name: &str| json!({"name": name, "url": format!("{}/metrics/{name}", s.base)});
    let mut errors = source("errors");
    errors["field"] = json!("errors_total");
    let r = run_builtin(
        &env,
        "scheduled-report",
        json!({
            "title": "Morning numbers",
            "sources": [source("signups"), source("orders"), errors],
            "report_url": format!("{}/reports", s.base),
        }),
    )
    .await;
    succeeded(&r);
    let published = s.seen.bodies("/reports");
    assert_eq!(published.len(), 1);
    let report = &published[0];
    assert_eq!(report["title"], "Morning numbers");
    assert_eq!(report["total"], 200, "120 + 80 + 0");
    assert_eq!(report["flagged"], json!(["signups"]));
    assert_eq!(
        report["rows"],
        json!([
            {"name": "signups", "value": 120},
            {"name": "orders", "value": 80},
            {"name": "errors", "value": 0},
        ])
    );
    assert_eq!(report["execution"], r.id.to_string());
    assert!(
        report["generated_at"]
            .as_str()
            .is_some_and(|t| Timestamp::parse(t).is_some())
    );
    let out = r.outputs.expect("outputs");
    assert_eq!(out["published"], 201);
    assert_eq!(&out["report"], report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn builtin_data_pipeline_cleans_validates_enriches_and_aggregates() {
    let s = services().await;
    let env = engine().await;
    let r = run_builtin(
        &env,
        "data-pipeline",
        json!({
            "source_url": format!("{}/records", s.base),
            "target_url": format!("{}/totals", s.base),
        }),
    )
    .await;
    succeeded(&r);
    let groups = json!([
        {"group": "books", "count": 2, "large": 1, "total": 162},
        {"group": "games", "count": 1, "large": 0, "total": 40},
        {"group": "music", "count": 1, "large": 1, "total": 250},
    ]);
    let out = r.outputs.expect("outputs");
    assert_eq!(out["groups"], groups);
    assert_eq!(
        out["rejected"],
        json!([{"id": 4, "category": "games"}, {"id": 5, "amount": 3}])
    );
    assert_eq!(
        s.seen.bodies("/totals"),
        [json!({"groups": groups, "rejected": 2})]
    );
}

// ---------------------------------------------------------------------------------
// Instantiation, export and import, Tekton.

#[test]
fn instantiating_with_bad_parameters_names_every_violation() {
    let t = builtin()
        .into_iter()
        .find(|t| t.name == "scheduled-report")
        .expect("built in");
    let e = instantiate(
        &t,
        1,
        None,
        json!({
            "sources": [{"name": "", "url": "ftp://x"}, {"url": "http://x"}],
            "threshold": "high",
            "extra": 1,
        }),
    )
    .expect_err("invalid");
    let mut got: Vec<String> = e
        .violations()
        .iter()
        .map(|v| format!("{} {}", v.path, v.keyword))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            " additionalProperties",
            " required",
            "/sources/0/name minLength",
            "/sources/0/url pattern",
            "/sources/1 required",
            "/threshold type",
        ]
    );
    assert!(
        e.violations()
            .iter()
            .any(|v| v.message == "missing required parameter `report_url`")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_import_between_two_stores_is_byte_for_byte_stable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = SqliteStore::open(&dir.path().join("a.db"), Default::default())
        .await
        .expect("a");
    let b = SqliteStore::open(&dir.path().join("b.db"), Default::default())
        .await
        .expect("b");
    for t in template::BUILTIN {
        store_template(&a, &t.source(), Some("built in")).await;
    }
    // A history with notes, a JSON version, and a revert.
    let greeter = |who: &str| {
        format!(
            "name: greeter\ndescription: Greets\ntags: [demo]\nparameters: {{type: object, properties: {{who: {{type: string, default: {who}}}}}}}\nworkflow:\n  tasks:\n    greet: {{type: set, with: 'hello ${{ $params.who }}'}}\n"
        )
    };
    store_template(
        &a,
        &Source::new("g.yaml", greeter("Ada"), Format::Yaml),
        Some("first"),
    )
    .await;
    store_template(
        &a,
        &Source::new("g.yaml", greeter("Bob"), Format::Yaml),
        Some("Bob now"),
    )
    .await;
    let json_text = template::read(
        &Source::new("g.yaml", greeter("Ada"), Format::Yaml),
        &builtin_types(),
    )
    .expect("valid")
    .template
    .render(Format::Json);
    let back = store_template(
        &a,
        &Source::new("g.json", json_text, Format::Json),
        Some("back to Ada"),
    )
    .await;
    assert_eq!(
        (back.outcome, back.record.version),
        (PutOutcome::Created, 3)
    );

    for format in [Format::Yaml, Format::Json] {
        let from_a = export(&a).await.render(format);
        let fresh = tempfile::tempdir().expect("tempdir");
        let c = SqliteStore::open(&fresh.path().join("c.db"), Default::default())
            .await
            .expect("c");
        let done = import(&c, &from_a, format, OnConflict::Fail)
            .await
            .expect("imports");
        assert!(done.iter().all(|p| p.outcome == PutOutcome::Created));
        let from_c = export(&c).await.render(format);
        assert_eq!(
            from_a, from_c,
            "export -> import -> export changed the text"
        );
        // Importing again is a no-op.
        let again = import(&c, &from_c, format, OnConflict::Fail)
            .await
            .expect("again");
        assert!(again.iter().all(|p| p.outcome == PutOutcome::Unchanged));
        assert_eq!(export(&c).await.render(format), from_a);
    }

    // Into the second store through YAML, then back out through JSON: still the same.
    let yaml = export(&a).await.render(Format::Yaml);
    import(&b, &yaml, Format::Yaml, OnConflict::Fail)
        .await
        .expect("imports");
    assert_eq!(
        export(&b).await.render(Format::Json),
        export(&a).await.render(Format::Json)
    );
    assert_eq!(
        b.template_versions("greeter")
            .await
            .expect("versions")
            .iter()
            .map(|r| (r.version, r.note.clone().unwrap_or_default()))
            .collect::<Vec<_>>(),
        [
            (1, "first".into()),
            (2, "Bob now".into()),
            (3, "back to Ada".into())
        ]
    );

    // A changed template: strict import refuses it and writes nothing; otherwise it is
    // a new version.
    let changed = yaml.replace("default: Bob", "default: Cy");
    assert_ne!(changed, yaml);
    match import(&b, &changed, Format::Yaml, OnConflict::Fail).await {
        Err(harmonia_storage::Error::Conflict(m)) => assert!(m.contains("`greeter`"), "{m}"),
        other => panic!("expected a conflict: {other:?}"),
    }
    assert_eq!(
        b.template_versions("greeter")
            .await
            .expect("versions")
            .len(),
        3
    );
    let done = import(&b, &changed, Format::Yaml, OnConflict::NewVersion)
        .await
        .expect("imports");
    let created: Vec<(String, u32)> = done
        .iter()
        .filter(|p| p.outcome == PutOutcome::Created)
        .map(|p| (p.record.name.clone(), p.record.version))
        .collect();
    // The document's version 2 is new: it becomes version 4; its version 3 is then
    // after the cursor again, so the document's latest content is the latest here too.
    assert_eq!(
        created,
        [("greeter".to_string(), 4), ("greeter".to_string(), 5)]
    );
    let latest = b
        .template("greeter", None)
        .await
        .expect("latest")
        .expect("exists");
    assert_eq!(latest.note.as_deref(), Some("back to Ada"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_converted_tekton_chain_runs_against_its_components() {
    let s = services().await;
    // The chain's components, by name, as the server's config would declare them.
    let declared = ["numa", "athena"]
        .map(|name| harmonia_engine::kinds::component::Endpoint {
            name: name.into(),
            url: reqwest::Url::parse(&s.base).expect("url"),
            mcp_prefix: "/api/mcp/v2".into(),
            token: None,
        })
        .to_vec();
    let env = engine_with(KindsConfig {
        components: Arc::new(harmonia_app::components::Directory::new(
            declared,
            None,
            harmonia_app::components::DEFAULT_TTL,
        )),
        ..KindsConfig::default()
    })
    .await;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../model/tests/tekton/bug_fix.json");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let conversion =
        tekton::convert(&Source::new("bug_fix.json", text, Format::Json)).expect("converts");
    let put = store_template(
        env.store.as_ref(),
        &conversion.source(),
        Some("from Tekton"),
    )
    .await;
    let t = Template::from_content(&put.record.content).expect("stored");
    let r = run_template(
        &env,
        &t,
        put.record.version,
        json!({
            "bug_report": "crash on empty cart",
            "reproduction_steps": "empty the cart, check out",
            "ticket_id": "BUG-42",
        }),
    )
    .await;
    succeeded(&r);
    let out = r.outputs.expect("outputs");
    assert_eq!(
        out["verify"],
        json!({"passed": true, "checked": "Guard the value"})
    );
    let fix: HashMap<String, Value> =
        serde_json::from_value(s.seen.bodies("/api/actions/fix")[0]["params"].clone())
            .expect("an object");
    assert_eq!(
        fix["root_cause"],
        "null check missing (crash on empty cart)"
    );
    assert_eq!(fix["strategy"], "guard the value");
    assert_eq!(fix["branch"], "fix/BUG-42");
    let verify = &s.seen.bodies("/api/actions/verify")[0];
    assert_eq!(verify["action"], "verify");
    assert_eq!(verify["context"]["execution_id"], r.id.to_string());
    assert_eq!(verify["context"]["task"], "verify");
    assert_eq!(verify["params"]["regression_tests"], true);
}
