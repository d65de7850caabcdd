//! The language model the server and the local commands use: `[llm]` in the config
//! file, overlaid with the `HARMONIA_LLM_*` variables (`HARMONIA_LLM_PROVIDER`,
//! `_BASE_URL`, `_MODEL`, `_API_KEY`, `_TIMEOUT_SECS`). There is none when neither
//! the file has `[llm]` nor a variable names a provider, a URL or a model; then the
//! assistant says how to configure one and `llm` tasks are refused at start.
//!
//! The API key is never read from the file in clear: `api_key_env` names the
//! variable that holds it (or `HARMONIA_LLM_API_KEY`).

use std::sync::Arc;

use anyhow::Context as _;
use harmonia_llm::{LlmConfig, Provider};
use serde::Deserialize;

/// Whether a variable names a model to use.
fn named_in_env() -> bool {
    [
        "HARMONIA_LLM_PROVIDER",
        "HARMONIA_LLM_BASE_URL",
        "HARMONIA_LLM_MODEL",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()))
}

/// The provider `file` (the config file's `[llm]`) and the environment configure, if
/// any; a configuration that is wrong is an error (the server does not start).
pub(crate) fn provider(file: Option<LlmConfig>) -> anyhow::Result<Option<Arc<dyn Provider>>> {
    if file.is_none() && !named_in_env() {
        return Ok(None);
    }
    let config = LlmConfig::from_env_overlay(file)
        .context("invalid language model settings ([llm], HARMONIA_LLM_*)")?;
    config
        .validate()
        .context("invalid language model settings ([llm], HARMONIA_LLM_*)")?;
    let provider = harmonia_llm::build(&config).context("cannot set up the language model")?;
    tracing::info!(
        provider = provider.name(),
        model = provider.model(),
        "language model configured"
    );
    Ok(Some(provider))
}

/// The part of `harmonia.toml` the local commands read for the model.
#[derive(Debug, Default, Deserialize)]
struct LocalFile {
    llm: Option<LlmConfig>,
}

/// The provider of a local command: `harmonia.toml`'s `[llm]` (when the file exists)
/// and the environment.
pub(crate) fn local_provider() -> anyhow::Result<Option<Arc<dyn Provider>>> {
    let path = std::path::Path::new("harmonia.toml");
    let file = if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        // Only `[llm]` is read here; the other tables are the server's.
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("invalid config file {}", path.display()))?;
        match table.get("llm") {
            Some(v) => LocalFile {
                llm: Some(
                    v.clone()
                        .try_into()
                        .with_context(|| format!("invalid [llm] in {}", path.display()))?,
                ),
            },
            None => LocalFile::default(),
        }
    } else {
        LocalFile::default()
    };
    provider(file.llm)
}

/// The token budget of one execution's `llm` tasks for a local command
/// (`HARMONIA_LLM_TOKENS_PER_EXECUTION`; none when unset).
pub(crate) fn tokens_per_execution() -> anyhow::Result<Option<u64>> {
    match std::env::var("HARMONIA_LLM_TOKENS_PER_EXECUTION") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map(Some).with_context(|| {
            format!("HARMONIA_LLM_TOKENS_PER_EXECUTION: `{v}` is not a number of tokens")
        }),
        _ => Ok(None),
    }
}
