//! OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp's server, LM Studio).
//!
//! `POST {base_url}/v1/chat/completions` (the base URL may end in `/v1` or not), the key
//! as `Authorization: Bearer`; a schema goes in `response_format` as a strict
//! `json_schema`. The answer is `choices[0].message.content` with its `finish_reason`
//! and `usage`. A `refusal` (OpenAI's structured-output refusal) is reported as a
//! content filter. Streamed (`chat_streaming`): `stream: true` with
//! `stream_options.include_usage`, the answer read as Server-Sent Events (`data:
//! {choices: [{delta: {content}, finish_reason}], usage}` lines, then `data: [DONE]`).

use serde::Deserialize;
use serde_json::json;

use super::{Common, openai_messages, openai_response_format, set_opt, temperature, without_v1};
use crate::config::{LlmConfig, ProviderKind};
use crate::error::{Error, Result};
use crate::output::Answer;
use crate::provider::Provider;
use crate::transport::Auth;
use crate::types::{ChatRequest, ChatResponse, FinishReason, Usage};

const PATH: &str = "/v1/chat/completions";

/// An OpenAI-compatible server.
pub struct OpenAi {
    common: Common,
}

impl OpenAi {
    /// A client for `config` (whose `provider` is not consulted).
    pub fn new(config: &LlmConfig) -> Result<OpenAi> {
        Ok(OpenAi {
            common: Common::new(config, ProviderKind::OpenAi, Auth::Bearer, without_v1)?,
        })
    }

    fn body(&self, req: &ChatRequest) -> serde_json::Value {
        let mut body = json!({
            "model": self.common.model_for(req),
            "messages": openai_messages(req),
            "max_tokens": self.common.max_tokens(req, None),
        });
        set_opt(&mut body, "temperature", temperature(req));
        set_opt(
            &mut body,
            "stop",
            (!req.stop.is_empty()).then(|| req.stop.clone()),
        );
        set_opt(&mut body, "response_format", openai_response_format(req));
        body
    }
}

#[derive(Deserialize)]
struct Wire {
    choices: Vec<Choice>,
    model: Option<String>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: WireMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireMessage {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        None | Some("stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

fn read(wire: Wire, requested_model: &str) -> Result<Answer> {
    let choice = wire
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| Error::Protocol("the answer has no choices".into()))?;
    let (text, finish_reason) = match (choice.message.content, choice.message.refusal) {
        (None, Some(refusal)) => (refusal, FinishReason::ContentFilter),
        (content, _) => (
            content.unwrap_or_default(),
            finish_reason(choice.finish_reason.as_deref()),
        ),
    };
    let usage = wire.usage.map_or_else(Usage::default, |u| Usage {
        prompt_tokens: u.prompt_tokens.unwrap_or(0),
        completion_tokens: u.completion_tokens.unwrap_or(0),
    });
    Ok(Answer {
        text,
        json: None,
        finish_reason,
        usage,
        model: wire.model.unwrap_or_else(|| requested_model.to_owned()),
    })
}

/// One event of a streamed answer.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    model: Option<String>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    content: Option<String>,
    refusal: Option<String>,
}

/// What a stream has said so far.
#[derive(Default)]
struct Streamed {
    text: String,
    refusal: Option<String>,
    finish_reason: Option<String>,
    model: Option<String>,
    usage: Option<WireUsage>,
    done: bool,
    error: Option<String>,
}

impl Streamed {
    /// Takes one line of the stream; the new text, if any.
    fn line(&mut self, line: &str) -> Option<String> {
        let data = line.strip_prefix("data:")?.trim();
        if data == "[DONE]" {
            self.done = true;
            return None;
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                self.error.get_or_insert_with(|| {
                    format!("a streamed event is not the expected JSON: {e}")
                });
                return None;
            }
        };
        if chunk.model.is_some() {
            self.model = chunk.model;
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        let choice = chunk.choices.into_iter().next()?;
        if choice.finish_reason.is_some() {
            self.finish_reason = choice.finish_reason;
        }
        if let Some(r) = choice.delta.refusal {
            self.refusal.get_or_insert_with(String::new).push_str(&r);
        }
        let piece = choice.delta.content.filter(|c| !c.is_empty())?;
        self.text.push_str(&piece);
        Some(piece)
    }

    fn answer(self, requested_model: &str) -> Result<Answer> {
        if let Some(e) = self.error {
            return Err(Error::Protocol(e));
        }
        if !self.done && self.finish_reason.is_none() {
            return Err(Error::Protocol(
                "the stream ended before the answer did".into(),
            ));
        }
        let wire = Wire {
            choices: vec![Choice {
                message: WireMessage {
                    content: (!self.text.is_empty() || self.refusal.is_none()).then_some(self.text),
                    refusal: self.refusal,
                },
                finish_reason: self.finish_reason,
            }],
            model: self.model,
            usage: self.usage,
        };
        read(wire, requested_model)
    }
}

#[async_trait::async_trait]
impl Provider for OpenAi {
    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse> {
        let wire: Wire = self.common.post(PATH, &[], &self.body(req)).await?;
        let answer = read(wire, self.common.model_for(req));
        self.common.finish(req, answer)
    }

    async fn chat_streaming(
        &self,
        req: &ChatRequest,
        on_text: &(dyn for<'t> Fn(&'t str) + Send + Sync),
    ) -> Result<ChatResponse> {
        let mut body = self.body(req);
        set_opt(&mut body, "stream", Some(true));
        set_opt(
            &mut body,
            "stream_options",
            Some(json!({"include_usage": true})),
        );
        let mut streamed = Streamed::default();
        let mut on_line = |line: &str| {
            if let Some(piece) = streamed.line(line) {
                on_text(&piece);
            }
        };
        let sent = self.common.post_lines(PATH, &body, &mut on_line).await;
        let answer = sent.and_then(|()| streamed.answer(self.common.model_for(req)));
        self.common.finish(req, answer)
    }

    fn name(&self) -> &str {
        ProviderKind::OpenAi.as_str()
    }

    fn model(&self) -> &str {
        &self.common.model
    }

    fn supports_schema(&self) -> bool {
        true
    }
}
