//! What the `http` kind says about itself: the schema of its parameters, the checks a
//! schema cannot express, and the shape of its output.

use harmonia_model::ParamProblem;
use serde_json::{Value, json};

use crate::kinds::kind::Description;

pub(super) fn describe() -> Description {
    Description {
        summary: "Makes an HTTP request; the output is `{status, headers, body}` (body parsed when JSON).",
        params: json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["url"],
            "properties": {
                "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], "default": "GET"},
                "url": {"type": "string", "minLength": 1, "description": "An http:// or https:// URL."},
                "headers": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                "query": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "array"]}},
                "json": {"description": "A JSON body (sets Content-Type: application/json)."},
                "body": {"type": "string", "description": "A raw text body."},
                "auth": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "basic": {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["username"],
                            "properties": {"username": {"type": "string"}, "password": {"type": "string"}}
                        },
                        "bearer": {"type": "string", "minLength": 1}
                    },
                    "minProperties": 1,
                    "maxProperties": 1
                },
                "expect_status": {
                    "type": "array", "items": {"type": "integer", "minimum": 100, "maximum": 599},
                    "description": "Statuses that count as success (default: any 2xx or 3xx)."
                }
            }
        }),
        output: json!({
            "type": "object",
            "properties": {
                "status": {"type": "integer", "description": "The response's status."},
                "headers": {"type": "object", "description": "Header names in lower case; repeated headers joined with `, `."},
                "body": {"description": "The parsed JSON when the response is JSON, else the text; `null` when empty."}
            }
        }),
        check: Some(check),
        deferred: Vec::new(),
    }
}

/// `json` and `body` exclude each other; a literal URL must be http(s).
fn check(with: &Value) -> Vec<ParamProblem> {
    let mut out = Vec::new();
    if with.get("json").is_some() && with.get("body").is_some() {
        out.push(ParamProblem {
            pointer: String::new(),
            message: "set either `json` or `body`, not both".into(),
            span: None,
        });
    }
    if let Some(url) = with.get("url").and_then(Value::as_str)
        && !harmonia_expr::Template::has_expressions(url)
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        out.push(ParamProblem {
            pointer: "/url".into(),
            message: format!(
                "expected an http:// or https:// URL, found `{}`",
                harmonia_expr::clip(url)
            ),
            span: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_beyond_the_schema() {
        assert_eq!(check(&json!({"url": "ftp://x"})).len(), 1);
        assert!(check(&json!({"url": "${ $inputs.url }"})).is_empty());
        assert_eq!(
            check(&json!({"url": "http://x", "json": 1, "body": "b"})).len(),
            1
        );
    }
}
