//! CloudEvents 1.0, structured JSON mode: checking an event as it arrives.
//!
//! Required: `specversion` (`1.0`), `id`, `source`, `type` (non-empty strings).
//! Optional, checked when present: `time` (the shape of an RFC 3339 time,
//! [`TIME_PATTERN`]: the same pattern the API description states), `subject`, `datacontenttype`,
//! `dataschema`, `data_base64` (strings, or null for absent); `data` is any JSON.
//! Extension attributes are kept as they are. Every problem is reported at once, each
//! naming its attribute.
//!
//! Invariant: an event that passes has the four required attributes as non-empty
//! strings; nothing else about it is assumed (its `data` is any JSON).

use serde::Serialize;
use serde_json::{Map, Value};

/// A CloudEvent that passed the checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    /// `id`: unique within its `source`.
    pub id: String,
    /// `source`: who sent it.
    pub source: String,
    /// `type`: what happened (`payment.settled`).
    pub ty: String,
    /// The whole event, as received.
    pub raw: Value,
}

/// One problem with an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The attribute (`id`), or empty for the event itself.
    pub attribute: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.attribute.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.attribute, self.message)
        }
    }
}

/// What a `time` looks like: an RFC 3339 date and time with its offset. The time is
/// kept as it is and not interpreted, so its shape is all that is checked.
pub const TIME_PATTERN: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";

fn time_shape() -> &'static regex::Regex {
    static SHAPE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    SHAPE.get_or_init(|| match regex::Regex::new(TIME_PATTERN) {
        Ok(r) => r,
        // A constant, compiled by a test: this cannot fail.
        Err(e) => unreachable!("TIME_PATTERN: {e}"),
    })
}

/// The longest `id`, `source` or `type` kept, in characters.
pub const MAX_ATTRIBUTE_CHARS: usize = 256;

const STRINGS: [&str; 5] = [
    "subject",
    "datacontenttype",
    "dataschema",
    "data_base64",
    "time",
];

/// Checks `value` as a CloudEvent; every problem, or the event.
pub fn check(value: Value) -> Result<CloudEvent, Vec<Problem>> {
    let Value::Object(map) = &value else {
        return Err(vec![Problem {
            attribute: String::new(),
            message: format!(
                "a CloudEvent is a JSON object, found {}",
                harmonia_expr::kind_of(&value)
            ),
        }]);
    };
    let mut problems = Vec::new();
    let mut problem = |attribute: &str, message: String| {
        problems.push(Problem {
            attribute: attribute.into(),
            message,
        })
    };
    match map.get("specversion") {
        Some(Value::String(v)) if v == "1.0" => {}
        Some(Value::String(v)) => problem(
            "specversion",
            format!("expected `1.0`, found `{}`", harmonia_expr::clip(v)),
        ),
        Some(other) => problem(
            "specversion",
            format!(
                "expected the text `1.0`, found {}",
                harmonia_expr::kind_of(other)
            ),
        ),
        None => problem("specversion", "missing: set it to `1.0`".into()),
    }
    let mut required = |name: &str, map: &Map<String, Value>| -> Option<String> {
        match map.get(name) {
            Some(Value::String(s)) if s.is_empty() => {
                problem(name, "must not be empty".into());
                None
            }
            Some(Value::String(s)) if s.chars().count() > MAX_ATTRIBUTE_CHARS => {
                problem(
                    name,
                    format!("longer than {MAX_ATTRIBUTE_CHARS} characters"),
                );
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                problem(
                    name,
                    format!("expected a text, found {}", harmonia_expr::kind_of(other)),
                );
                None
            }
            None => {
                problem(name, "missing (required by CloudEvents 1.0)".into());
                None
            }
        }
    };
    let id = required("id", map);
    let source = required("source", map);
    let ty = required("type", map);
    for name in STRINGS {
        match map.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                if name == "time" && !time_shape().is_match(s) {
                    problem(
                        "time",
                        format!(
                            "expected an RFC 3339 time such as `2026-11-30T10:00:00Z`, found `{}`",
                            harmonia_expr::clip(s)
                        ),
                    );
                }
            }
            Some(other) => problem(
                name,
                format!("expected a text, found {}", harmonia_expr::kind_of(other)),
            ),
        }
    }
    match (id, source, ty) {
        (Some(id), Some(source), Some(ty)) if problems.is_empty() => Ok(CloudEvent {
            id,
            source,
            ty,
            raw: value,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_valid_event_passes_with_its_extensions() {
        let e = check(json!({"specversion": "1.0", "id": "1", "source": "shop", "type": "paid",
                             "time": "2026-11-30T10:00:00Z", "data": {"order": 7}, "tenant": "acme"}))
        .expect("valid");
        assert_eq!(
            (e.id.as_str(), e.source.as_str(), e.ty.as_str()),
            ("1", "shop", "paid")
        );
        assert_eq!(e.raw["tenant"], "acme");
    }

    #[test]
    fn every_problem_is_reported_with_its_attribute() {
        let p = check(
            json!({"specversion": "0.3", "id": "", "type": 5, "time": "yesterday",
                             "data": 1, "data_base64": 5}),
        )
        .expect_err("invalid");
        let attrs: Vec<&str> = p.iter().map(|p| p.attribute.as_str()).collect();
        assert_eq!(
            attrs,
            ["specversion", "id", "source", "type", "data_base64", "time"]
        );
        assert!(check(json!([1])).is_err());
    }

    #[test]
    fn a_time_has_the_shape_of_rfc_3339() {
        for ok in [
            "2026-11-30T10:00:00Z",
            "2026-11-30t10:00:00.123+01:00",
            "1999-12-31T23:59:60z",
        ] {
            assert!(time_shape().is_match(ok), "{ok}");
        }
        for bad in [
            "",
            "yesterday",
            "2026-11-30",
            "2026-13-01T00:00:00Z",
            "2026-11-30T10:00:00",
        ] {
            assert!(!time_shape().is_match(bad), "{bad}");
        }
    }
}
