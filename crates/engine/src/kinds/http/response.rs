//! Reading a response: its body up to a limit, its headers as JSON, and its body decoded
//! as output.
//!
//! Invariants: header names are lower-case and repeated headers are joined with `", "`;
//! the body is the parsed JSON when the `Content-Type` is JSON (`application/json`,
//! `text/json`, `*/*+json`) or absent, and the text parses as JSON; otherwise the text
//! (invalid UTF-8 replaced); an empty body is `null`; a body labelled as text is never
//! parsed. [`read_body`] keeps at most its limit and says when there was more (the
//! rest is not read); bodies larger than `PARSE_INLINE_BYTES` are parsed on a blocking
//! thread.

use reqwest::header::HeaderMap;
use serde_json::{Map, Value};

/// Bodies larger than this are parsed on a blocking thread.
const PARSE_INLINE_BYTES: usize = 256 * 1024;

/// Reads the body up to `limit` bytes; `true` when there was more (the rest is not read).
pub(crate) async fn read_body(
    resp: &mut reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit.saturating_sub(out.len());
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, true));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, false))
}

/// Lower-case names to values; repeated headers joined with `", "`.
pub(super) fn headers_json(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        out.insert(name.as_str().to_string(), Value::String(values.join(", ")));
    }
    Value::Object(out)
}

/// Whether a `Content-Type` says JSON.
pub(super) fn is_json_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// The body as output: JSON when labelled so (or unlabelled) and parseable, else text.
pub(super) fn decode_body(content_type: Option<&str>, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if content_type.is_none_or(is_json_type)
        && let Ok(v) = serde_json::from_slice(bytes)
    {
        return v;
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

/// [`decode_body`], on a blocking thread for large bodies.
pub(super) async fn decode_body_async(content_type: Option<String>, bytes: Vec<u8>) -> Value {
    if bytes.len() <= PARSE_INLINE_BYTES {
        return decode_body(content_type.as_deref(), &bytes);
    }
    tokio::task::spawn_blocking(move || decode_body(content_type.as_deref(), &bytes))
        .await
        .unwrap_or(Value::Null)
}
