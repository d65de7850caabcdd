//! The `llm` kind end to end: real workflows on a SQLite store, asking a local
//! OpenAI-compatible server (`/v1/chat/completions`, the real wire format) that
//! records every request and answers from a script.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use harmonia_engine::kinds::{APPROVAL_SIGNAL, Actor, Kinds, KindsConfig, Signal};
use harmonia_engine::{EngineConfig, Error, Plans, RegisterError, StartRequest, spawn};
use harmonia_llm::{LlmConfig, OpenAi, Provider};
use harmonia_storage::{ExecutionRecord, ExecutionStatus, Store};
use serde_json::{Value, json};

use super::{Env, Probe, sqlite};

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    content: String,
    finish_reason: &'static str,
}

impl Reply {
    fn says(content: impl Into<String>) -> Reply {
        Reply {
            content: content.into(),
            finish_reason: "stop",
        }
    }
}

/// The fake server's state: the requests it received, what it will answer.
#[derive(Default)]
struct Model {
    requests: Mutex<Vec<Value>>,
    script: Mutex<VecDeque<Reply>>,
}

impl Model {
    fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("lock").clone()
    }

    fn will_say(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().expect("lock").extend(replies);
    }
}

/// Answers from the script, or `echo: <the user message>`; 7 prompt and 3 completion
/// tokens each time.
async fn complete(State(model): State<Arc<Model>>, Json(body): Json<Value>) -> Json<Value> {
    model.requests.lock().expect("lock").push(body.clone());
    let reply = model.script.lock().expect("lock").pop_front();
    let reply = reply.unwrap_or_else(|| {
        let user = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string();
        Reply::says(format!("echo: {user}"))
    });
    Json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": reply.content},
            "finish_reason": reply.finish_reason
        }],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    }))
}

async fn serve() -> (Arc<Model>, SocketAddr) {
    let model = Arc::new(Model::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(complete))
        .with_state(model.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (model, addr)
}

fn provider(addr: SocketAddr) -> Arc<dyn Provider> {
    let config = LlmConfig {
        base_url: Some(format!("http://{addr}")),
        model: "test-model".into(),
        max_retries: 0,
        ..LlmConfig::default()
    };
    Arc::new(OpenAi::new(&config).expect("a valid provider"))
}

const SECRET: &str = "Sup3rS3cretValue";

/// An engine whose `llm` tasks ask `provider`, with a budget, and the secret
/// `API_KEY`.
async fn engine(provider: Option<Arc<dyn Provider>>, budget: Option<u64>) -> Env {
    let (store, dir) = sqlite().await;
    let mut env = engine_on(store, provider, budget).await;
    env._dir = Some(dir);
    env
}

async fn engine_on(
    store: Arc<dyn Store>,
    provider: Option<Arc<dyn Provider>>,
    budget: Option<u64>,
) -> Env {
    let kinds = Kinds::builtin(&KindsConfig {
        llm: provider,
        llm_tokens_per_execution: budget,
        ..KindsConfig::default()
    });
    let config = EngineConfig {
        secrets: BTreeMap::from([("API_KEY".to_string(), SECRET.to_string())]),
        ..EngineConfig::default()
    };
    let plans = Arc::new(Plans::new(store.clone(), kinds.task_types().clone(), None));
    let (handle, _join) = spawn(config, store.clone(), plans, kinds)
        .await
        .expect("engine starts");
    Env {
        handle,
        probe: Arc::new(Probe::default()),
        store,
        _dir: None,
    }
}

async fn with_model() -> (Env, Arc<Model>) {
    let (model, addr) = serve().await;
    (engine(Some(provider(addr)), None).await, model)
}

/// The recorded events of `kind`, as JSON.
async fn events(env: &Env, r: &ExecutionRecord, kind: &str) -> Vec<Value> {
    env.store
        .events(r.id)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_str(e.data.get()).expect("json"))
        .collect()
}

/// The class and message of a failed execution's error.
fn failure(r: &ExecutionRecord) -> (String, String) {
    let e = serde_json::to_value(&r.error).expect("json");
    let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
    (text("class"), text("message"))
}

#[tokio::test]
async fn llm_answers_with_text_and_records_its_token_usage() {
    let (env, model) = with_model().await;
    let r = env
        .run(
            "name: ask
tasks:
  ask:
    type: llm
    with: {prompt: 'Summarize ${ $inputs.topic }', system: Be brief., max_tokens: 50, temperature: 0.5}
outputs:
  answer: ${ $tasks.ask.output }
",
            json!({"topic": "rain"}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.error);
    assert_eq!(
        r.outputs,
        Some(json!({"answer": {"text": "echo: Summarize rain"}}))
    );
    let sent = model.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["model"], "test-model");
    assert_eq!(sent[0]["max_tokens"], 50);
    assert_eq!(sent[0]["temperature"], 0.5);
    assert_eq!(
        sent[0]["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Summarize rain"}
        ])
    );
    let done = events(&env, &r, "attempt_succeeded").await;
    assert_eq!(
        done[0]["usage"],
        json!({"prompt_tokens": 7, "completion_tokens": 3})
    );
    // The output stays clean.
    assert!(done[0]["output"].get("usage").is_none());
}

const CITY: &str = "name: city
tasks:
  ask:
    type: llm
    with:
      prompt: Which city?
      schema: {type: object, required: [city], properties: {city: {type: string}}}
    retry: {max_attempts: 3, initial_delay: 10ms, retry_on: [llm_invalid_output]}
outputs:
  city: ${ $tasks.ask.output.city }
";

#[tokio::test]
async fn llm_answers_under_a_schema_with_the_parsed_json() {
    let (env, model) = with_model().await;
    model.will_say([Reply::says(r#"{"city": "Paris"}"#)]);
    let r = env.run(CITY, json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.error);
    assert_eq!(r.outputs, Some(json!({"city": "Paris"})));
    let sent = model.requests();
    assert_eq!(sent[0]["response_format"]["type"], "json_schema");
    assert_eq!(
        sent[0]["response_format"]["json_schema"]["schema"]["required"],
        json!(["city"])
    );
}

#[tokio::test]
async fn an_answer_off_the_schema_is_llm_invalid_output_and_a_retry_policy_retries_it() {
    let (env, model) = with_model().await;
    model.will_say([
        Reply::says(r#"{"town": "Paris"}"#),
        Reply::says("not json at all"),
        Reply::says(r#"{"city": "Lyon"}"#),
    ]);
    let r = env.run(CITY, json!({})).await;
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{:?}", r.error);
    assert_eq!(r.outputs, Some(json!({"city": "Lyon"})));
    assert_eq!(model.requests().len(), 3);
    assert_eq!(env.task(&r, "ask", None).await.attempts, 3);
    let failed = events(&env, &r, "attempt_failed").await;
    let classes: Vec<&Value> = failed.iter().map(|f| &f["error"]["class"]).collect();
    assert_eq!(classes, [&json!("llm_invalid_output"); 2]);
    assert!(
        failed[0]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("schema")),
        "{}",
        failed[0]
    );
    assert_eq!(
        failed[0]["error"]["details"]["text"],
        r#"{"town": "Paris"}"#
    );
    // An answer that came back was paid for, even when it was not usable.
    assert_eq!(
        failed[0]["usage"],
        json!({"prompt_tokens": 7, "completion_tokens": 3})
    );
}

#[tokio::test]
async fn an_answer_cut_at_max_tokens_is_invalid_output() {
    let (env, model) = with_model().await;
    model.will_say([Reply {
        content: r#"{"city": "Par"#.into(),
        finish_reason: "length",
    }]);
    let r = env
        .run(
            &CITY.replace("max_attempts: 3", "max_attempts: 1"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let (class, message) = failure(&r);
    assert_eq!(class, "llm_invalid_output");
    assert!(message.contains("max_tokens"), "{message}");
    // The refused answer still cost its tokens: recorded, and counted by the budget.
    let failed = events(&env, &r, "attempt_failed").await;
    assert_eq!(
        failed[0]["usage"],
        json!({"prompt_tokens": 7, "completion_tokens": 3})
    );
}

#[tokio::test]
async fn an_identical_request_is_answered_from_the_cache_unless_cache_is_false() {
    let (env, model) = with_model().await;
    let yaml = "name: cached\ntasks:\n  ask: {type: llm, with: {prompt: Hello}}\noutputs:\n  a: ${ $tasks.ask.output.text }\n";
    let first = env.run(yaml, json!({})).await;
    let second = env.run(yaml, json!({})).await;
    assert_eq!(first.outputs, Some(json!({"a": "echo: Hello"})));
    assert_eq!(second.outputs, first.outputs);
    assert_eq!(model.requests().len(), 1, "the second run asked nobody");
    // A cached answer cost nothing.
    let done = events(&env, &second, "attempt_succeeded").await;
    assert_eq!(
        done[0]["usage"],
        json!({"prompt_tokens": 0, "completion_tokens": 0})
    );
    let bypass = yaml.replace("prompt: Hello", "prompt: Hello, cache: false");
    let third = env.run(&bypass, json!({})).await;
    assert_eq!(third.outputs, first.outputs);
    assert_eq!(model.requests().len(), 2, "`cache: false` asked again");
}

#[tokio::test]
async fn a_spent_token_budget_fails_new_llm_attempts_with_llm_budget() {
    let (model, addr) = serve().await;
    let env = engine(Some(provider(addr)), Some(15)).await;
    let r = env
        .run(
            "name: budget
tasks:
  a: {type: llm, with: {prompt: one}}
  b: {type: llm, needs: [a], with: {prompt: two}}
  c: {type: llm, needs: [b], with: {prompt: three}, retry: {max_attempts: 3, initial_delay: 10ms, retry_on: [llm_budget]}}
",
            json!({}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let (class, message) = failure(&r);
    assert_eq!(class, "llm_budget");
    assert!(
        message.contains("15 tokens") && message.contains("20 tokens"),
        "{message}"
    );
    // `a` (10 tokens, under 15) and `b` (started at 10) asked; `c` did not, nor was
    // it retried.
    assert_eq!(model.requests().len(), 2);
    assert_eq!(env.task(&r, "c", None).await.attempts, 1);
}

/// Regression guard for the budget's source: the count comes from the log, so an
/// engine restarted mid-execution still knows what was spent before.
#[tokio::test]
async fn the_budget_counts_what_was_spent_before_a_restart() {
    let (model, addr) = serve().await;
    let (store, _dir) = sqlite().await;
    let first = engine_on(store.clone(), Some(provider(addr)), Some(15)).await;
    let id = first
        .start(
            "name: resume
tasks:
  a: {type: llm, with: {prompt: one}}
  go: {type: approval, needs: [a], with: {prompt: ok}}
  b: {type: llm, needs: [go], with: {prompt: two}}
  c: {type: llm, needs: [b], with: {prompt: three}}
",
            json!({}),
        )
        .await;
    for _ in 0..300 {
        if store
            .execution(id)
            .await
            .expect("reads")
            .is_some_and(|r| r.parked)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(model.requests().len(), 1);
    first.handle.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let second = engine_on(store.clone(), Some(provider(addr)), Some(15)).await;
    let approve = Signal {
        name: APPROVAL_SIGNAL.into(),
        payload: json!({"decision": "approve", "inputs": {}}),
        by: Some(Actor {
            name: "ada".into(),
            role: None,
        }),
    };
    second
        .handle
        .signal(id, "go", None, approve)
        .await
        .expect("answered");
    let r = tokio::time::timeout(Duration::from_secs(10), second.handle.wait(id))
        .await
        .expect("in time")
        .expect("waits");
    // `b` starts at 10 tokens (recorded before the restart) and runs; `c` at 20.
    let (class, message) = failure(&r);
    assert_eq!(class, "llm_budget");
    assert!(message.contains("20 tokens"), "{message}");
    assert_eq!(model.requests().len(), 2);
}

#[tokio::test]
async fn without_a_provider_llm_tasks_validate_but_are_refused_at_start() {
    let env = engine(None, None).await;
    let kind = env.handle.kinds().get("llm").expect("registered");
    assert!(kind.unavailable().is_some());
    let w = env
        .register("name: nollm\ntasks:\n  ask: {type: llm, with: {prompt: hi}}\n")
        .await;
    let e = env
        .handle
        .start(StartRequest::new(w, json!({})))
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::Unrunnable(_)), "{e:?}");
    assert!(
        e.to_string().contains(
            "llm tasks need a model: set [llm] provider, base_url and model in the config file, or HARMONIA_LLM_PROVIDER / HARMONIA_LLM_BASE_URL / HARMONIA_LLM_MODEL"
        ),
        "{e}"
    );
}

/// The problems of a definition that does not validate, as `path: message`.
async fn problems(env: &Env, yaml: &str) -> Vec<String> {
    let source = harmonia_model::Source::new("t.yaml", yaml, harmonia_model::Format::Yaml);
    match env.handle.plans().register(&source).await {
        Ok(_) => panic!("validates: {yaml}"),
        Err(RegisterError::Invalid(harmonia_model::Error::Invalid { diagnostics, .. })) => {
            diagnostics
                .iter()
                .map(|d| format!("{}: {}", d.path, d.message))
                .collect()
        }
        Err(e) => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn a_prompt_from_a_secret_is_refused_and_never_sent() {
    let (env, model) = with_model().await;
    // Read in `with:`: refused at validation, where it is read.
    let p = problems(
        &env,
        "name: leak\ntasks:\n  ask: {type: llm, with: {prompt: 'Use ${ $secrets.API_KEY }'}}\n",
    )
    .await;
    assert!(
        p.iter().any(|p| p.starts_with("tasks.ask.with.prompt:")
            && p.contains("secrets never reach a model")),
        "{p:?}"
    );
    let p = problems(
        &env,
        "name: leak\ntasks:\n  ask: {type: llm, with: '${ {prompt: $secrets.API_KEY} }'}\n",
    )
    .await;
    assert!(
        p.iter().any(|p| p.contains("secrets never reach a model")),
        "{p:?}"
    );
    // Arriving at run time (here through an input): refused before anything is sent.
    let r = env
        .run(
            "name: smuggled\ntasks:\n  ask: {type: llm, with: {prompt: 'Summarize ${ $inputs.text }'}, retry: {max_attempts: 3, initial_delay: 10ms, retry_on: [secret_in_prompt]}}\n",
            json!({"text": format!("the key is {SECRET}")}),
        )
        .await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let (class, message) = failure(&r);
    assert_eq!(class, "secret_in_prompt");
    assert!(message.contains("secrets never reach a model"), "{message}");
    assert_eq!(env.task(&r, "ask", None).await.attempts, 1, "never retried");
    assert!(
        model.requests().is_empty(),
        "the model received {:?}",
        model.requests()
    );
}

#[tokio::test]
async fn bad_llm_parameters_are_refused_at_validation_with_their_paths() {
    let (env, model) = with_model().await;
    let p = problems(
        &env,
        "name: bad
tasks:
  a: {type: llm, with: {prompt: hi, max_tokens: '10'}}
  b: {type: llm, with: {prompt: hi, schema: {type: objekt}}}
  c: {type: llm, with: {prompt: hi, temperature: 3, max_tokens: 100001}}
  d: {type: llm, with: {system: no prompt}}
",
    )
    .await;
    let has = |prefix: &str| p.iter().any(|p| p.starts_with(prefix));
    for path in [
        "tasks.a.with.max_tokens:",
        "tasks.b.with.schema:",
        "tasks.c.with.temperature:",
        "tasks.c.with.max_tokens:",
        "tasks.d.with",
    ] {
        assert!(has(path), "{path} in {p:?}");
    }
    assert!(
        p.iter()
            .any(|p| p.starts_with("tasks.a.with.max_tokens:") && p.contains("integer")),
        "{p:?}"
    );
    assert!(model.requests().is_empty());
}
