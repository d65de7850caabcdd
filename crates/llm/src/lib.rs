//! Harmonia's LLM client: one [`Provider`] trait and a thin, typed client per wire
//! format behind it.
//!
//! - [`Provider`] (`provider.rs`): what the rest of Harmonia sees, `chat` plus what the
//!   provider is (`name`, `model`, `supports_schema`).
//! - [`ChatRequest`], [`ChatResponse`] (`types.rs`): provider-neutral messages and
//!   answers. A request may carry a JSON Schema; the answer's [`ChatResponse::json`]
//!   is then the parsed answer, and an answer that is not JSON, or that was cut at
//!   `max_tokens`, is [`Error::InvalidOutput`], never a success (`output.rs`).
//! - [`LlmConfig`] (`config.rs`): the `[llm]` table of the config file overlaid with
//!   `HARMONIA_LLM_*` variables; [`build`] turns it into an `Arc<dyn Provider>`.
//! - [`Secret`] (`secret.rs`): the API key, printed as `***` everywhere.
//! - The providers (`providers/`): OpenAI-compatible chat completions, Anthropic
//!   Messages, Ollama's `/api/chat`, and Rhetor, the family's gateway. Each speaks its
//!   real wire format over one shared transport (`transport.rs`: timeouts, retries
//!   with `Retry-After`, a bounded body, typed errors).
//!
//! Invariants: the API key never appears in an error's `Display` or `Debug`, nor in a
//! log line; a request body is never part of an error; the library installs no
//! tracing subscriber and spawns no task.

mod config;
mod error;
mod output;
mod provider;
mod providers;
mod secret;
mod transport;
mod types;

pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES, DEFAULT_MAX_TOKENS_CAP, DEFAULT_TIMEOUT,
    LlmConfig, ProviderKind,
};
pub use error::{Error, LlmError, MAX_MESSAGE_CHARS, Result};
pub use provider::Provider;
pub use providers::{ANTHROPIC_DEFAULT_MAX_TOKENS, Anthropic, Ollama, OpenAi, Rhetor, build};
pub use secret::Secret;
pub use types::{ChatRequest, ChatResponse, FinishReason, Message, Role, Usage};
