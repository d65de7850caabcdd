//! The `llm` kind's failures as [`TaskError`]s, by class.
//!
//! | failure | class | retried by default |
//! |---|---|---|
//! | the provider unreachable or too slow (`Error::Unavailable`) | `connection` | yes |
//! | HTTP 429 | `http_429` | yes |
//! | HTTP 5xx, or an answer not in the provider's format (`Error::Protocol`) | `http_5xx` | yes |
//! | another HTTP status (a 4xx: a bad key, an unknown model, a request refused) | `http_4xx` | no |
//! | an answer not JSON, cut at `max_tokens`, withheld, or not valid under `schema` | `llm_invalid_output` | yes |
//! | the provider misconfigured (`Error::Config`), bad parameters | `validation` | no |
//! | the execution's token budget spent | `llm_budget` | never (permanent) |
//! | a prompt carrying a secret | `secret_in_prompt` | never (permanent) |
//!
//! Invariants: messages never quote the prompt (the provider's own messages may be
//! quoted: the client scrubs its key from them); the model's unusable answer is kept
//! in `details.text`, cut to [`TEXT_CHARS`] characters, so that a person can see why
//! it failed.

use harmonia_llm::Error;
use harmonia_model::ErrorClass;
use serde_json::json;

use crate::event::TaskError;

/// The most of an unusable answer kept in an error's details, in characters.
pub(super) const TEXT_CHARS: usize = 2_000;

/// The error for a failed request to the provider.
pub(super) fn from_llm(e: Error) -> TaskError {
    match e {
        Error::Unavailable(_) => TaskError::new(ErrorClass::Connection, e.to_string()),
        Error::Http { status, .. } => {
            let class = match status {
                429 => ErrorClass::Http429,
                500..=599 => ErrorClass::Http5xx,
                _ => ErrorClass::Http4xx,
            };
            TaskError::new(class, e.to_string()).with_status(status)
        }
        Error::InvalidOutput { reason, text, .. } => invalid_output(&reason, &text),
        Error::Config(_) => TaskError::new(ErrorClass::Validation, e.to_string()),
        Error::Protocol(_) => TaskError::new(ErrorClass::Http5xx, e.to_string()),
    }
}

/// An unusable answer: why, and (in `details.text`) the start of what the model said.
pub(super) fn invalid_output(reason: &str, text: &str) -> TaskError {
    let mut kept: String = text.chars().take(TEXT_CHARS).collect();
    let truncated = text.chars().nth(TEXT_CHARS).is_some();
    if truncated {
        kept.push('…');
    }
    TaskError::new(
        ErrorClass::LlmInvalidOutput,
        format!("the model's answer is not usable: {reason}"),
    )
    .with_details(json!({"reason": reason, "text": kept}))
}

/// The execution's token budget is spent.
pub(super) fn budget_spent(budget: u64, used: u64) -> TaskError {
    TaskError::new(
        ErrorClass::LlmBudget,
        format!(
            "the execution's LLM token budget of {budget} tokens is spent: its attempts used {used} tokens"
        ),
    )
    .with_details(json!({"budget": budget, "used": used}))
    .permanent()
}

/// A parameter would send a secret to the model.
pub(super) fn secret_in_prompt(key: &str) -> TaskError {
    TaskError::new(
        ErrorClass::SecretInPrompt,
        format!(
            "`{key}` carries a secret's value, or a value computed from one: secrets never reach a model, so nothing was sent"
        ),
    )
    .permanent()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_keep_their_http_classes() {
        let class = |e| from_llm(e).class;
        assert_eq!(
            class(Error::Unavailable("refused".into())),
            ErrorClass::Connection
        );
        let http = |status| Error::Http {
            status,
            message: "m".into(),
        };
        assert_eq!(class(http(429)), ErrorClass::Http429);
        assert_eq!(class(http(503)), ErrorClass::Http5xx);
        assert_eq!(class(http(401)), ErrorClass::Http4xx);
        assert_eq!(from_llm(http(401)).status, Some(401));
        assert_eq!(
            class(Error::InvalidOutput {
                reason: "cut".into(),
                text: "{".into(),
                usage: Default::default(),
            }),
            ErrorClass::LlmInvalidOutput
        );
    }

    #[test]
    fn refusals_are_never_retried() {
        assert!(budget_spent(10, 12).permanent);
        assert!(secret_in_prompt("prompt").permanent);
        assert!(budget_spent(10, 12).message.contains("10 tokens"));
    }
}
