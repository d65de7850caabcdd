//! The schema contract, applied once for every provider: what a provider read from
//! its wire format ([`Answer`]) becomes a [`ChatResponse`] or an
//! [`Error::InvalidOutput`].
//!
//! Invariants: under a schema, an answer cut at `max_tokens` or withheld by a content
//! filter is refused before any parsing (a truncated answer may still parse, and
//! would be wrong); otherwise the answer must be JSON. The answer is not validated
//! against the schema here: that is the caller's (`harmonia-model`'s) job.

use crate::error::{Error, Result};
use crate::types::{ChatRequest, ChatResponse, FinishReason, Usage};

/// An answer as a provider read it from the wire.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The answer's text.
    pub(crate) text: String,
    /// The structured answer, when the wire format carries one apart from the text
    /// (Anthropic's `tool_use`); otherwise the text is parsed.
    pub(crate) json: Option<serde_json::Value>,
    /// Why the model stopped.
    pub(crate) finish_reason: FinishReason,
    /// Tokens spent.
    pub(crate) usage: Usage,
    /// The model that answered.
    pub(crate) model: String,
}

/// The response for `answer` to `req`, under `req`'s schema if it has one.
pub(crate) fn finish(req: &ChatRequest, answer: Answer) -> Result<ChatResponse> {
    let Answer {
        text,
        json,
        finish_reason,
        usage,
        model,
    } = answer;
    let json = if req.schema.is_some() {
        match finish_reason {
            FinishReason::Length => {
                return Err(Error::InvalidOutput {
                    reason: "the answer was cut at max_tokens".into(),
                    text,
                    usage,
                });
            }
            FinishReason::ContentFilter => {
                return Err(Error::InvalidOutput {
                    reason: "the answer was withheld by the provider's content filter".into(),
                    text,
                    usage,
                });
            }
            FinishReason::Stop | FinishReason::Other(_) => {}
        }
        match json {
            Some(json) => Some(json),
            None => match serde_json::from_str(strip_fence(&text)) {
                Ok(json) => Some(json),
                Err(e) => {
                    return Err(Error::InvalidOutput {
                        reason: format!("the answer is not JSON: {e}"),
                        text,
                        usage,
                    });
                }
            },
        }
    } else {
        json
    };
    Ok(ChatResponse {
        text,
        json,
        finish_reason,
        usage,
        model,
    })
}

/// `text` without surrounding whitespace and without a Markdown code fence around it
/// (models that are only asked for JSON often add one).
fn strip_fence(text: &str) -> &str {
    let t = text.trim();
    let Some(inner) = t.strip_prefix("```").and_then(|t| t.strip_suffix("```")) else {
        return t;
    };
    // Drop the info string (```json).
    match inner.split_once('\n') {
        Some((info, body)) if !info.trim_start().starts_with(['{', '[']) => body.trim(),
        _ => inner.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(text: &str, finish_reason: FinishReason) -> Answer {
        Answer {
            text: text.into(),
            json: None,
            finish_reason,
            usage: Usage::default(),
            model: "m".into(),
        }
    }

    fn with_schema() -> ChatRequest {
        ChatRequest::default().with_schema("a", json!({"type": "object"}))
    }

    #[test]
    fn parses_under_a_schema() {
        let r = finish(&with_schema(), answer(r#"{"a": 1}"#, FinishReason::Stop));
        assert_eq!(r.map(|r| r.json), Ok(Some(json!({"a": 1}))));
    }

    #[test]
    fn strips_a_code_fence() {
        let r = finish(
            &with_schema(),
            answer("```json\n{\"a\": 1}\n```", FinishReason::Stop),
        );
        assert_eq!(r.map(|r| r.json), Ok(Some(json!({"a": 1}))));
    }

    #[test]
    fn a_truncated_answer_is_refused_even_if_it_parses() {
        let r = finish(&with_schema(), answer("{}", FinishReason::Length));
        assert!(
            matches!(r, Err(Error::InvalidOutput { ref reason, .. }) if reason.contains("max_tokens"))
        );
    }

    #[test]
    fn not_json_is_invalid_output_with_the_text() {
        let r = finish(&with_schema(), answer("sure! here", FinishReason::Stop));
        assert!(matches!(r, Err(Error::InvalidOutput { ref text, .. }) if text == "sure! here"));
    }

    #[test]
    fn without_a_schema_text_is_kept_as_is() {
        let r = finish(&ChatRequest::default(), answer("hi", FinishReason::Length));
        assert_eq!(r.map(|r| (r.text, r.json)), Ok(("hi".into(), None)));
    }
}
