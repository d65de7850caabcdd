//! The providers, one wire format per file, and what they share ([`Common`]): the
//! transport, the configured model, the token budget, the schema's name.
//!
//! Each provider file translates a [`ChatRequest`] into its wire body and its wire
//! answer into an [`Answer`]; [`Common::finish`] applies the schema contract and
//! scrubs the key from any error, so every provider behaves the same around them.

mod anthropic;
mod ollama;
mod openai;
mod rhetor;

use std::sync::Arc;

use serde::de::DeserializeOwned;

pub use anthropic::{ANTHROPIC_DEFAULT_MAX_TOKENS, Anthropic};
pub use ollama::Ollama;
pub use openai::OpenAi;
pub use rhetor::Rhetor;

use crate::config::{LlmConfig, ProviderKind};
use crate::error::Result;
use crate::output::{self, Answer};
use crate::provider::Provider;
use crate::transport::{Auth, Transport, TransportConfig};
use crate::types::{ChatRequest, ChatResponse};

/// The provider `config` describes, checked ([`LlmConfig::validate`]).
pub fn build(config: &LlmConfig) -> Result<Arc<dyn Provider>> {
    Ok(match config.provider {
        ProviderKind::OpenAi => Arc::new(OpenAi::new(config)?),
        ProviderKind::Anthropic => Arc::new(Anthropic::new(config)?),
        ProviderKind::Ollama => Arc::new(Ollama::new(config)?),
        ProviderKind::Rhetor => Arc::new(Rhetor::new(config)?),
    })
}

/// The schema name used when a request gives none.
const DEFAULT_SCHEMA_NAME: &str = "answer";

/// What every provider has.
struct Common {
    transport: Transport,
    model: String,
    max_tokens_cap: u32,
}

impl Common {
    /// `config` checked and read as provider `kind`, sending the key as `auth`.
    /// `base_url` adapts the configured base URL (already without a trailing `/`).
    fn new(
        config: &LlmConfig,
        kind: ProviderKind,
        auth: Auth,
        base_url: impl FnOnce(&str) -> &str,
    ) -> Result<Common> {
        let config = LlmConfig {
            provider: kind,
            ..config.clone()
        };
        config.validate()?;
        let base = base_url(config.effective_base_url().trim_end_matches('/')).to_owned();
        let transport = Transport::new(TransportConfig {
            provider: kind.as_str(),
            base_url: base,
            auth,
            api_key: config.api_key.as_ref(),
            timeout: config.timeout,
            connect_timeout: config.connect_timeout,
            max_retries: config.max_retries,
        })?;
        Ok(Common {
            transport,
            model: config.model,
            max_tokens_cap: config.max_tokens_cap,
        })
    }

    /// The model `req` asks for, or the configured one.
    fn model_for<'a>(&'a self, req: &'a ChatRequest) -> &'a str {
        req.model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or(&self.model)
    }

    /// The answer's token budget: what `req` asks for, else `default`, else the cap;
    /// never more than the cap.
    fn max_tokens(&self, req: &ChatRequest, default: Option<u32>) -> u32 {
        req.max_tokens
            .or(default)
            .unwrap_or(self.max_tokens_cap)
            .min(self.max_tokens_cap)
    }

    /// `POST` `body` to `path`, the answer parsed as `T`.
    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: &[(&'static str, &'static str)],
        body: &serde_json::Value,
    ) -> Result<T> {
        self.transport.post_json(path, headers, body).await
    }

    /// `POST` `body` to `path`, each line of the answer to `on_line` as it arrives.
    async fn post_lines(
        &self,
        path: &str,
        body: &serde_json::Value,
        on_line: &mut (dyn for<'t> FnMut(&'t str) + Send),
    ) -> Result<()> {
        self.transport.post_lines(path, body, on_line).await
    }

    /// The response for `answer`, under `req`'s schema, with the key scrubbed.
    fn finish(&self, req: &ChatRequest, answer: Result<Answer>) -> Result<ChatResponse> {
        answer
            .and_then(|a| output::finish(req, a))
            .map_err(|e| e.scrub(self.transport.secret()))
    }
}

/// `req`'s schema name, made safe for providers that restrict names to
/// `[a-zA-Z0-9_-]{1,64}`.
fn schema_name(req: &ChatRequest) -> String {
    let name: String = req
        .schema_name
        .as_deref()
        .unwrap_or(DEFAULT_SCHEMA_NAME)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        DEFAULT_SCHEMA_NAME.to_owned()
    } else {
        name
    }
}

/// `base` without a trailing `/v1` (OpenAI-style base URLs are written both ways).
fn without_v1(base: &str) -> &str {
    base.strip_suffix("/v1").unwrap_or(base)
}

/// OpenAI's `response_format` for `req`'s schema (Rhetor takes the same).
fn openai_response_format(req: &ChatRequest) -> Option<serde_json::Value> {
    req.schema.as_ref().map(|schema| {
        serde_json::json!({
            "type": "json_schema",
            "json_schema": {"name": schema_name(req), "schema": schema, "strict": true},
        })
    })
}

/// The messages in OpenAI's (and Ollama's, and Rhetor's) shape.
fn openai_messages(req: &ChatRequest) -> Vec<serde_json::Value> {
    req.messages
        .iter()
        .map(|m| serde_json::json!({"role": m.role.as_str(), "content": m.content}))
        .collect()
}

/// `req`'s temperature as JSON, written as the `f32` prints (`0.2`, not
/// `0.20000000298023224`); `None` when absent or not a number.
fn temperature(req: &ChatRequest) -> Option<serde_json::Value> {
    let t: f64 = req.temperature?.to_string().parse().ok()?;
    serde_json::Number::from_f64(t).map(serde_json::Value::Number)
}

/// Puts `value` at `key` in `body` when there is one.
fn set_opt(body: &mut serde_json::Value, key: &str, value: Option<impl Into<serde_json::Value>>) {
    if let (Some(obj), Some(v)) = (body.as_object_mut(), value) {
        obj.insert(key.to_owned(), v.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_made_safe() {
        let mut req = ChatRequest::default();
        assert_eq!(schema_name(&req), "answer");
        req.schema_name = Some("my workflow.v1".into());
        assert_eq!(schema_name(&req), "my_workflow_v1");
        req.schema_name = Some(String::new());
        assert_eq!(schema_name(&req), "answer");
    }

    #[test]
    fn v1_suffix_is_dropped() {
        assert_eq!(without_v1("http://x/v1"), "http://x");
        assert_eq!(without_v1("http://x"), "http://x");
    }
}
