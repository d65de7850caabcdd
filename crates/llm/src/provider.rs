//! The [`Provider`] trait: all the rest of Harmonia knows of an LLM.
//!
//! Invariant of every implementation: `chat` makes one logical request (retried by the
//! transport on transient failures), never logs the prompt or the key, and honours
//! the request's schema as [`ChatResponse`](crate::ChatResponse) documents.

use crate::error::Result;
use crate::types::{ChatRequest, ChatResponse};

/// An LLM behind one wire format.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Asks the model; see [`ChatRequest`] and [`ChatResponse`] for the contract.
    async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse>;

    /// The provider's name (`openai`, `anthropic`, `ollama`, `rhetor`).
    fn name(&self) -> &str;

    /// The configured model (empty when the provider chooses, as Rhetor may).
    fn model(&self) -> &str;

    /// Whether the provider constrains its output to a request's JSON Schema (rather
    /// than only being asked to follow it).
    fn supports_schema(&self) -> bool;
}
