//! Anthropic's Messages API.
//!
//! `POST {base_url}/v1/messages` (the base URL may end in `/v1` or not) with `x-api-key`
//! and `anthropic-version: 2023-06-01`.
//! System messages go to the top-level `system` (joined by blank lines); `max_tokens`
//! is required (default [`ANTHROPIC_DEFAULT_MAX_TOKENS`], within the cap); stop sequences are
//! `stop_sequences`. The answer is the `text` blocks of `content`, joined.
//!
//! Structured output is a forced tool call: the schema is the `input_schema` of one
//! tool, `tool_choice` names it, and the `tool_use` block's `input` is the answer
//! (its text is that input serialized). Anthropic requires that schema to describe an
//! object.

use serde::Deserialize;
use serde_json::json;

use super::{Common, schema_name, set_opt, temperature, without_v1};
use crate::config::{LlmConfig, ProviderKind};
use crate::error::{Error, Result};
use crate::output::Answer;
use crate::provider::Provider;
use crate::transport::Auth;
use crate::types::{ChatRequest, ChatResponse, FinishReason, Role, Usage};

const PATH: &str = "/v1/messages";
const VERSION: (&str, &str) = ("anthropic-version", "2023-06-01");

/// The answer's budget when a request sets none (Anthropic requires one).
pub const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 1024;

/// Anthropic's Messages API.
pub struct Anthropic {
    common: Common,
}

impl Anthropic {
    /// A client for `config` (whose `provider` is not consulted).
    pub fn new(config: &LlmConfig) -> Result<Anthropic> {
        Ok(Anthropic {
            common: Common::new(
                config,
                ProviderKind::Anthropic,
                Auth::Header("x-api-key"),
                without_v1,
            )?,
        })
    }

    fn body(&self, req: &ChatRequest) -> serde_json::Value {
        let system: Vec<&str> = req
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let messages: Vec<serde_json::Value> = req
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        let mut body = json!({
            "model": self.common.model_for(req),
            "max_tokens": self.common.max_tokens(req, Some(ANTHROPIC_DEFAULT_MAX_TOKENS)),
            "messages": messages,
        });
        set_opt(
            &mut body,
            "system",
            (!system.is_empty()).then(|| system.join("\n\n")),
        );
        set_opt(&mut body, "temperature", temperature(req));
        set_opt(
            &mut body,
            "stop_sequences",
            (!req.stop.is_empty()).then(|| req.stop.clone()),
        );
        if let Some(schema) = &req.schema {
            let name = schema_name(req);
            set_opt(
                &mut body,
                "tools",
                Some(json!([{
                    "name": name,
                    "description": "Give the answer, following this tool's input schema.",
                    "input_schema": schema,
                }])),
            );
            set_opt(
                &mut body,
                "tool_choice",
                Some(json!({"type": "tool", "name": name})),
            );
        }
        body
    }
}

#[derive(Deserialize)]
struct Wire {
    content: Vec<Block>,
    model: Option<String>,
    stop_reason: Option<String>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    ToolUse {
        name: String,
        input: serde_json::Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        None | Some("end_turn" | "stop_sequence" | "tool_use") => FinishReason::Stop,
        Some("max_tokens") => FinishReason::Length,
        Some("refusal") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

fn read(wire: Wire, req: &ChatRequest, requested_model: &str) -> Result<Answer> {
    let finish_reason = finish_reason(wire.stop_reason.as_deref());
    let mut texts = Vec::new();
    let mut tool_input = None;
    let usage = wire.usage.map_or_else(Usage::default, |u| Usage {
        prompt_tokens: u.input_tokens.unwrap_or(0),
        completion_tokens: u.output_tokens.unwrap_or(0),
    });
    let tool = req.schema.as_ref().map(|_| schema_name(req));
    for block in wire.content {
        match block {
            Block::Text { text } => texts.push(text),
            Block::ToolUse { name, input } => {
                if tool_input.is_none() && tool.as_deref() == Some(name.as_str()) {
                    tool_input = Some(input);
                }
            }
            Block::Other => {}
        }
    }
    let mut text = texts.concat();
    if let Some(tool) = tool {
        match &tool_input {
            Some(input) => text = input.to_string(),
            None if matches!(finish_reason, FinishReason::Stop | FinishReason::Other(_)) => {
                return Err(Error::InvalidOutput {
                    reason: format!("the model did not answer through the `{tool}` tool"),
                    text,
                    usage,
                });
            }
            // Cut or filtered: the schema contract reports it.
            None => {}
        }
    }
    Ok(Answer {
        text,
        json: tool_input,
        finish_reason,
        usage,
        model: wire.model.unwrap_or_else(|| requested_model.to_owned()),
    })
}

#[async_trait::async_trait]
impl Provider for Anthropic {
    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse> {
        let wire: Wire = self.common.post(PATH, &[VERSION], &self.body(req)).await?;
        let answer = read(wire, req, self.common.model_for(req));
        self.common.finish(req, answer)
    }

    fn name(&self) -> &str {
        ProviderKind::Anthropic.as_str()
    }

    fn model(&self) -> &str {
        &self.common.model
    }

    fn supports_schema(&self) -> bool {
        true
    }
}
