//! The provider-neutral request and answer.
//!
//! A [`ChatRequest`] says what to ask, never how a provider spells it; each provider
//! translates it to its wire format. Invariant of [`ChatResponse`]: when the request
//! had a schema, `json` is `Some` (the parsed answer) — a response is never returned
//! with a schema and no JSON.

use serde::{Deserialize, Serialize};

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The user's turn.
    User,
    /// The model's earlier turn.
    Assistant,
}

impl Role {
    /// The role as every wire format spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// What to ask a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation, in order.
    pub messages: Vec<Message>,
    /// A JSON Schema the answer must follow; the answer is then parsed into
    /// [`ChatResponse::json`].
    pub schema: Option<serde_json::Value>,
    /// The schema's name, where the provider wants one (default `answer`).
    pub schema_name: Option<String>,
    /// The most tokens the answer may take (clamped to the configured cap).
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Sequences that end the answer.
    pub stop: Vec<String>,
    /// A model to use instead of the configured one.
    pub model: Option<String>,
}

impl ChatRequest {
    /// A request for these messages, with nothing else set.
    pub fn new(messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            messages,
            ..ChatRequest::default()
        }
    }

    /// This request, asking for an answer under `schema`.
    pub fn with_schema(mut self, name: impl Into<String>, schema: serde_json::Value) -> Self {
        self.schema_name = Some(name.into());
        self.schema = Some(schema);
        self
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// It finished its answer (or met a stop sequence).
    Stop,
    /// It was cut at `max_tokens`.
    Length,
    /// The provider withheld (part of) the answer.
    ContentFilter,
    /// Another reason, as the provider named it.
    Other(String),
}

/// Tokens spent by one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompt.
    pub prompt_tokens: u64,
    /// Tokens of the answer.
    pub completion_tokens: u64,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The answer's text (under a schema, the JSON text).
    pub text: String,
    /// The parsed answer, when the request had a schema.
    pub json: Option<serde_json::Value>,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
    /// Tokens spent.
    pub usage: Usage,
    /// The model that answered, as the provider names it.
    pub model: String,
}
