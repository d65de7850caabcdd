//! The assistant: use cases that ask a language model, always checked by Harmonia's
//! own rules before anything reaches the user.
//!
//! - [`draft`]: a workflow from plain language. The model drafts under a compact JSON
//!   Schema (constrained output), the draft is turned into a definition and validated
//!   by the model crate, and the diagnostics go back for repair, a bounded number of
//!   rounds. The answer is valid, or says it is not, with its diagnostics.
//! - [`diagnose`]: why an execution failed, from its event log (bounded, redacted), with
//!   a patch computed by rules (a retry policy for a flaky call, a larger timeout) and
//!   validated; the model only explains. Applying it stores a new version and retries.
//! - [`optimize`]: the deterministic findings of `harmonia_model::analysis` over a
//!   definition and its past timings; the model, when there is one, explains and ranks.
//! - [`chat`]: a conversation about an execution or a workflow, its facts as context.
//!
//! Invariants: no secret value reaches a prompt (the engine records none, and every
//! context is redacted again with the secrets' values, [`Handle::redact_secrets`]);
//! nothing invalid is presented as valid; without a model, `draft` and `chat` answer
//! [`Error::NoModel`] and `diagnose` and `optimize` answer their deterministic part.
//!
//! [`Handle::redact_secrets`]: harmonia_engine::Handle::redact_secrets

pub mod chat;
mod context;
pub mod diagnose;
pub mod draft;
pub mod optimize;

use std::sync::Arc;

use harmonia_llm::Provider;

use crate::{Ctx, Error, Result};

pub use chat::{ChatAbout, ChatCall, ChatReply, ChatTurn};
pub use diagnose::{Applied, Diagnosis, Patch, PatchChange};
pub use draft::{Draft, DraftRequest};
pub use optimize::Optimization;

/// What to say when no model is configured.
pub const NO_MODEL: &str = "no language model is configured: set `[llm] provider`, `base_url` and `model` in the config file, or HARMONIA_LLM_PROVIDER, HARMONIA_LLM_BASE_URL and HARMONIA_LLM_MODEL (and HARMONIA_LLM_API_KEY for a hosted provider)";

/// Bounds of the assistant's work.
#[derive(Debug, Clone)]
pub struct AssistSettings {
    /// Drafts a workflow request may take (the first and its repairs), 1 to 10.
    pub max_rounds: u32,
    /// The most characters of facts about an execution or workflow put in a prompt.
    pub context_chars: usize,
    /// The most tokens one answer may take.
    pub max_tokens: u32,
    /// The most tokens one draft of a workflow may take (a draft is longer).
    pub draft_max_tokens: u32,
}

impl Default for AssistSettings {
    fn default() -> AssistSettings {
        AssistSettings {
            max_rounds: 3,
            context_chars: 6_000,
            max_tokens: 600,
            draft_max_tokens: 1_000,
        }
    }
}

/// The assistant's use cases (see the module doc).
#[derive(Clone)]
pub struct Assist {
    pub(crate) ctx: Ctx,
    pub(crate) llm: Option<Arc<dyn Provider>>,
    pub(crate) settings: AssistSettings,
}

impl Assist {
    pub(crate) fn new(ctx: Ctx) -> Assist {
        Assist {
            ctx,
            llm: None,
            settings: AssistSettings::default(),
        }
    }

    /// The provider's name and model, when one is configured.
    pub fn model(&self) -> Option<(String, String)> {
        self.llm
            .as_ref()
            .map(|p| (p.name().to_string(), p.model().to_string()))
    }

    /// The settings in force.
    pub fn settings(&self) -> &AssistSettings {
        &self.settings
    }

    fn llm(&self) -> Result<&Arc<dyn Provider>> {
        self.llm
            .as_ref()
            .ok_or_else(|| Error::NoModel(NO_MODEL.to_string()))
    }
}

/// A model's failure as the use cases report it.
pub(crate) fn model_error(e: harmonia_llm::Error) -> Error {
    Error::Upstream(format!("the language model failed: {e}"))
}

/// Tokens used, summed over requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tokens {
    /// Prompt tokens.
    pub prompt: u64,
    /// Completion tokens.
    pub completion: u64,
}

impl Tokens {
    pub(crate) fn add(&mut self, u: &harmonia_llm::Usage) {
        self.prompt += u.prompt_tokens;
        self.completion += u.completion_tokens;
    }
}
