//! CloudEvents 1.0 in binary mode (the HTTP binding): the attributes come as `ce-*`
//! headers and the body is the event's data. [`to_structured`] turns such a request
//! into the structured JSON form that [`super::cloudevent::check`] checks and the inbox
//! keeps, so that both modes are one event afterwards.
//!
//! - Each `ce-<name>` header is the attribute `<name>` (header names are lower case);
//!   its value is percent-decoded, as the binding says. A header that is not UTF-8
//!   after decoding is a problem named by its attribute.
//! - `Content-Type` is `datacontenttype`. The body is `data`: parsed as JSON when the
//!   content type is JSON (`application/json`, `text/json`, `...+json`, or none), kept
//!   as text for other UTF-8 bodies, and as `data_base64` otherwise. An empty body has
//!   no data.
//!
//! Invariant: nothing here decides whether the event is valid beyond reading it:
//! the checks are `cloudevent::check`'s, the same for both modes.

use base64::Engine as _;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::cloudevent::Problem;

/// The header that marks a binary-mode request.
pub const SPECVERSION_HEADER: &str = "ce-specversion";

/// Whether a request with these header names is in binary mode.
pub fn is_binary<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
    names.any(|n| n.eq_ignore_ascii_case(SPECVERSION_HEADER))
}

/// The structured form of a binary-mode event: `headers` are the request's (name,
/// value) pairs, `content_type` its `Content-Type`, `body` its bytes. Every problem,
/// or the event as JSON.
pub fn to_structured<'a>(
    headers: impl Iterator<Item = (&'a str, &'a [u8])>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Value, Vec<Problem>> {
    let mut event = Map::new();
    let mut problems = Vec::new();
    for (name, value) in headers {
        let Some(attribute) = name
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("ce-"))
            .map(|_| name[3..].to_ascii_lowercase())
        else {
            continue;
        };
        if attribute.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(value)
            .ok()
            .and_then(|v| percent_decode_str(v).decode_utf8().ok());
        match text {
            Some(text) => {
                event.insert(attribute, Value::String(text.into_owned()));
            }
            None => problems.push(Problem {
                attribute,
                message: format!("the header `{name}` is not UTF-8 text once percent-decoded"),
            }),
        }
    }
    if let Some(ct) = content_type {
        event.insert("datacontenttype".into(), Value::String(ct.to_string()));
    }
    if !body.is_empty() {
        if is_json(content_type) {
            match serde_json::from_slice::<Value>(body) {
                Ok(data) => {
                    event.insert("data".into(), data);
                }
                Err(e) => problems.push(Problem {
                    attribute: "data".into(),
                    message: format!("the body is not the JSON its content type says: {e}"),
                }),
            }
        } else {
            match std::str::from_utf8(body) {
                Ok(text) => {
                    event.insert("data".into(), Value::String(text.to_string()));
                }
                Err(_) => {
                    let encoded = base64::engine::general_purpose::STANDARD.encode(body);
                    event.insert("data_base64".into(), Value::String(encoded));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(Value::Object(event))
    } else {
        Err(problems)
    }
}

/// Whether a content type is JSON (no content type counts as JSON, as in CloudEvents).
fn is_json(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return true;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || mime == "text/json" || mime.ends_with("+json")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static [u8])> {
        pairs.iter().map(|(n, v)| (*n, v.as_bytes())).collect()
    }

    #[test]
    fn attributes_come_from_ce_headers_and_json_data_is_parsed() {
        let h = headers(&[
            ("ce-specversion", "1.0"),
            ("ce-id", "42"),
            ("ce-source", "shop"),
            ("ce-type", "order.paid"),
            ("ce-tenant", "acme%20corp"),
            ("authorization", "Bearer x"),
        ]);
        let v = to_structured(h.into_iter(), Some("application/json"), br#"{"total": 7}"#)
            .expect("reads");
        assert_eq!(
            v,
            json!({"specversion": "1.0", "id": "42", "source": "shop", "type": "order.paid",
                   "tenant": "acme corp", "datacontenttype": "application/json",
                   "data": {"total": 7}})
        );
        assert!(super::super::cloudevent::check(v).is_ok());
    }

    #[test]
    fn text_stays_text_and_bytes_become_base64() {
        let h = || headers(&[("ce-id", "1")]);
        let text = to_structured(h().into_iter(), Some("text/plain"), b"hello").expect("reads");
        assert_eq!(text["data"], "hello");
        let bytes = to_structured(
            h().into_iter(),
            Some("application/octet-stream"),
            &[0xff, 0x00],
        )
        .expect("reads");
        assert_eq!(bytes["data_base64"], "/wA=");
        assert!(bytes.get("data").is_none());
        let empty = to_structured(h().into_iter(), None, b"").expect("reads");
        assert!(empty.get("data").is_none());
    }

    #[test]
    fn a_body_that_is_not_the_json_it_claims_is_a_problem_of_data() {
        let problems = to_structured(
            headers(&[("ce-id", "1")]).into_iter(),
            Some("application/cloudevents-batch+json"),
            b"{nope",
        )
        .expect_err("invalid");
        assert_eq!(problems[0].attribute, "data");
        assert!(is_binary(["Content-Type", "CE-SpecVersion"].into_iter()));
        assert!(!is_binary(["content-type"].into_iter()));
    }
}
