//! A conversation about an execution or a workflow: the user's messages, answered by
//! the model with the facts as context (an execution's, as diagnosis gathers them; a
//! workflow's definition), bounded and redacted.
//!
//! The answer can be followed as the model writes it ([`Assist::prepare_chat`], then
//! [`ChatCall::run`] with a callback).
//!
//! Invariants: at most [`MAX_TURNS`] messages of at most [`MAX_TURN_CHARS`]
//! characters, the last one the user's; the facts go in the system message, never
//! more than the settings' `context_chars`.

use harmonia_llm::{ChatRequest, Message};
use harmonia_storage::ExecutionId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::context::clip;
use super::{Assist, Tokens, model_error};
use crate::{Error, Result};

/// The most messages a conversation sends.
pub const MAX_TURNS: usize = 20;
/// The most characters of one message.
pub const MAX_TURN_CHARS: usize = 4_000;

/// One message of the conversation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChatTurn {
    /// `user` or `assistant`.
    pub role: String,
    /// What was said.
    pub content: String,
}

/// What the conversation is about (either, both, or neither).
#[derive(Debug, Clone, Default)]
pub struct ChatAbout {
    /// An execution (its facts, as a diagnosis sees them).
    pub execution: Option<ExecutionId>,
    /// A stored workflow (its latest definition).
    pub workflow: Option<String>,
}

/// The model's answer.
#[derive(Debug, Clone, Serialize)]
pub struct ChatReply {
    /// What it said.
    pub content: String,
    /// The model.
    pub model: String,
    /// Tokens used.
    pub tokens: Tokens,
    /// How many characters of facts it was given.
    pub context_chars: usize,
}

const SYSTEM: &str = "You help people run and debug workflows of a workflow engine. Be brief and concrete. Use the facts below; say when they do not tell.";

impl Assist {
    /// Answers the conversation `turns` about `about` (see the module doc).
    pub async fn chat(&self, turns: &[ChatTurn], about: &ChatAbout) -> Result<ChatReply> {
        self.prepare_chat(turns, about).await?.run(None).await
    }

    /// Checks the conversation and gathers its facts: the request, ready to send
    /// ([`ChatCall::run`]). Every error of the request comes from here, before any of
    /// the answer is passed on.
    pub async fn prepare_chat(&self, turns: &[ChatTurn], about: &ChatAbout) -> Result<ChatCall> {
        if turns.is_empty() {
            return Err(Error::InvalidRequest(
                "`messages` is empty: send at least the user's question".into(),
            ));
        }
        if turns.len() > MAX_TURNS {
            return Err(Error::InvalidRequest(format!(
                "`messages` has {} messages; at most {MAX_TURNS} are sent (keep the latest)",
                turns.len()
            )));
        }
        let mut messages = Vec::with_capacity(turns.len() + 1);
        for (i, t) in turns.iter().enumerate() {
            if t.content.chars().count() > MAX_TURN_CHARS {
                return Err(Error::InvalidRequest(format!(
                    "`messages[{i}].content` is longer than {MAX_TURN_CHARS} characters"
                )));
            }
            messages.push(match t.role.as_str() {
                "user" => Message::user(t.content.clone()),
                "assistant" => Message::assistant(t.content.clone()),
                other => {
                    return Err(Error::InvalidRequest(format!(
                        "`messages[{i}].role` is `{}`; expected `user` or `assistant`",
                        clip(other, 40)
                    )));
                }
            });
        }
        if turns.last().map(|t| t.role.as_str()) != Some("user") {
            return Err(Error::InvalidRequest(
                "the last message must be the user's".into(),
            ));
        }
        let llm = self.llm()?.clone();
        let mut facts = String::new();
        if let Some(id) = about.execution {
            facts.push_str(&self.facts(id, self.settings.context_chars).await?.text);
        }
        if let Some(name) = &about.workflow {
            let record = crate::Workflows(self.ctx.clone())
                .record(name, None)
                .await?;
            let mut source = Value::String(record.source);
            self.ctx.handle.redact_secrets(&mut source);
            let room = self
                .settings
                .context_chars
                .saturating_sub(facts.chars().count())
                .max(500);
            if !facts.is_empty() {
                facts.push_str("\n\n");
            }
            facts.push_str(&format!(
                "Workflow {} version {}:\n{}",
                record.name,
                record.version,
                clip(source.as_str().unwrap_or_default(), room)
            ));
        }
        let system = if facts.is_empty() {
            SYSTEM.to_string()
        } else {
            format!("{SYSTEM}\n\nFacts:\n{facts}")
        };
        messages.insert(0, Message::system(system));
        let req = ChatRequest {
            max_tokens: Some(self.settings.max_tokens),
            temperature: Some(0.2),
            ..ChatRequest::new(messages)
        };
        Ok(ChatCall {
            llm,
            req,
            context_chars: facts.chars().count(),
        })
    }
}

/// A conversation checked, with its facts, ready to send.
pub struct ChatCall {
    llm: std::sync::Arc<dyn harmonia_llm::Provider>,
    req: ChatRequest,
    context_chars: usize,
}

impl ChatCall {
    /// Sends it and returns the whole reply. With `on_text`, the answer's text also
    /// goes to it piece by piece as the model writes it (in one piece from a provider
    /// that answers whole); without, the model is asked for its answer whole.
    pub async fn run(
        &self,
        on_text: Option<&(dyn for<'t> Fn(&'t str) + Send + Sync)>,
    ) -> Result<ChatReply> {
        let answer = match on_text {
            Some(f) => self.llm.chat_streaming(&self.req, f).await,
            None => self.llm.chat(&self.req).await,
        }
        .map_err(model_error)?;
        let mut tokens = Tokens::default();
        tokens.add(&answer.usage);
        Ok(ChatReply {
            content: answer.text,
            model: answer.model,
            tokens,
            context_chars: self.context_chars,
        })
    }
}
