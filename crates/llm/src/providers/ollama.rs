//! Ollama's chat API.
//!
//! `POST {base_url}/api/chat` with `stream: false`; a schema goes in `format` (Ollama
//! constrains its output to it), the budget, temperature and stop sequences in
//! `options` (`num_predict`, `temperature`, `stop`). The answer is `message.content`
//! with `done_reason` and the `prompt_eval_count` / `eval_count` token counts. A key,
//! when configured (Ollama behind a proxy), is sent as a bearer token.

use serde::Deserialize;
use serde_json::json;

use super::{Common, openai_messages, set_opt, temperature};
use crate::config::{LlmConfig, ProviderKind};
use crate::error::Result;
use crate::output::Answer;
use crate::provider::Provider;
use crate::transport::Auth;
use crate::types::{ChatRequest, ChatResponse, FinishReason, Usage};

const PATH: &str = "/api/chat";

/// An Ollama server.
pub struct Ollama {
    common: Common,
}

impl Ollama {
    /// A client for `config` (whose `provider` is not consulted).
    pub fn new(config: &LlmConfig) -> Result<Ollama> {
        Ok(Ollama {
            common: Common::new(config, ProviderKind::Ollama, Auth::Bearer, |b| b)?,
        })
    }

    fn body(&self, req: &ChatRequest) -> serde_json::Value {
        let mut options = json!({"num_predict": self.common.max_tokens(req, None)});
        set_opt(&mut options, "temperature", temperature(req));
        set_opt(
            &mut options,
            "stop",
            (!req.stop.is_empty()).then(|| req.stop.clone()),
        );
        let mut body = json!({
            "model": self.common.model_for(req),
            "messages": openai_messages(req),
            "stream": false,
            "options": options,
        });
        set_opt(&mut body, "format", req.schema.clone());
        body
    }
}

#[derive(Deserialize)]
struct Wire {
    message: WireMessage,
    model: Option<String>,
    done_reason: Option<String>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: String,
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        None | Some("stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

fn read(wire: Wire, requested_model: &str) -> Answer {
    Answer {
        text: wire.message.content,
        json: None,
        finish_reason: finish_reason(wire.done_reason.as_deref()),
        usage: Usage {
            prompt_tokens: wire.prompt_eval_count.unwrap_or(0),
            completion_tokens: wire.eval_count.unwrap_or(0),
        },
        model: wire.model.unwrap_or_else(|| requested_model.to_owned()),
    }
}

#[async_trait::async_trait]
impl Provider for Ollama {
    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse> {
        let wire: Wire = self.common.post(PATH, &[], &self.body(req)).await?;
        let answer = read(wire, self.common.model_for(req));
        self.common.finish(req, Ok(answer))
    }

    fn name(&self) -> &str {
        ProviderKind::Ollama.as_str()
    }

    fn model(&self) -> &str {
        &self.common.model
    }

    fn supports_schema(&self) -> bool {
        true
    }
}
