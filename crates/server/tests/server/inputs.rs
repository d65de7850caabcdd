//! `GET /api/executions/{id}/tasks/{task}/inputs`: a task's `with:` evaluated again
//! from what its execution recorded, secrets never answered, and every way it refuses.

use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use harmonia_engine::EngineConfig;
use harmonia_server::{ApiConfig, Role};
use serde_json::{Value, json};

use super::{Server, assert_error, server, server_engine};

/// The secret's text: it must appear in no answer.
const SECRET: &str = "tok-9f8e7d6c5b4a-very-secret";

/// An HTTP server on 127.0.0.1 that answers every request 200 `{"ok": true}` and
/// records the URIs and `authorization` headers it was sent.
async fn upstream() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let record = record.clone();
        async move {
            let auth = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            if let Ok(mut seen) = record.lock() {
                seen.push((req.uri().to_string(), auth));
            }
            axum::Json(json!({"ok": true}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// Creates `yaml`, starts it on `inputs` and waits for its end; returns the execution.
async fn run(s: &Server, yaml: &str, inputs: Value) -> (String, Value) {
    let created = s.post_yaml("/api/workflows", yaml).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let name = created.json()["name"].as_str().expect("name").to_string();
    let started = s
        .post_json(
            &format!("/api/workflows/{name}/execute"),
            json!({"inputs": inputs}),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    let id = started.json()["execution_id"]
        .as_str()
        .expect("id")
        .to_string();
    let x = s.finished(&id).await;
    (id, x)
}

fn inputs_of(id: &str, task: &str) -> String {
    format!("/api/executions/{id}/tasks/{task}/inputs")
}

const FETCH: &str = "name: fetch-city
inputs: {type: object, required: [base, city], properties: {base: {type: string}, city: {type: string}}}
tasks:
  pick: {type: set, with: {path: 'cities/${ $inputs.city | ascii_downcase }'}}
  fetch:
    type: http
    needs: [pick]
    with:
      method: POST
      url: '${ $inputs.base }/${ $tasks.pick.output.path }?v=2'
      json: {city: '${ $inputs.city }', n: '${ 40 + 2 }'}
";

#[tokio::test]
async fn inputs_of_an_http_task_are_its_evaluated_url_and_body() {
    let s = server().await;
    let (base, seen) = upstream().await;
    let (id, x) = run(&s, FETCH, json!({"base": base, "city": "Paris"})).await;
    assert_eq!(x["status"], "succeeded", "{x}");
    let url = format!("{base}/cities/paris?v=2");
    // The URL the attempt called.
    let called: Vec<String> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|(u, _)| u.clone())
        .collect();
    assert_eq!(called, vec!["/cities/paris?v=2".to_string()]);

    let r = s.get(&inputs_of(&id, "fetch")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["task"], "fetch");
    assert_eq!(v["item"], Value::Null);
    assert_eq!(
        v["with"],
        json!({"method": "POST", "url": url, "json": {"city": "Paris", "n": 42}})
    );
    assert_eq!(v["secrets_redacted"], false);
    assert!(
        v["evaluated_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "{v}"
    );
    // A task without expressions answers its `with` as written; under /api/v1 too.
    let r = s
        .get(&format!("/api/v1{}", &inputs_of(&id, "pick")[4..]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["with"], json!({"path": "cities/paris"}));
}

#[tokio::test]
async fn inputs_of_a_failed_http_task_show_what_it_called() {
    let s = server().await;
    // A port nothing listens on: the attempt fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let base = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let (id, x) = run(&s, FETCH, json!({"base": base, "city": "Oslo"})).await;
    assert_eq!(x["status"], "failed", "{x}");
    assert_eq!(x["tasks"]["fetch"]["status"], "failed", "{x}");
    let r = s.get(&inputs_of(&id, "fetch")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["with"]["url"], format!("{base}/cities/oslo?v=2"));
}

const FAN: &str = "name: fan
tasks:
  each:
    type: set
    for_each: [{name: ada}, {name: bob}, {name: cy}]
    with: {who: '${ $item.name }', index: '${ $index }', line: 'n°${ $index }: ${ $item.name | ascii_upcase }'}
  plain: {type: set, with: {x: 1}}
  never: {type: set, if: '${ false }', with: {y: 1}}
";

#[tokio::test]
async fn inputs_of_a_fan_out_item_see_its_item_and_index() {
    let s = server().await;
    let (id, x) = run(&s, FAN, json!({})).await;
    assert_eq!(x["status"], "succeeded", "{x}");
    let r = s.get(&format!("{}?item=1", inputs_of(&id, "each"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["item"], 1);
    assert_eq!(
        v["with"],
        json!({"who": "bob", "index": 1, "line": "n°1: BOB"})
    );
    let r = s.get(&format!("{}?item=2", inputs_of(&id, "each"))).await;
    assert_eq!(r.json()["with"]["who"], "cy");

    // `item` is required for a fan-out, refused otherwise, and checked against its
    // range; each refusal names `item` and the items there are.
    for (uri, needle) in [
        (inputs_of(&id, "each"), "0 to 2"),
        (format!("{}?item=3", inputs_of(&id, "each")), "0 to 2"),
        (format!("{}?item=0", inputs_of(&id, "plain")), "for_each"),
    ] {
        let r = s.get(&uri).await;
        let e = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
        let m = e["message"].as_str().unwrap_or_default();
        assert!(m.contains("`item`") && m.contains(needle), "{uri}: {m}");
    }
    // A task skipped never had its `with` evaluated.
    let r = s.get(&inputs_of(&id, "never")).await;
    let e = assert_error(&r, StatusCode::CONFLICT, "not_started");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("skipped (condition)")),
        "{e}"
    );
    let r = s.get(&format!("{}?item=-1", inputs_of(&id, "each"))).await;
    let e = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("item")),
        "{e}"
    );
}

const SECRETIVE: &str = "name: secretive
inputs: {type: object, properties: {base: {type: string}}}
tasks:
  call:
    type: http
    with:
      url: '${ $inputs.base }/x'
      headers: {authorization: 'Bearer ${ $secrets.API_TOKEN }', x-plain: 'plain'}
  derive:
    type: set
    with:
      lower: '${ $secrets.API_TOKEN | ascii_downcase }'
      encoded: '${ $secrets.API_TOKEN | @base64 }'
      keyed: '${ {($secrets.API_TOKEN): 1} }'
      length: '${ $secrets.API_TOKEN | length }'
      safe: 'kept'
";

#[tokio::test]
async fn inputs_computed_from_secrets_are_masked_and_the_secret_never_leaves() {
    let mut engine = EngineConfig::default();
    engine.secrets.insert("API_TOKEN".into(), SECRET.into());
    let s = server_engine(
        tempfile::tempdir().expect("tempdir"),
        ApiConfig::default(),
        engine,
    )
    .await;
    let (base, seen) = upstream().await;
    let (id, x) = run(&s, SECRETIVE, json!({"base": base})).await;
    assert_eq!(x["status"], "succeeded", "{x}");
    // The attempt itself sent the real secret.
    let sent: Vec<String> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, a)| a.clone())
        .collect();
    assert_eq!(sent, vec![format!("Bearer {SECRET}")]);

    let r = s.get(&inputs_of(&id, "call")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    let v = r.json();
    assert_eq!(v["secrets_redacted"], true);
    assert_eq!(
        v["with"]["headers"],
        json!({"authorization": "Bearer ***", "x-plain": "plain"})
    );
    assert_eq!(v["with"]["url"], format!("{base}/x"));

    let r = s.get(&inputs_of(&id, "derive")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    assert!(!r.text.contains(&SECRET.to_ascii_lowercase()), "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["with"],
        json!({"lower": "***", "encoded": "***", "keyed": "***", "length": "***", "safe": "kept"})
    );
    assert_eq!(v["secrets_redacted"], true);
}

#[tokio::test]
async fn a_task_that_has_not_started_is_not_started_naming_its_upstream() {
    let s = server().await;
    let yaml = "name: waits
tasks:
  nap: {type: sleep, with: {duration: 1h}}
  after: {type: set, needs: [nap], with: {x: '${ $tasks.nap.output }'}}
";
    assert_eq!(
        s.post_yaml("/api/workflows", yaml).await.status,
        StatusCode::CREATED
    );
    let started = s.post_json("/api/workflows/waits/execute", json!({})).await;
    let id = started.json()["execution_id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = s.get(&inputs_of(&id, "after")).await;
    let e = assert_error(&r, StatusCode::CONFLICT, "not_started");
    assert_eq!(e["details"]["upstream"], "nap", "{e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("`nap`") && m.contains("no output yet")),
        "{e}"
    );
    // The sleeping task itself has started: its inputs are there.
    let r = s.get(&inputs_of(&id, "nap")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["with"], json!({"duration": "1h"}));
    s.call(
        Method::POST,
        &format!("/api/executions/{id}/cancel"),
        None,
        "",
        None,
    )
    .await;
}

#[tokio::test]
async fn unknown_executions_and_tasks_are_not_found_and_failed_expressions_unprocessable() {
    let s = server().await;
    let yaml = "name: breaks
inputs: {type: object, properties: {n: {type: integer}}}
tasks:
  bad: {type: set, with: {x: '${ $inputs.n | error(\"boom \\(.)\") }'}}
";
    let (id, x) = run(&s, yaml, json!({"n": 7})).await;
    assert_eq!(x["status"], "failed", "{x}");

    let r = s.get(&inputs_of(&id, "bad")).await;
    let e = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "evaluation_failed");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("boom 7")),
        "{e}"
    );

    let r = s.get(&inputs_of(&id, "nope")).await;
    let e = assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("`nope`")),
        "{e}"
    );
    let other = "01a20b95-3770-719e-8ae1-f9888c382918";
    let r = s.get(&inputs_of(other, "bad")).await;
    let e = assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains(other)),
        "{e}"
    );
}

#[tokio::test]
async fn a_viewer_may_read_inputs() {
    let s = server().await;
    let (id, _) = run(&s, FAN, json!({})).await;
    let (viewer, _) = harmonia_server::create_token(s.store.as_ref(), "eyes", Role::Viewer)
        .await
        .expect("token");
    let uri = inputs_of(&id, "plain");
    let r = s.call(Method::GET, &uri, None, "", Some(&viewer)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["with"], json!({"x": 1}));
    let r = s.call(Method::GET, &uri, None, "", None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn the_inputs_route_is_described_in_openapi() {
    let s = server().await;
    let spec = s.get("/openapi.json").await.json();
    let op = &spec["paths"]["/api/executions/{id}/tasks/{task}/inputs"]["get"];
    assert_eq!(op["tags"], json!(["executions"]), "{op}");
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, vec!["id", "task", "item"]);
    for status in ["200", "400", "404", "409", "422"] {
        assert!(op["responses"][status].is_object(), "{status}: {op}");
    }
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/TaskInputsView"
    );
    let view = &spec["components"]["schemas"]["TaskInputsView"];
    for field in ["task", "item", "with", "secrets_redacted", "evaluated_at"] {
        assert!(view["properties"][field].is_object(), "{field}: {view}");
    }
}
