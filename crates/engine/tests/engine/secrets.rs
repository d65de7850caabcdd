//! Secrets: read by the name as written, an unknown one is an error, and nothing
//! computed from one is ever stored or shown (upper-cased, base64, sliced, reversed, as
//! a key, in an error message), nor sent on to another origin by a redirect. Each of
//! these leaked, or was silently `null`, before.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Redirect;
use axum::routing::get;
use harmonia_engine::{EngineConfig, Error, StartRequest};
use harmonia_storage::{ExecutionStatus, Store};
use serde_json::{Value, json};

use super::{Env, engine_on, sqlite};

const SECRET: &str = "Sup3rS3cretValue";

async fn engine_with_secret() -> (Env, Arc<tempfile::TempDir>) {
    let (store, dir) = sqlite().await;
    let config = EngineConfig {
        secrets: BTreeMap::from([("API_KEY".to_string(), SECRET.to_string())]),
        ..EngineConfig::default()
    };
    (engine_on(store, config).await, dir)
}

/// Every form of the secret a leak could take.
fn forms() -> Vec<String> {
    let reversed: String = SECRET.chars().rev().collect();
    let base64 = "U3VwM3JTM2NyZXRWYWx1ZQ==".to_string();
    vec![
        SECRET.to_string(),
        SECRET.to_uppercase(),
        SECRET.to_lowercase(),
        reversed,
        base64,
        SECRET[2..10].to_string(),
    ]
}

/// Everything stored about an execution, as text: its row, task rows and events.
async fn stored_text(store: &Arc<dyn Store>, id: harmonia_storage::ExecutionId) -> String {
    let mut text = String::new();
    let x = store.execution(id).await.expect("reads").expect("exists");
    text.push_str(&serde_json::to_string(&x).expect("json"));
    for t in store.task_runs(id).await.expect("reads") {
        text.push_str(&serde_json::to_string(&t).expect("json"));
    }
    for e in store.events(id).await.expect("reads") {
        text.push_str(e.data.get());
    }
    text
}

fn assert_no_form_of_the_secret(text: &str) {
    for form in forms() {
        assert!(!text.contains(&form), "`{form}` leaked into: {text}");
    }
}

#[tokio::test]
async fn secrets_are_read_by_the_name_as_written_and_an_unknown_one_is_an_error() {
    let (env, _dir) = engine_with_secret().await;
    // Regression: `$secrets.API_KEY` was silently null (names were lower-cased).
    let r = env
        .run(
            "name: named\ntasks:\n  a: {type: set, with: {n: '${ $secrets.API_KEY | length }'}}\noutputs:\n  n: ${ $tasks.a.output.n }\n",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.outputs, Some(json!({"n": "***"})));
    // An unknown name refuses the start, naming the variable to set.
    let w = env
        .register("name: typo\ntasks:\n  a: {type: set, with: {n: '${ $secrets.api_key }'}}\n")
        .await;
    let e = env
        .handle
        .start(StartRequest::new(w, json!({})))
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::Unrunnable(_)), "{e:?}");
    assert!(e.to_string().contains("HARMONIA_SECRET_api_key"), "{e}");
}

#[tokio::test]
async fn nothing_computed_from_a_secret_is_stored_by_a_task_without_effects() {
    let (env, _dir) = engine_with_secret().await;
    let r = env
        .run(
            r#"name: derived
tasks:
  a:
    type: set
    with:
      upper: '${ $secrets.API_KEY | ascii_upcase }'
      lower: 'x-${ $secrets.API_KEY | ascii_downcase }-y'
      base64: '${ $secrets.API_KEY | @base64 }'
      slice: '${ $secrets.API_KEY[2:10] }'
      reversed: '${ $secrets.API_KEY | explode | reverse | implode }'
      as_key: '${ {($secrets.API_KEY): 1} }'
      plain: 'fine'
  b:
    type: transform
    needs: [a]
    with: {input: '${ $secrets.API_KEY }', expr: 'ascii_upcase'}
outputs:
  a: ${ $tasks.a.output }
  b: ${ $tasks.b.output }
"#,
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{r:?}");
    let outputs = r.outputs.clone().expect("outputs");
    assert_eq!(outputs["a"]["plain"], "fine");
    assert_eq!(outputs["a"]["upper"], "***");
    assert_eq!(outputs["a"]["lower"], "x-***-y");
    assert_eq!(outputs["b"], "***");
    assert_no_form_of_the_secret(&stored_text(&env.store, r.id).await);
}

#[tokio::test]
async fn an_error_of_an_expression_that_reads_a_secret_is_withheld() {
    let (env, _dir) = engine_with_secret().await;
    for expr in [
        "${ error($secrets.API_KEY) }",
        "${ $secrets.API_KEY | tonumber }",
    ] {
        let r = env
            .run(
                &format!("name: failing\ntasks:\n  a: {{type: set, with: {{x: '{expr}'}}}}\n"),
                json!({}),
            )
            .await;
        assert_eq!(r.status, ExecutionStatus::Failed, "{expr}");
        let error = r.error.clone().expect("an error").to_string();
        assert!(error.contains("withheld"), "{expr}: {error}");
        assert_no_form_of_the_secret(&stored_text(&env.store, r.id).await);
    }
}

/// What the servers saw: the headers of each request, by path.
type Seen = Arc<Mutex<Vec<(String, HeaderMap)>>>;

async fn server(seen: Seen, redirect_to: Option<String>) -> String {
    let echo = |path: &'static str, seen: Seen| {
        move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                let body: serde_json::Map<String, Value> = headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or(""))))
                    .collect();
                seen.lock().expect("lock").push((path.to_string(), headers));
                axum::Json(Value::Object(body))
            }
        }
    };
    let mut app = Router::new().route("/echo", get(echo("/echo", seen.clone())));
    if let Some(to) = redirect_to {
        app = app
            .route(
                "/away",
                get(move || async move { Redirect::temporary(&to) }),
            )
            .route("/home", get(|| async { Redirect::temporary("/echo") }));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn what_a_request_echoes_of_a_secret_is_redacted_and_a_redirect_elsewhere_drops_it() {
    let (env, _dir) = engine_with_secret().await;
    let seen_other: Seen = Arc::default();
    let other = server(seen_other.clone(), None).await;
    let seen_home: Seen = Arc::default();
    let home = server(seen_home.clone(), Some(format!("{other}/echo"))).await;
    let yaml = format!(
        r#"name: calls
tasks:
  echo:
    type: http
    with:
      url: "{home}/echo"
      headers:
        X-Api-Key: '${{ $secrets.API_KEY | ascii_downcase }}'
        Authorization: 'Bearer ${{ $secrets.API_KEY }}'
        X-Plain: hello
  same_origin:
    type: http
    with:
      url: "{home}/home"
      headers: {{X-Api-Key: '${{ $secrets.API_KEY }}'}}
  elsewhere:
    type: http
    with:
      url: "{home}/away"
      headers:
        X-Api-Key: '${{ $secrets.API_KEY | @base64 }}'
        Authorization: 'Bearer ${{ $secrets.API_KEY }}'
        X-Plain: hello
outputs:
  echo: ${{ $tasks.echo.output.body }}
"#
    );
    let r = env.run(&yaml, json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{r:?}");
    // The server got the real values, and echoed them: the output shows `***`.
    let echo = &r.outputs.as_ref().expect("outputs")["echo"];
    assert_eq!(echo["x-api-key"], "***");
    assert_eq!(echo["authorization"], "Bearer ***");
    assert_eq!(echo["x-plain"], "hello");
    assert_no_form_of_the_secret(&stored_text(&env.store, r.id).await);
    // A redirect within the origin keeps the headers.
    let home_seen = seen_home.lock().expect("lock").clone();
    let same: Vec<_> = home_seen.iter().filter(|(p, _)| p == "/echo").collect();
    assert!(
        same.iter()
            .any(|(_, h)| h.get("x-api-key").is_some_and(|v| v == SECRET)),
        "the same-origin redirect kept the key"
    );
    // A redirect to another origin drops every header that carries the secret, in any
    // form, and sends no Referer; the others go on.
    let other_seen = seen_other.lock().expect("lock").clone();
    assert_eq!(other_seen.len(), 1, "{other_seen:?}");
    let (_, h) = &other_seen[0];
    assert!(h.get("x-api-key").is_none(), "{h:?}");
    assert!(h.get("authorization").is_none(), "{h:?}");
    assert!(h.get("referer").is_none(), "{h:?}");
    assert_eq!(h.get("x-plain").map(|v| v.as_bytes()), Some(&b"hello"[..]));
}
