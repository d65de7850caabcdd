//! What the workflow designer uses: `GET /api/task-types` (every type validation knows,
//! with its schemas; one by name; an unknown name) and `POST /api/workflows/validate`
//! (every problem at once with its position, the graph of a valid definition, nothing
//! stored, YAML and JSON bodies, sub-workflows looked up in the store, who may call
//! it, and a workflow named `validate` still reachable).

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use harmonia_engine::kinds::{Kinds, KindsConfig};
use harmonia_engine::{EngineConfig, Plans};
use harmonia_server::{ApiConfig, AppState, Role};
use harmonia_storage::Store;
use serde_json::{Value, json};

use super::{HELLO, Reply, Server, assert_error, server, server_with};

const VALIDATE: &str = "/api/workflows/validate";

/// Three problems: a missing parameter, a misspelt field, a misspelt jq function.
const THREE: &str = "name: broken
tasks:
  fetch: {type: http}
  shout:
    neds: fetch
    type: transform
    with: {expr: ascii_upcse}
";

fn ok(r: &Reply) -> Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.content_type.starts_with("application/json"),
        "{}",
        r.content_type
    );
    r.json()
}

/// The names of the task types the test servers validate with.
fn known_types() -> Vec<String> {
    Kinds::builtin(&KindsConfig::default())
        .task_types()
        .names()
        .map(str::to_string)
        .collect()
}

/// The type named `name` in a list of task types.
fn by_name<'a>(types: &'a Value, name: &str) -> &'a Value {
    types["types"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no type `{name}` in {types}"))
}

/// A server whose engine runs `shell` tasks.
async fn server_allowing_shell() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(
        harmonia_storage_sql::SqliteStore::open(&dir.path().join("s.db"), Default::default())
            .await
            .expect("store"),
    );
    let kinds = Kinds::builtin(&KindsConfig {
        allow_shell: true,
        ..KindsConfig::default()
    });
    let plans = Arc::new(Plans::new(store.clone(), kinds.task_types().clone(), None));
    let (handle, _join) =
        harmonia_engine::spawn(EngineConfig::default(), store.clone(), plans, kinds)
            .await
            .expect("engine");
    Server {
        app: harmonia_server::app(AppState::new(handle, ApiConfig::default(), None)),
        store,
        dir,
    }
}

#[tokio::test]
async fn the_task_types_are_every_type_validation_knows_with_its_schemas() {
    let s = server().await;
    let types = ok(&s.get("/api/task-types").await);
    let names: Vec<&str> = types["types"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, known_types(), "in the registry's order");
    for ty in types["types"].as_array().expect("types") {
        assert!(ty["params"].is_object(), "{ty}");
        assert!(
            ty["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{ty}"
        );
        assert!(ty["output"].is_object() || ty["output"].is_null(), "{ty}");
        assert!(ty["deferred"].is_array(), "{ty}");
    }
    let http = by_name(&types, "http");
    assert_eq!(http["params"]["type"], "object");
    assert!(
        http["params"]["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("url"))),
        "{http}"
    );
    assert!(http["params"]["properties"]["url"].is_object(), "{http}");
    assert!(http["output"]["properties"]["status"].is_object(), "{http}");
    assert_eq!(
        by_name(&types, "wait_event")["deferred"],
        json!([{"key": "filter", "vars": ["$event"]}])
    );
    assert_eq!(by_name(&types, "set")["deferred"], json!([]));

    // What validation says it knows is the same list.
    let v = ok(&s
        .post_yaml(VALIDATE, "name: t\ntasks:\n  a: {type: htp}\n")
        .await);
    let message = v["diagnostics"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with(&format!("known types: {}", names.join(", "))),
        "{message}"
    );
    assert!(message.contains("did you mean `http`?"), "{message}");

    // Under /api/v1 too.
    assert_eq!(ok(&s.get("/api/v1/task-types").await), types);
}

#[tokio::test]
async fn one_task_type_by_name_and_an_unknown_name_is_404() {
    let s = server().await;
    let types = ok(&s.get("/api/task-types").await);
    let http = ok(&s.get("/api/task-types/http").await);
    assert_eq!(&http, by_name(&types, "http"));
    assert_eq!(ok(&s.get("/api/v1/task-types/http").await), http);

    let e = assert_error(
        &s.get("/api/task-types/htp").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let message = e["message"].as_str().unwrap_or_default();
    assert!(message.contains("no task type `htp`"), "{message}");
    assert!(message.contains("(did you mean `http`?)"), "{message}");
    assert!(
        message.ends_with(&format!("known types: {}", known_types().join(", "))),
        "{message}"
    );
    let e = assert_error(
        &s.get("/api/v1/task-types/zzzzzz").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert!(
        !e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("did you mean"),
        "{e}"
    );
}

#[tokio::test]
async fn shell_is_offered_as_validation_accepts_it_and_says_when_it_cannot_run() {
    // Without `--allow-shell`, a `shell` task validates and is stored, and its
    // workflow is refused at start: the list says so.
    let s = server().await;
    let shell = ok(&s.get("/api/task-types/shell").await);
    let why = shell["unavailable"].as_str().expect("a reason");
    assert!(why.contains("--allow-shell"), "{why}");
    assert_eq!(
        ok(&s.get("/api/task-types/set").await)["unavailable"],
        Value::Null
    );
    let yaml = "name: sh\ntasks:\n  a: {type: shell, with: {argv: [echo, hi]}}\n";
    assert_eq!(ok(&s.post_yaml(VALIDATE, yaml).await)["valid"], true);
    let r = s.post_yaml("/api/workflows", yaml).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = s.post_json("/api/workflows/sh/execute", json!({})).await;
    let e = assert_error(&r, StatusCode::CONFLICT, "conflict");
    assert!(
        e["message"].as_str().unwrap_or_default().contains(why),
        "{e}"
    );

    // With it, shell runs: nothing to say.
    let s = server_allowing_shell().await;
    assert_eq!(
        ok(&s.get("/api/task-types/shell").await)["unavailable"],
        Value::Null
    );
}

#[tokio::test]
async fn a_valid_definition_is_valid_with_its_graph() {
    let s = server().await;
    let v = ok(&s.post_yaml(VALIDATE, HELLO).await);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["diagnostics"], json!([]));
    assert_eq!(v["graph"]["name"], "hello");
    assert_eq!(v["graph"]["order"], json!(["greet", "each", "shout"]));
    // The same JSON as the graph of the workflow once stored.
    let r = s.post_yaml("/api/workflows", HELLO).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let stored = ok(&s.get("/api/workflows/hello/graph?format=json").await);
    assert_eq!(v["graph"], stored);
    // Under /api/v1 too.
    assert_eq!(
        ok(&s.post_yaml("/api/v1/workflows/validate", HELLO).await),
        v
    );
}

#[tokio::test]
async fn every_problem_at_once_with_its_line_and_column() {
    let s = server().await;
    let v = ok(&s.post_yaml(VALIDATE, THREE).await);
    assert_eq!(v["valid"], false, "{v}");
    assert!(v.get("graph").is_none(), "no graph when invalid: {v}");
    let found: Vec<(String, String, u64, u64)> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            assert_eq!(d["severity"], "error", "{d}");
            (
                d["path"].as_str().unwrap_or_default().to_string(),
                d["task"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let expected = [
        ("tasks.fetch.with", "fetch", 3, 10),
        ("tasks.shout.neds", "shout", 5, 5),
        ("tasks.shout.with.expr", "shout", 7, 18),
    ]
    .map(|(p, t, l, c)| (p.to_string(), t.to_string(), l, c));
    assert_eq!(found, expected, "{v}");
    let messages = v["diagnostics"].to_string();
    for part in [
        "`url`",
        "did you mean `needs`?",
        "did you mean `ascii_upcase`?",
    ] {
        assert!(messages.contains(part), "{part}: {messages}");
    }
    // What create answers in its 422, in the same shape.
    let r = s.post_yaml("/api/workflows", THREE).await;
    let e = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_definition");
    assert_eq!(e["details"], v["diagnostics"]);
}

#[tokio::test]
async fn validating_stores_nothing() {
    let s = server().await;
    for body in [HELLO, THREE] {
        ok(&s.post_yaml(VALIDATE, body).await);
    }
    let list = ok(&s.get("/api/workflows").await);
    assert_eq!(list["workflows"], json!([]), "{list}");
    assert_error(
        &s.get("/api/workflows/hello").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn yaml_and_json_bodies_and_what_create_refuses_alike() {
    let s = server().await;
    let json_body = json!({"name": "j", "tasks": {"a": {"type": "set", "with": 1}, "b": {"type": "set", "needs": ["a"]}}});
    let v = ok(&s.post_json(VALIDATE, json_body).await);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(
        v["graph"]["edges"],
        json!([{"from": "a", "to": "b", "join": "all"}])
    );

    // Positions are in the JSON text that was sent.
    let text = "{\n  \"name\": \"j\",\n  \"tasks\": {\n    \"a\": {\"type\": \"http\"}\n  }\n}";
    let v = ok(&s
        .call(Method::POST, VALIDATE, Some("application/json"), text, None)
        .await);
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["diagnostics"][0]["path"], "tasks.a.with");
    assert_eq!(v["diagnostics"][0]["line"], 4, "{v}");

    // A body that is not a definition at all: the diagnostics create gives in its 422.
    for (ct, body) in [
        ("application/yaml", "[1, 2"),
        ("application/yaml", "just text"),
        ("application/json", "{\"name\": "),
        ("application/json", "42"),
    ] {
        let v = ok(&s.call(Method::POST, VALIDATE, Some(ct), body, None).await);
        assert_eq!(v["valid"], false, "{body}: {v}");
        let r = s
            .call(Method::POST, "/api/workflows", Some(ct), body, None)
            .await;
        let e = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_definition");
        assert_eq!(e["details"], v["diagnostics"], "{body}");
        assert!(
            v["diagnostics"][0]["line"].as_u64().is_some_and(|l| l >= 1),
            "{v}"
        );
    }

    // What the body extractor refuses, it refuses for both: empty, no or another
    // content type.
    for (ct, body, status, code) in [
        (
            Some("application/yaml"),
            "  ",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            None,
            "name: x",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            Some("text/plain"),
            "name: x",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ] {
        for uri in [VALIDATE, "/api/workflows"] {
            let r = s.call(Method::POST, uri, ct, body, None).await;
            assert_error(&r, status, code);
        }
    }
}

#[tokio::test]
async fn the_body_limit_is_create_s() {
    let s = server_with(ApiConfig {
        max_body_bytes: 1024,
        ..ApiConfig::default()
    })
    .await;
    let big = format!(
        "name: big\ndescription: {}\ntasks:\n  a: {{type: set}}\n",
        "x".repeat(2000)
    );
    for uri in [VALIDATE, "/api/workflows"] {
        assert_error(
            &s.post_yaml(uri, &big).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        );
    }
}

#[tokio::test]
async fn sub_workflows_are_looked_up_among_the_stored_ones() {
    let s = server().await;
    let parent = "name: parent\ntasks:\n  run: {type: workflow, with: {workflow: child}}\n";
    let v = ok(&s.post_yaml(VALIDATE, parent).await);
    assert_eq!(v["valid"], true, "a warning only: {v}");
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "warning", "{v}");
    assert_eq!(d["path"], "tasks.run.with.workflow");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(42))
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no workflow `child`"),
        "{d}"
    );
    let r = s
        .post_yaml("/api/workflows", "name: child\ntasks:\n  a: {type: set}\n")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = ok(&s.post_yaml(VALIDATE, parent).await);
    assert_eq!(v["diagnostics"], json!([]), "{v}");
}

/// `HELLO` validated with `token`.
async fn validate_as(s: &Server, token: Option<&str>) -> Reply {
    s.call(
        Method::POST,
        VALIDATE,
        Some("application/yaml"),
        HELLO,
        token,
    )
    .await
}

#[tokio::test]
async fn a_viewer_may_validate_and_read_task_types_and_a_worker_may_not() {
    let s = server().await;
    let mut tokens = Vec::new();
    for role in [Role::Viewer, Role::Worker] {
        let (t, _) = harmonia_server::create_token(s.store.as_ref(), "t", role)
            .await
            .expect("token");
        tokens.push(t);
    }
    let [viewer, worker] = <[String; 2]>::try_from(tokens).expect("two");
    let v = ok(&validate_as(&s, Some(&viewer)).await);
    assert_eq!(v["valid"], true);
    let types = ok(&s
        .call(Method::GET, "/api/task-types", None, "", Some(&viewer))
        .await);
    assert_eq!(
        types["types"].as_array().map(Vec::len),
        Some(known_types().len())
    );
    assert_error(
        &validate_as(&s, Some(&worker)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &s.call(Method::GET, "/api/task-types/http", None, "", Some(&worker))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &validate_as(&s, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    // Validating stored nothing; creating still needs an admin.
    let r = s
        .call(
            Method::POST,
            "/api/workflows",
            Some("application/yaml"),
            HELLO,
            Some(&viewer),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_workflow_named_validate_is_still_read_updated_and_deleted() {
    let s = server().await;
    let v1 = "name: validate\ntasks:\n  a: {type: set, with: 1}\n";
    let r = s.post_yaml("/api/workflows", v1).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    for uri in [VALIDATE, "/api/v1/workflows/validate"] {
        assert_eq!(ok(&s.get(uri).await)["name"], "validate");
    }
    assert_eq!(
        ok(&s.get("/api/workflows/validate/versions").await)["versions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let v2 = "name: validate\ntasks:\n  a: {type: set, with: 2}\n";
    let r = s
        .call(Method::PUT, VALIDATE, Some("application/yaml"), v2, None)
        .await;
    assert_eq!(ok(&r)["version"], 2);
    assert_eq!(
        ok(&s.get("/api/workflows/validate?version=1").await)["version"],
        1
    );
    // POST still validates (and stores nothing).
    assert_eq!(ok(&s.post_yaml(VALIDATE, v1).await)["valid"], true);
    assert_eq!(ok(&s.get(VALIDATE).await)["version"], 2);
    let r = s.call(Method::DELETE, VALIDATE, None, "", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_error(&s.get(VALIDATE).await, StatusCode::NOT_FOUND, "not_found");
}
