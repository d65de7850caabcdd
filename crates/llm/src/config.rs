//! [`LlmConfig`]: which provider, where, which model, with which key and limits.
//!
//! Read in layers, like all of Harmonia's configuration: the config file's `[llm]`
//! table (serde), then `HARMONIA_LLM_*` variables ([`LlmConfig::from_env_overlay`]),
//! then whatever the binary's flags set on the struct.
//!
//! Invariants: the file never holds the key in clear (a literal `api_key` is refused;
//! `api_key_env` names the variable that does); the key lives in a [`Secret`]; the
//! environment is read only through a lookup closure, so tests never touch the process
//! environment.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// How long one request may take, answer included, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long connecting may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a transient failure is retried by default.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The default per-request token budget.
pub const DEFAULT_MAX_TOKENS_CAP: u32 = 4096;

/// The wire formats Harmonia speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProviderKind {
    /// OpenAI's chat completions, as OpenAI, vLLM, llama.cpp and LM Studio serve it.
    #[default]
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
    /// Ollama's `/api/chat`.
    Ollama,
    /// Rhetor, the family's LLM gateway.
    Rhetor,
}

impl ProviderKind {
    /// Every kind, in the order error messages list them.
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::Ollama,
        ProviderKind::Rhetor,
    ];

    /// The kind's name in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Rhetor => "rhetor",
        }
    }

    /// Where the provider is when no `base_url` is configured (Rhetor's `RHETOR_URL`
    /// is applied by [`LlmConfig::from_env_overlay`]).
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "https://api.openai.com",
            ProviderKind::Anthropic => "https://api.anthropic.com",
            ProviderKind::Ollama => "http://127.0.0.1:11434",
            ProviderKind::Rhetor => "http://localhost:8003",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<ProviderKind> {
        let wanted = s.trim();
        ProviderKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                let valid: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
                Error::Config(format!(
                    "unknown LLM provider `{wanted}`; expected one of: {}",
                    valid.join(", ")
                ))
            })
    }
}

impl<'de> Deserialize<'de> for ProviderKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How to reach an LLM. Deserializes from the config file's `[llm]` table:
///
/// ```toml
/// [llm]
/// provider = "anthropic"          # openai | anthropic | ollama | rhetor
/// model = "claude-sonnet-4-5"
/// api_key_env = "ANTHROPIC_API_KEY"
/// # base_url = "https://api.anthropic.com"
/// # timeout_secs = 120
/// # connect_timeout_secs = 10
/// # max_retries = 2
/// # max_tokens_cap = 4096
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawConfig")]
pub struct LlmConfig {
    /// The wire format.
    pub provider: ProviderKind,
    /// Where the provider is; `None` for [`ProviderKind::default_base_url`].
    pub base_url: Option<String>,
    /// The model to ask (may be empty for Rhetor, which then chooses).
    pub model: String,
    /// The API key.
    pub api_key: Option<Secret>,
    /// The environment variable holding the API key, read by
    /// [`LlmConfig::from_env_overlay`] when no key is set otherwise.
    pub api_key_env: Option<String>,
    /// How long one request may take, reading the answer included.
    pub timeout: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How many times a transient failure (429, 5xx, no connection) is retried.
    pub max_retries: u32,
    /// The most tokens one answer may take; a request asking for more is clamped.
    pub max_tokens_cap: u32,
}

impl Default for LlmConfig {
    fn default() -> LlmConfig {
        LlmConfig {
            provider: ProviderKind::default(),
            base_url: None,
            model: String::new(),
            api_key: None,
            api_key_env: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            max_tokens_cap: DEFAULT_MAX_TOKENS_CAP,
        }
    }
}

impl LlmConfig {
    /// `base` (or the defaults) overlaid with the process environment; see
    /// [`LlmConfig::from_env_overlay_with`].
    pub fn from_env_overlay(base: Option<LlmConfig>) -> Result<LlmConfig> {
        LlmConfig::from_env_overlay_with(base, |name| std::env::var(name).ok())
    }

    /// `base` (or the defaults) overlaid with the variables `env` finds (empty values
    /// count as unset): `HARMONIA_LLM_PROVIDER`, `HARMONIA_LLM_BASE_URL`,
    /// `HARMONIA_LLM_MODEL`, `HARMONIA_LLM_API_KEY`, `HARMONIA_LLM_TIMEOUT_SECS`; then,
    /// with no key yet, the variable `api_key_env` names (which must be set); then,
    /// for Rhetor without a `base_url`, `RHETOR_URL`.
    pub fn from_env_overlay_with(
        base: Option<LlmConfig>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<LlmConfig> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut c = base.unwrap_or_default();
        if let Some(p) = env("HARMONIA_LLM_PROVIDER") {
            c.provider = p.parse().map_err(|e| match e {
                Error::Config(m) => Error::Config(format!("HARMONIA_LLM_PROVIDER: {m}")),
                other => other,
            })?;
        }
        if let Some(url) = env("HARMONIA_LLM_BASE_URL") {
            c.base_url = Some(url.trim().to_owned());
        }
        if let Some(model) = env("HARMONIA_LLM_MODEL") {
            c.model = model.trim().to_owned();
        }
        if let Some(key) = env("HARMONIA_LLM_API_KEY") {
            c.api_key = Some(Secret::new(key.trim()));
        }
        if let Some(secs) = env("HARMONIA_LLM_TIMEOUT_SECS") {
            c.timeout = parse_secs("HARMONIA_LLM_TIMEOUT_SECS", &secs)?;
        }
        if c.api_key.is_none()
            && let Some(var) = &c.api_key_env
        {
            let key = env(var).ok_or_else(|| {
                Error::Config(format!(
                    "api_key_env names `{var}`, which is not set (or is empty)"
                ))
            })?;
            c.api_key = Some(Secret::new(key.trim()));
        }
        if c.provider == ProviderKind::Rhetor
            && c.base_url.is_none()
            && let Some(url) = env("RHETOR_URL")
        {
            c.base_url = Some(url.trim().to_owned());
        }
        Ok(c)
    }

    /// The base URL requests go to: the configured one or the provider's default.
    pub fn effective_base_url(&self) -> &str {
        self.base_url
            .as_deref()
            .unwrap_or(self.provider.default_base_url())
    }

    /// Checks what [`build`](crate::build) needs, every problem in one message.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.model.trim().is_empty() && self.provider != ProviderKind::Rhetor {
            problems.push(format!(
                "no model for provider `{}`; set `model` in [llm] or HARMONIA_LLM_MODEL",
                self.provider
            ));
        }
        let url = self.effective_base_url();
        match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            Ok(_) => problems.push(format!("base_url `{url}` is not an http(s) URL")),
            Err(e) => problems.push(format!("base_url `{url}` is not a URL: {e}")),
        }
        if self.timeout.is_zero() {
            problems.push("timeout must be more than 0 seconds".into());
        }
        if self.connect_timeout.is_zero() {
            problems.push("connect_timeout must be more than 0 seconds".into());
        }
        if self.max_tokens_cap == 0 {
            problems.push("max_tokens_cap must be more than 0".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(problems.join("; ")))
        }
    }
}

fn parse_secs(what: &str, value: &str) -> Result<Duration> {
    match value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
        _ => Err(Error::Config(format!(
            "{what} must be a whole number of seconds above 0, got `{value}`"
        ))),
    }
}

/// The `[llm]` table as written, before checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    provider: Option<ProviderKind>,
    base_url: Option<String>,
    model: Option<String>,
    api_key_env: Option<String>,
    /// Present only to be refused with a helpful message.
    api_key: Option<serde::de::IgnoredAny>,
    timeout_secs: Option<u64>,
    connect_timeout_secs: Option<u64>,
    max_retries: Option<u32>,
    max_tokens_cap: Option<u32>,
}

impl TryFrom<RawConfig> for LlmConfig {
    type Error = Error;

    fn try_from(raw: RawConfig) -> Result<LlmConfig> {
        if raw.api_key.is_some() {
            return Err(Error::Config(
                "`api_key` is not accepted in the config file: name the environment variable \
                 that holds it with `api_key_env = \"VAR\"`, or set HARMONIA_LLM_API_KEY"
                    .into(),
            ));
        }
        let d = LlmConfig::default();
        let secs = |what: &str, v: Option<u64>, default: Duration| match v {
            None => Ok(default),
            Some(n) => parse_secs(what, &n.to_string()),
        };
        Ok(LlmConfig {
            provider: raw.provider.unwrap_or(d.provider),
            base_url: raw.base_url.map(|u| u.trim().to_owned()),
            model: raw.model.unwrap_or_default().trim().to_owned(),
            api_key: None,
            api_key_env: raw.api_key_env,
            timeout: secs("timeout_secs", raw.timeout_secs, d.timeout)?,
            connect_timeout: secs(
                "connect_timeout_secs",
                raw.connect_timeout_secs,
                d.connect_timeout,
            )?,
            max_retries: raw.max_retries.unwrap_or(d.max_retries),
            max_tokens_cap: raw.max_tokens_cap.unwrap_or(d.max_tokens_cap),
        })
    }
}
