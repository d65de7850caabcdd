//! The assistant over a scripted model: a local server that speaks the OpenAI chat
//! completions wire format, answers from a script and records every request it gets.
//! (The real small model is exercised by the CLI's tests; here the answers must be
//! exact.) Drafting repairs from the validator's diagnostics and never calls an
//! invalid draft valid; diagnosis builds a patch that validates, applies it and
//! retries; optimization answers without a model; no secret reaches the model.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use harmonia_app::App;
use harmonia_app::assist::{ChatAbout, ChatTurn, DraftRequest};
use harmonia_engine::{Engine, EngineConfig};
use harmonia_llm::LlmConfig;
use harmonia_storage::{ExecutionStatus, Store};
use serde_json::{Value, json};

use super::{api, yaml};

/// A model that answers from a script (the last answer repeats) and keeps requests.
#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<Vec<String>>>,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl Script {
    fn new(answers: &[Value]) -> Script {
        let s = Script::default();
        *s.answers.lock().expect("lock") = answers.iter().rev().map(Value::to_string).collect();
        s
    }

    fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("lock").clone()
    }
}

async fn complete(State(s): State<Script>, Json(body): Json<Value>) -> Json<Value> {
    s.requests.lock().expect("lock").push(body);
    let content = {
        let mut a = s.answers.lock().expect("lock");
        if a.len() > 1 {
            a.pop()
        } else {
            a.last().cloned()
        }
    }
    .unwrap_or_default();
    Json(json!({
        "id": "x", "object": "chat.completion", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    }))
}

/// Serves the script on 127.0.0.1 (the model) and a failing service (`/down` answers
/// 503, echoing the request's `authorization` header); returns both URLs.
async fn serve(script: Script) -> String {
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(complete))
        .route(
            "/down",
            get(|headers: axum::http::HeaderMap| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    format!("down; you sent {auth}"),
                )
            }),
        )
        .with_state(script);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

const SECRET: &str = "s3cr3t-value-4c1d";

struct Env {
    app: App,
    url: String,
    _store: Arc<dyn Store>,
    _engine: Engine,
    _dir: tempfile::TempDir,
}

async fn env(script: Option<Script>) -> Env {
    let url = serve(script.clone().unwrap_or_default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(
        harmonia_storage_sql::SqliteStore::open(&dir.path().join("app.db"), Default::default())
            .await
            .expect("store"),
    );
    let config = EngineConfig {
        secrets: BTreeMap::from([("api_key".to_string(), SECRET.to_string())]),
        ..EngineConfig::default()
    };
    let engine = Engine::builder(store.clone())
        .config(config)
        .spawn()
        .await
        .expect("engine");
    let mut app = App::new(engine.handle().clone());
    if script.is_some() {
        let config = LlmConfig {
            base_url: Some(url.clone()),
            model: "scripted".into(),
            max_retries: 0,
            ..LlmConfig::default()
        };
        app = app.with_llm(harmonia_llm::build(&config).expect("provider"));
    }
    Env {
        app,
        url,
        _store: store,
        _engine: engine,
        _dir: dir,
    }
}

fn inputs(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

fn draft(tasks: Value) -> Value {
    json!({"name": "status", "description": "checks", "tasks": tasks})
}

#[tokio::test]
async fn a_draft_is_repaired_from_the_validators_diagnostics() {
    // Two problems: a need naming no task (Harmonia leaves it out itself, and says
    // so) and a url that is not one (for the model to fix).
    let bad = draft(json!([
        {"name": "fetch", "type": "http", "needs": ["nothing_here"], "method": "GET", "url": "the status page"}
    ]));
    let good = draft(json!([
        {"name": "fetch", "type": "http", "needs": [], "method": "GET", "url": "http://127.0.0.1:9/status"},
        {"name": "state", "type": "transform", "needs": ["fetch"], "input": "${ $tasks.fetch.output.body }", "expr": ".state"}
    ]));
    let script = Script::new(&[bad.clone(), good]);
    let e = env(Some(script.clone())).await;
    let d = e
        .app
        .assist()
        .draft(&DraftRequest {
            description: "check the status".into(),
            ..Default::default()
        })
        .await
        .expect("draft");
    assert!(d.valid, "{d:?}");
    assert_eq!(d.rounds, 2);
    assert_eq!(d.history, [1, 0]);
    assert!(
        d.yaml.contains("state:\n    needs:\n    - fetch\n"),
        "{}",
        d.yaml
    );
    assert_eq!(d.tokens.prompt, 20);
    // The second request carried the first draft and the validator's words.
    let reqs = script.requests();
    assert_eq!(reqs.len(), 2);
    let msgs = reqs[1]["messages"].as_array().expect("messages");
    assert_eq!(msgs[2]["role"], "assistant");
    assert_eq!(
        serde_json::from_str::<Value>(msgs[2]["content"].as_str().expect("text")).expect("json"),
        bad
    );
    let problems = msgs[3]["content"].as_str().expect("text");
    assert!(problems.contains("task fetch, field url"), "{problems}");
    assert!(!problems.contains("nothing_here"), "{problems}");
    // Drafted under the compact schema, constrained.
    assert_eq!(reqs[0]["response_format"]["type"], "json_schema");
    assert_eq!(reqs[0]["temperature"], 0.0);
}

#[tokio::test]
async fn a_draft_that_never_validates_is_not_called_valid() {
    let bad = draft(json!([{"name": "wait", "type": "sleep", "needs": [], "duration": "soon"}]));
    let e = env(Some(Script::new(&[bad]))).await;
    let d = e
        .app
        .assist()
        .draft(&DraftRequest {
            description: "wait a bit".into(),
            max_rounds: Some(2),
            ..Default::default()
        })
        .await
        .expect("draft");
    assert!(!d.valid);
    assert_eq!(d.rounds, 2);
    assert!(
        d.diagnostics
            .iter()
            .any(|x| x.path.starts_with("tasks.wait")),
        "{:?}",
        d.diagnostics
    );
    assert!(d.yaml.contains("duration: soon"));
    // A need naming no task is left out by Harmonia itself, and said.
    let e2 = env(Some(Script::new(&[draft(json!([
        {"name": "wait", "type": "sleep", "needs": ["earlier", "wait"], "duration": "1s"}
    ]))])))
    .await;
    let d = e2
        .app
        .assist()
        .draft(&DraftRequest {
            description: "wait a bit".into(),
            ..Default::default()
        })
        .await
        .expect("draft");
    assert!(d.valid, "{d:?}");
    assert_eq!(d.repairs.len(), 2, "{:?}", d.repairs);
    assert!(d.repairs[0].contains("`earlier`"), "{:?}", d.repairs);
    // Bad requests are refused before the model is asked.
    for (description, rounds) in [("", None), ("x", Some(0)), ("x", Some(11))] {
        let r = DraftRequest {
            description: description.into(),
            max_rounds: rounds,
            ..Default::default()
        };
        assert!(matches!(
            e.app.assist().draft(&r).await,
            Err(harmonia_app::Error::InvalidRequest(_))
        ));
    }
}

#[tokio::test]
async fn without_a_model_drafting_and_chat_say_how_to_configure_one_and_optimize_still_answers() {
    let e = env(None).await;
    let r = DraftRequest {
        description: "anything".into(),
        ..Default::default()
    };
    let err = e.app.assist().draft(&r).await.expect_err("no model");
    assert!(matches!(err, harmonia_app::Error::NoModel(_)));
    assert!(err.to_string().contains("HARMONIA_LLM_MODEL"), "{err}");
    let turns = [ChatTurn {
        role: "user".into(),
        content: "hi".into(),
    }];
    assert!(matches!(
        e.app.assist().chat(&turns, &ChatAbout::default()).await,
        Err(harmonia_app::Error::NoModel(_))
    ));
    let source = yaml(
        "name: calls\ntasks:\n  a:\n    type: http\n    with: {url: 'http://127.0.0.1:9/'}\n  b:\n    type: http\n    with: {url: 'http://127.0.0.1:9/'}\n",
    );
    let o = e
        .app
        .assist()
        .optimize_source(&source)
        .await
        .expect("report");
    assert!(o.explanation.is_none() && o.model.is_none());
    let kinds: Vec<String> = o
        .analysis
        .findings
        .iter()
        .map(|f| {
            serde_json::to_value(f.kind)
                .expect("kind")
                .as_str()
                .expect("s")
                .to_string()
        })
        .collect();
    assert!(
        kinds.contains(&"http_without_timeout".to_string()),
        "{kinds:?}"
    );
}

/// The status of execution `id` once it has ended (within 5 s).
async fn ended(app: &App, id: harmonia_storage::ExecutionId) -> ExecutionStatus {
    for _ in 0..500 {
        let status = app.executions().record(id).await.expect("exists").status;
        if status.is_terminal() {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("execution {id} did not end");
}

/// A workflow whose call fails (503), run to its end.
async fn failed_run(e: &Env) -> harmonia_storage::ExecutionId {
    let text = format!(
        "name: flaky\ntasks:\n  call:\n    type: http\n    with:\n      url: {}/down\n      headers: {{authorization: \"${{ $secrets.api_key }}\"}}\n  after:\n    needs: call\n    type: set\n    with: done\n",
        e.url
    );
    e.app
        .workflows()
        .create(&yaml(&text))
        .await
        .expect("stored");
    let started = e
        .app
        .executions()
        .start(
            "flaky",
            None,
            inputs(json!({"note": format!("the key is {SECRET}")})),
            None,
            api(),
        )
        .await
        .expect("started");
    let id = started.execution;
    assert_eq!(ended(&e.app, id).await, ExecutionStatus::Failed);
    id
}

#[tokio::test]
async fn a_diagnosis_has_a_validated_patch_that_applies_and_retries_and_no_secret_reaches_the_model()
 {
    let answer = json!({"summary": "the call failed", "cause": "the service answered 503",
        "evidence": [{"seq": 99999, "why": "made up"}, {"seq": 1, "why": "the start"}],
        "suggestions": ["ask the service's owner"]});
    let script = Script::new(&[answer]);
    let e = env(Some(script.clone())).await;
    let id = failed_run(&e).await;
    let d = e.app.assist().diagnose(id).await.expect("diagnosis");
    assert_eq!(d.summary, "the call failed");
    assert_eq!(d.model.as_deref(), Some("scripted"));
    // Harmonia's evidence (the failed attempt), and the model's only where it cites
    // an event it was shown.
    assert!(
        d.evidence.iter().any(|x| x["by"] == "harmonia"),
        "{:?}",
        d.evidence
    );
    assert!(!d.evidence.iter().any(|x| x["seq"] == 99999));
    assert!(
        d.evidence
            .iter()
            .any(|x| x["seq"] == 1 && x["by"] == "model")
    );
    let patch = d.patch.expect("a patch");
    assert_eq!(patch.changes[0].path, "tasks.call.retry");
    assert!(patch.diff.contains("+    retry:"), "{}", patch.diff);
    assert!(d.suggestions.iter().any(|s| s == "ask the service's owner"));

    // Preview: nothing stored.
    let p = e
        .app
        .assist()
        .apply(id, &patch.yaml, true)
        .await
        .expect("preview");
    assert_eq!((p.version, p.retry), (None, None));
    assert_eq!(p.plan.rerun, ["call", "after"]);
    assert_eq!(
        e.app
            .workflows()
            .record("flaky", None)
            .await
            .expect("wf")
            .version,
        1
    );
    // Applied: a new version, and a retry on it.
    let a = e
        .app
        .assist()
        .apply(id, &patch.yaml, false)
        .await
        .expect("applied");
    assert_eq!(a.version, Some(2));
    let retry = a.retry.expect("retry");
    let r = e
        .app
        .executions()
        .record(retry)
        .await
        .expect("retry record");
    assert_eq!((r.version, r.retry_of), (2, Some(id)));
    // A patch that renames the workflow, or does not validate, is refused.
    let renamed = patch.yaml.replace("name: flaky", "name: other");
    assert!(matches!(
        e.app.assist().apply(id, &renamed, false).await,
        Err(harmonia_app::Error::InvalidName(_))
    ));
    assert!(matches!(
        e.app
            .assist()
            .apply(id, "name: flaky\ntasks: 3\n", false)
            .await,
        Err(harmonia_app::Error::InvalidDefinition { .. })
    ));

    // A chat about the execution gets its facts.
    let turns = [ChatTurn {
        role: "user".into(),
        content: "why?".into(),
    }];
    let reply = e
        .app
        .assist()
        .chat(
            &turns,
            &ChatAbout {
                execution: Some(id),
                workflow: None,
            },
        )
        .await
        .expect("reply");
    assert!(reply.context_chars > 0);
    let reqs = script.requests();
    let system = reqs.last().expect("req")["messages"][0]["content"]
        .as_str()
        .expect("s")
        .to_string();
    assert!(system.contains("Failed task call"), "{system}");

    // The secret was in a header (echoed back in the error) and in the inputs; no
    // request the model received holds it.
    assert!(reqs.len() >= 2);
    for r in &reqs {
        assert!(
            !r.to_string().contains(SECRET),
            "a secret reached the model: {r}"
        );
    }
}

#[tokio::test]
async fn a_diagnosis_without_a_model_is_harmonias_own_and_a_run_that_did_not_fail_is_refused() {
    let e = env(None).await;
    let id = failed_run(&e).await;
    let d = e.app.assist().diagnose(id).await.expect("diagnosis");
    assert!(d.model.is_none());
    assert!(d.cause.contains("http_5xx"), "{}", d.cause);
    assert!(d.patch.is_some());
    e.app
        .workflows()
        .create(&yaml(
            "name: fine\ntasks:\n  a:\n    type: set\n    with: 1\n",
        ))
        .await
        .expect("stored");
    let ok = e
        .app
        .executions()
        .start("fine", None, inputs(json!({})), None, api())
        .await
        .expect("started")
        .execution;
    assert_eq!(ended(&e.app, ok).await, ExecutionStatus::Succeeded);
    assert!(matches!(
        e.app.assist().diagnose(ok).await,
        Err(harmonia_app::Error::Conflict(_))
    ));
}

#[tokio::test]
async fn with_a_model_optimization_is_ranked_and_explained_and_made_up_findings_are_dropped() {
    let answer = json!({"summary": "Bound the calls first.",
        "ranking": [{"finding": 1, "why": "a hung call hangs the run"}, {"finding": 99, "why": "made up"},
                    {"finding": 1, "why": "again"}, {"finding": 0, "why": "the path"}]});
    let script = Script::new(&[answer]);
    let e = env(Some(script.clone())).await;
    let source = yaml(
        "name: calls\ntasks:\n  a:\n    type: http\n    with: {url: 'http://127.0.0.1:9/'}\n  b:\n    needs: a\n    type: http\n    with: {url: 'http://127.0.0.1:9/'}\n",
    );
    let o = e
        .app
        .assist()
        .optimize_source(&source)
        .await
        .expect("report");
    assert_eq!(o.model.as_deref(), Some("scripted"));
    let x = o.explanation.expect("explained");
    assert_eq!(x.summary, "Bound the calls first.");
    let ranked: Vec<u64> = x
        .ranking
        .iter()
        .map(|r| r["finding"].as_u64().expect("index"))
        .collect();
    assert_eq!(ranked, [1, 0], "only findings that exist, once each");
    // The model was given every finding, numbered, with its place.
    let prompt = script.requests()[0]["messages"][1]["content"]
        .as_str()
        .expect("text")
        .to_string();
    for (i, f) in o.analysis.findings.iter().enumerate() {
        assert!(prompt.contains(&format!("[{i}] {}", f.path)), "{prompt}");
    }
}
