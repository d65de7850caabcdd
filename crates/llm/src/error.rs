//! The crate's one error type.
//!
//! Invariant: no variant ever carries the API key (the transport scrubs every message
//! it builds from a provider's answer with [`Error::scrub`]) or the request body.
//! Messages are lowercase, and a provider's error message is at most
//! [`MAX_MESSAGE_CHARS`] characters.

use crate::secret::Secret;

/// How many characters of a provider's error message an [`Error::Http`] keeps.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// What can go wrong talking to an LLM.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The provider could not be reached or did not answer in time (after the
    /// retries, for connection failures).
    #[error("the LLM provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider answered with an error status; `message` is its own explanation,
    /// taken from its error body.
    #[error("the LLM provider answered HTTP {status}: {message}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The provider's message, truncated to [`MAX_MESSAGE_CHARS`] characters.
        message: String,
    },
    /// The model answered, but not with something usable: not JSON under a schema,
    /// cut at `max_tokens`, withheld by a content filter.
    #[error("the model's answer is not usable: {reason}")]
    InvalidOutput {
        /// Why the answer was refused.
        reason: String,
        /// The answer's text, as the model gave it.
        text: String,
        /// What the refused answer cost.
        usage: crate::types::Usage,
    },
    /// The configuration is wrong.
    #[error("invalid LLM configuration: {0}")]
    Config(String),
    /// The provider answered something that is not its documented format.
    #[error("unexpected answer from the LLM provider: {0}")]
    Protocol(String),
}

/// The name the rest of Harmonia may use for this crate's [`Error`].
pub type LlmError = Error;

/// A result whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// This error with every occurrence of `secret` replaced by `***`.
    pub fn scrub(self, secret: Option<&Secret>) -> Error {
        let Some(secret) = secret.map(Secret::expose).filter(|s| !s.is_empty()) else {
            return self;
        };
        let clean = |s: String| {
            if s.contains(secret) {
                s.replace(secret, "***")
            } else {
                s
            }
        };
        match self {
            Error::Unavailable(m) => Error::Unavailable(clean(m)),
            Error::Http { status, message } => Error::Http {
                status,
                message: clean(message),
            },
            Error::InvalidOutput {
                reason,
                text,
                usage,
            } => Error::InvalidOutput {
                reason: clean(reason),
                text: clean(text),
                usage,
            },
            Error::Config(m) => Error::Config(clean(m)),
            Error::Protocol(m) => Error::Protocol(clean(m)),
        }
    }

    /// Whether trying again later may succeed (the provider was unavailable, rate
    /// limited, or failed on its side).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unavailable(_) => true,
            Error::Http { status, .. } => crate::transport::is_retryable_status(*status),
            _ => false,
        }
    }
}

/// `s` cut to at most `max` characters, with `…` when something was cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("hé", 2), "hé");
    }

    #[test]
    fn scrub_replaces_the_secret_everywhere() {
        let key = Secret::new("sk-123");
        let e = Error::Http {
            status: 401,
            message: "bad key sk-123".into(),
        }
        .scrub(Some(&key));
        assert_eq!(
            e.to_string(),
            "the LLM provider answered HTTP 401: bad key ***"
        );
    }
}
