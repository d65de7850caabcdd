//! Failures as [`TaskError`]s, by class: a failure below HTTP ([`transport_error`]) and a
//! status that does not count as success ([`status_error`]), with `Retry-After`.
//!
//! Invariants: a connection that cannot be made or breaks (refused, DNS, reset, TLS,
//! more than `MAX_REDIRECTS` redirects) is `connection`; a timeout of the client is
//! `timeout`; a request the client cannot build is `validation`; a status outside
//! `expect_status` is `http_429`, `http_4xx` or `http_5xx`, with `status` and `details:
//! {status, headers, body}` (body: at most [`EXCERPT_BYTES`], `truncated: true` when
//! cut), and a 1xx, 2xx or 3xx that `expect_status` does not list is `validation`; the
//! message quotes at most `MESSAGE_EXCERPT_CHARS` characters of the body, its whitespace
//! collapsed; causes are shown without the URL (the caller names the URL, without
//! credentials); `Retry-After` is read as seconds or an HTTP date.

use std::time::{Duration, SystemTime};

use harmonia_model::ErrorClass;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use super::MAX_REDIRECTS;
use super::request::Request;
use super::response::decode_body;
use crate::event::TaskError;

/// The most of an error response's body kept in the error's details.
pub(super) const EXCERPT_BYTES: usize = 4096;
/// The most of an error response's body quoted in the error's message, in characters.
const MESSAGE_EXCERPT_CHARS: usize = 200;

/// The innermost cause of an error, which names the real problem
/// (`Connection refused (os error 111)`), rather than the layers above it.
pub(super) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A failure below HTTP: classified, with the URL-free cause.
pub(crate) fn transport_error(what: &str, e: reqwest::Error) -> TaskError {
    let e = e.without_url();
    let cause = root_cause(&e);
    if e.is_timeout() {
        TaskError::new(ErrorClass::Timeout, format!("{what}: timed out: {cause}"))
    } else if e.is_redirect() {
        TaskError::new(
            ErrorClass::Connection,
            format!("{what}: gave up after {MAX_REDIRECTS} redirects"),
        )
    } else if e.is_builder() {
        TaskError::new(
            ErrorClass::Validation,
            format!("{what}: invalid request: {cause}"),
        )
    } else if e.is_connect() {
        TaskError::new(
            ErrorClass::Connection,
            format!("{what}: could not connect: {cause}"),
        )
    } else {
        TaskError::new(
            ErrorClass::Connection,
            format!("{what}: the connection failed: {cause}"),
        )
    }
}

/// The error for a status that does not count as success.
#[allow(clippy::too_many_arguments)]
pub(super) fn status_error(
    what: &str,
    req: &Request,
    status: StatusCode,
    headers: Value,
    content_type: Option<&str>,
    bytes: &[u8],
    truncated: bool,
    retry_after_ms: Option<u64>,
) -> TaskError {
    let code = status.as_u16();
    let class = match code {
        429 => ErrorClass::Http429,
        400..=499 => ErrorClass::Http4xx,
        500..=599 => ErrorClass::Http5xx,
        _ => ErrorClass::Validation,
    };
    let text = String::from_utf8_lossy(bytes);
    let excerpt: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MESSAGE_EXCERPT_CHARS)
        .collect();
    let mut message = format!(
        "{what} answered {code}{}",
        status
            .canonical_reason()
            .map(|r| format!(" {r}"))
            .unwrap_or_default()
    );
    if let Some(list) = &req.expect_status {
        let list: Vec<String> = list.iter().map(ToString::to_string).collect();
        message.push_str(&format!(" (expected {})", list.join(", ")));
    }
    if !excerpt.is_empty() {
        message.push_str(": ");
        message.push_str(&excerpt);
        if text.chars().count() > MESSAGE_EXCERPT_CHARS || truncated {
            message.push('…');
        }
    }
    let mut details = Map::new();
    details.insert("status".into(), json!(code));
    details.insert("headers".into(), headers);
    let body = if truncated {
        Value::String(text_prefix(bytes))
    } else {
        decode_body(content_type, bytes)
    };
    details.insert("body".into(), body);
    if truncated {
        details.insert("truncated".into(), Value::Bool(true));
    }
    let mut e = TaskError::new(class, message)
        .with_status(code)
        .with_details(Value::Object(details));
    e.retry_after_ms = retry_after_ms;
    e
}

/// The text of a cut body, without a character cut in half at its end.
fn text_prefix(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(e) if e.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// `Retry-After` in milliseconds: delay-seconds, or an HTTP date (0 when past).
pub(crate) fn retry_after_ms(value: &str, now: SystemTime) -> Option<u64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let date = httpdate::parse_http_date(v).ok()?;
    let wait = date.duration_since(now).unwrap_or(Duration::ZERO);
    Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
}
