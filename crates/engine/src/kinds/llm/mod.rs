//! `llm`: one question to a language model per attempt, through the engine's
//! [`harmonia_llm::Provider`].
//!
//! Parameters (schema and checks in `spec`):
//! - `prompt` (required): the user message; `system`: the system message;
//! - `model`: a model to use instead of the provider's configured one;
//! - `schema`: a JSON Schema (an object) the answer must follow; a literal one must
//!   compile, or the definition is refused at `with.schema`;
//! - `max_tokens` (1 to 100000) and `temperature` (0 to 2);
//! - `cache` (default `true`): whether an identical earlier request's answer may be
//!   reused (see `cache`).
//!
//! Output: with `schema`, the parsed answer, valid under it; without, `{text}`. The
//! tokens an attempt spent are not part of the output: the kind reports them on the
//! call's [`TokenLedger`](super::TokenLedger) and the engine records them with the
//! attempt's result (`usage: {prompt_tokens, completion_tokens}` on
//! `attempt_succeeded` and `attempt_failed`). An answer from the cache spent nothing and
//! is recorded as zero tokens. A failure without an answer records nothing; an answer
//! the client refuses itself (`harmonia_llm::Error::InvalidOutput`: not JSON, or cut at
//! `max_tokens`) records what it cost. Errors by class: see `errors`.
//!
//! Budget: with `KindsConfig::llm_tokens_per_execution`, an attempt that starts when
//! the execution's recorded attempts have used that many tokens or more fails with
//! `llm_budget` (never retried). The count comes from the execution's log (replayed on
//! resume), so a restart does not reset it; attempts that run at the same time are
//! each checked against what was recorded before them, so together they may go over
//! the budget by what they spend.
//!
//! Metrics: `harmonia_llm_requests_total{outcome="ok|cached|error"}` (one per attempt
//! that asked the model or the cache) and `harmonia_llm_tokens_total{kind="prompt|completion",
//! model}`.
//!
//! Invariants: no secret reaches a model: an expression in `with:` that reads
//! `$secrets` is refused at validation, and at run time a parameter that holds the
//! value of a secret (or a text computed from one) fails the attempt with
//! `secret_in_prompt` before anything is sent; without a provider the kind is
//! registered (definitions validate, the designer lists it) but unavailable, so
//! workflows using it are refused at start; cancelling the call drops the request.

mod cache;
mod errors;
mod spec;

use std::sync::Arc;

use async_trait::async_trait;
use harmonia_llm::{ChatRequest, ChatResponse, Message, Provider};
use harmonia_model::ErrorClass;
use serde_json::{Value, json};

use super::call::Call;
use super::kind::{Description, Run, Spawned, TaskKind};
use super::params::invalid;
use crate::event::{TaskError, TokenUsage};
use cache::Cache;
use spec::Params;

/// Why `llm` tasks cannot run on an engine without a provider.
pub const UNAVAILABLE: &str = "llm tasks need a model: set [llm] provider, base_url and model in the config file, or HARMONIA_LLM_PROVIDER / HARMONIA_LLM_BASE_URL / HARMONIA_LLM_MODEL";

/// The `llm` kind.
pub struct Llm {
    provider: Option<Arc<dyn Provider>>,
    tokens_per_execution: Option<u64>,
    cache: Cache,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field(
                "provider",
                &self.provider.as_ref().map(|p| p.name().to_owned()),
            )
            .field("tokens_per_execution", &self.tokens_per_execution)
            .finish_non_exhaustive()
    }
}

impl Llm {
    /// A kind asking `provider` (unavailable without one), with an optional token
    /// budget per execution, and a response cache of the default size.
    pub fn new(provider: Option<Arc<dyn Provider>>, tokens_per_execution: Option<u64>) -> Llm {
        Llm {
            provider,
            tokens_per_execution,
            cache: Cache::new(cache::DEFAULT_ENTRIES),
        }
    }
}

impl TaskKind for Llm {
    fn name(&self) -> &'static str {
        "llm"
    }

    fn describe(&self) -> Description {
        spec::describe()
    }

    fn run(&self) -> Run<'_> {
        Run::Spawned(self)
    }

    fn unavailable(&self) -> Option<String> {
        self.provider.is_none().then(|| UNAVAILABLE.to_string())
    }
}

#[async_trait]
impl Spawned for Llm {
    async fn execute(&self, call: Call) -> Result<Value, TaskError> {
        let Some(provider) = &self.provider else {
            return Err(TaskError::new(ErrorClass::Validation, UNAVAILABLE));
        };
        let params = Params::parse(&call.params)?;
        refuse_secrets(&call.params, &call.secret_texts)?;
        if let Some(budget) = self.tokens_per_execution
            && call.tokens.used_before >= budget
        {
            return Err(errors::budget_spent(budget, call.tokens.used_before));
        }
        let validator = match &params.schema {
            Some(s) => Some(spec::compile(s).map_err(|m| invalid(format!("`schema` is {m}")))?),
            None => None,
        };
        let request = request(&params, &call.meta.task);
        let model = params
            .model
            .clone()
            .unwrap_or_else(|| provider.model().to_owned());
        let key = params.cache.then(|| {
            cache::key(&json!({
                "provider": provider.name(),
                "model": model,
                "messages": request.messages,
                "schema": request.schema,
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
            }))
        });
        if let Some(output) = key.as_ref().and_then(|k| self.cache.get(k)) {
            call.tokens.report(TokenUsage::default());
            metrics::counter!("harmonia_llm_requests_total", "outcome" => "cached").increment(1);
            return Ok(output);
        }
        if call.cancel.is_cancelled() {
            return Err(TaskError::new(
                ErrorClass::Cancelled,
                "the request to the model was cancelled before it was sent",
            ));
        }
        let mut answer: Option<ChatResponse> = None;
        let asked = call
            .bounded("the model", "no answer", async {
                let response = match provider.chat(&request).await {
                    Ok(r) => r,
                    Err(e) => {
                        // An answer the client refused still cost its tokens.
                        if let harmonia_llm::Error::InvalidOutput { usage, .. } = &e {
                            spend_usage(&call, usage, &model);
                        }
                        return Err(errors::from_llm(e));
                    }
                };
                answer = Some(response);
                Ok(Value::Null)
            })
            .await;
        let result = asked.and_then(|_| {
            let response = answer.ok_or_else(|| invalid("the model gave no answer"))?;
            spend(&call, &response, &model);
            output(response, validator.as_ref())
        });
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!("harmonia_llm_requests_total", "outcome" => outcome).increment(1);
        let output = result?;
        if let Some(k) = key {
            self.cache.put(k, output.clone());
        }
        Ok(output)
    }
}

/// The provider-neutral request for `params`, its schema named after the task.
fn request(params: &Params, task: &str) -> ChatRequest {
    let mut messages = Vec::with_capacity(2);
    if let Some(system) = &params.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(params.prompt.clone()));
    let mut request = ChatRequest::new(messages);
    if let Some(schema) = &params.schema {
        request = request.with_schema(task, schema.clone());
    }
    request.model.clone_from(&params.model);
    request.max_tokens = params.max_tokens;
    request.temperature = params.temperature;
    request
}

/// Reports what `response` spent, and counts it.
fn spend(call: &Call, response: &ChatResponse, model: &str) {
    let model = if response.model.is_empty() {
        model
    } else {
        &response.model
    };
    spend_usage(call, &response.usage, model);
}

/// Reports `usage`, and counts it for `model`.
fn spend_usage(call: &Call, usage: &harmonia_llm::Usage, model: &str) {
    let usage = TokenUsage {
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
    };
    call.tokens.report(usage);
    let model = model.to_owned();
    metrics::counter!("harmonia_llm_tokens_total", "kind" => "prompt", "model" => model.clone())
        .increment(usage.prompt_tokens);
    metrics::counter!("harmonia_llm_tokens_total", "kind" => "completion", "model" => model)
        .increment(usage.completion_tokens);
}

/// The output of an answer: the parsed answer, valid under `schema`; or `{text}`.
fn output(
    response: ChatResponse,
    schema: Option<&jsonschema::Validator>,
) -> Result<Value, TaskError> {
    let Some(validator) = schema else {
        return Ok(json!({"text": response.text}));
    };
    let Some(answer) = response.json else {
        return Err(errors::invalid_output(
            "the answer is not JSON",
            &response.text,
        ));
    };
    let problems: Vec<String> = validator
        .iter_errors(&answer)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("at {at}: {e}")
        })
        .collect();
    if problems.is_empty() {
        Ok(answer)
    } else {
        Err(errors::invalid_output(
            &format!("it does not follow `schema`: {}", problems.join("; ")),
            &response.text,
        ))
    }
}

/// Fails when a parameter holds a text that comes from a secret (`secret_texts`: the
/// secret values and what `with:` computed from them), naming the parameter.
fn refuse_secrets(params: &Value, secret_texts: &[String]) -> Result<(), TaskError> {
    if secret_texts.is_empty() {
        return Ok(());
    }
    let Value::Object(map) = params else {
        return Ok(());
    };
    for (key, value) in map {
        if carries(value, secret_texts) {
            return Err(errors::secret_in_prompt(key));
        }
    }
    Ok(())
}

/// Whether any text under `v` (strings, keys, numbers) contains one of `texts`.
fn carries(v: &Value, texts: &[String]) -> bool {
    let has = |s: &str| {
        texts
            .iter()
            .any(|t| !t.is_empty() && s.contains(t.as_str()))
    };
    match v {
        Value::String(s) => has(s),
        Value::Number(n) => has(&n.to_string()),
        Value::Array(items) => items.iter().any(|i| carries(i, texts)),
        Value::Object(map) => map.iter().any(|(k, i)| has(k) || carries(i, texts)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_holding_a_secret_is_refused() {
        let texts = vec!["Sup3rS3cret".to_string()];
        let p = json!({"prompt": "say Sup3rS3cret now", "cache": true});
        let e = refuse_secrets(&p, &texts).expect_err("refused");
        assert_eq!(e.class, ErrorClass::SecretInPrompt);
        assert!(e.message.contains("`prompt`"), "{}", e.message);
        assert!(!e.message.contains("Sup3rS3cret"));
        let nested = json!({"prompt": "hi", "schema": {"enum": ["Sup3rS3cret"]}});
        assert!(refuse_secrets(&nested, &texts).is_err());
        assert!(refuse_secrets(&json!({"prompt": "hi"}), &texts).is_ok());
    }

    #[test]
    fn an_answer_must_follow_the_schema() {
        let v = spec::compile(&json!({"type": "object", "required": ["n"]})).expect("compiles");
        let answer = |json: Value| ChatResponse {
            text: json.to_string(),
            json: Some(json),
            finish_reason: harmonia_llm::FinishReason::Stop,
            usage: harmonia_llm::Usage::default(),
            model: "m".into(),
        };
        assert_eq!(
            output(answer(json!({"n": 1})), Some(&v)).ok(),
            Some(json!({"n": 1}))
        );
        let e = output(answer(json!({"m": 1})), Some(&v)).expect_err("invalid");
        assert_eq!(e.class, ErrorClass::LlmInvalidOutput);
        assert_eq!(
            output(answer(json!("x")), None).ok(),
            Some(json!({"text": "\"x\""}))
        );
    }
}
