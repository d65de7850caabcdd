//! Rhetor, the family's LLM gateway.
//!
//! `POST {base_url}/api/v1/chat` with `{messages, model?, temperature?, max_tokens?,
//! response_format?}` (`model` omitted when none is configured: Rhetor chooses;
//! `response_format` shaped as OpenAI's), answering `{content, model, usage}`. `usage`
//! may count `prompt_tokens`/`completion_tokens` or `input_tokens`/`output_tokens`;
//! an optional `finish_reason` is read, and its absence means the model stopped. A key,
//! when configured, is sent as a bearer token.

use serde::Deserialize;
use serde_json::json;

use super::{Common, openai_messages, openai_response_format, set_opt, temperature};
use crate::config::{LlmConfig, ProviderKind};
use crate::error::Result;
use crate::output::Answer;
use crate::provider::Provider;
use crate::transport::Auth;
use crate::types::{ChatRequest, ChatResponse, FinishReason, Usage};

const PATH: &str = "/api/v1/chat";

/// The Rhetor gateway.
pub struct Rhetor {
    common: Common,
}

impl Rhetor {
    /// A client for `config` (whose `provider` is not consulted).
    pub fn new(config: &LlmConfig) -> Result<Rhetor> {
        Ok(Rhetor {
            common: Common::new(config, ProviderKind::Rhetor, Auth::Bearer, |b| b)?,
        })
    }

    fn body(&self, req: &ChatRequest) -> serde_json::Value {
        let mut body = json!({
            "messages": openai_messages(req),
            "max_tokens": self.common.max_tokens(req, None),
        });
        let model = self.common.model_for(req);
        set_opt(&mut body, "model", (!model.is_empty()).then_some(model));
        set_opt(&mut body, "temperature", temperature(req));
        set_opt(&mut body, "response_format", openai_response_format(req));
        body
    }
}

#[derive(Deserialize)]
struct Wire {
    content: Option<String>,
    model: Option<String>,
    usage: Option<WireUsage>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(alias = "input_tokens")]
    prompt_tokens: Option<u64>,
    #[serde(alias = "output_tokens")]
    completion_tokens: Option<u64>,
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        None | Some("stop" | "end_turn" | "stop_sequence") => FinishReason::Stop,
        Some("length" | "max_tokens") => FinishReason::Length,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

fn read(wire: Wire, requested_model: &str) -> Answer {
    let usage = wire.usage.map_or_else(Usage::default, |u| Usage {
        prompt_tokens: u.prompt_tokens.unwrap_or(0),
        completion_tokens: u.completion_tokens.unwrap_or(0),
    });
    Answer {
        text: wire.content.unwrap_or_default(),
        json: None,
        finish_reason: finish_reason(wire.finish_reason.as_deref()),
        usage,
        model: wire.model.unwrap_or_else(|| requested_model.to_owned()),
    }
}

#[async_trait::async_trait]
impl Provider for Rhetor {
    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse> {
        let wire: Wire = self.common.post(PATH, &[], &self.body(req)).await?;
        let answer = read(wire, self.common.model_for(req));
        self.common.finish(req, Ok(answer))
    }

    fn name(&self) -> &str {
        ProviderKind::Rhetor.as_str()
    }

    fn model(&self) -> &str {
        &self.common.model
    }

    fn supports_schema(&self) -> bool {
        true
    }
}
