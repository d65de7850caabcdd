//! The [`Provider`] trait: all the rest of Harmonia knows of an LLM.
//!
//! Invariant of every implementation: `chat` (and `chat_streaming`, which OpenAI-style
//! servers answer as Server-Sent Events) makes one logical request (retried by the
//! transport on transient failures), never logs the prompt or the key, and honours
//! the request's schema as [`ChatResponse`](crate::ChatResponse) documents.

use crate::error::Result;
use crate::types::{ChatRequest, ChatResponse};

/// An LLM behind one wire format.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Asks the model; see [`ChatRequest`] and [`ChatResponse`] for the contract.
    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse>;

    /// Asks the model like [`Provider::chat`], passing the answer's text to `on_text`
    /// piece by piece as it arrives (the pieces joined are the answer's text). A
    /// provider that answers whole passes it in one piece, at the end.
    async fn chat_streaming(
        &self,
        req: &ChatRequest,
        on_text: &(dyn for<'t> Fn(&'t str) + Send + Sync),
    ) -> Result<ChatResponse> {
        let answer = self.chat(req).await?;
        on_text(&answer.text);
        Ok(answer)
    }

    /// The provider's name (`openai`, `anthropic`, `ollama`, `rhetor`).
    fn name(&self) -> &str;

    /// The configured model (empty when the provider chooses, as Rhetor may).
    fn model(&self) -> &str;

    /// Whether the provider constrains its output to a request's JSON Schema (rather
    /// than only being asked to follow it).
    fn supports_schema(&self) -> bool;
}
