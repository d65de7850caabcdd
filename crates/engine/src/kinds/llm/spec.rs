//! What the `llm` kind takes and gives: the schema of `with:`, the check a schema
//! cannot express, and the parameters read again, typed, when an attempt runs.
//!
//! Invariants: a literal `schema` must compile as a JSON Schema (validation refuses it
//! otherwise, at `with.schema`); no expression anywhere in `with:` may read `$secrets`
//! (refused at validation, at the string that does): what an `llm` task is given goes
//! to a model, and no secret may reach one. Messages about a wrong value name its type,
//! never its content.

use harmonia_expr::{Template, Var, VarSet};
use harmonia_model::ParamProblem;
use serde_json::{Value, json};

use super::super::kind::Description;
use super::super::params::{describe as kind_of, invalid};
use crate::event::TaskError;

/// The largest `max_tokens` a task may ask for.
pub(super) const MAX_TOKENS: u64 = 100_000;

/// The kind's description.
pub(super) fn describe() -> Description {
    Description {
        summary: "Asks a language model: a text answer, or JSON that follows `schema`.",
        params: json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["prompt"],
            "properties": {
                "prompt": {"type": "string", "minLength": 1, "description": "What is asked (the user message)."},
                "system": {"type": "string", "description": "Instructions to the model (the system message)."},
                "model": {"type": "string", "minLength": 1, "description": "A model to use instead of the configured one."},
                "schema": {"type": "object", "description": "A JSON Schema the answer must follow; the output is then the parsed answer."},
                "max_tokens": {"type": "integer", "minimum": 1, "maximum": MAX_TOKENS, "description": "The most tokens the answer may take."},
                "temperature": {"type": "number", "minimum": 0, "maximum": 2, "description": "Sampling temperature."},
                "cache": {"type": "boolean", "default": true, "description": "Whether an identical earlier request's answer may be reused."}
            }
        }),
        output: json!({
            "description": "With `schema`: the parsed answer, valid under it. Without: `{text}`.",
            "oneOf": [
                {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "description": "The model's answer."}}},
                {"description": "The answer under `schema`."}
            ]
        }),
        check: Some(check),
        deferred: Vec::new(),
    }
}

/// A literal `schema` must be a valid JSON Schema; nothing may read `$secrets`.
fn check(with: &Value) -> Vec<ParamProblem> {
    let mut out = Vec::new();
    secret_reads(with, String::new(), &mut out);
    if let Some(schema) = with.get("schema").filter(|s| s.is_object())
        && !has_expressions(schema)
        && let Err(message) = compile(schema)
    {
        out.push(ParamProblem {
            pointer: "/schema".into(),
            message,
            span: None,
        });
    }
    out
}

/// A problem for every string under `v` (at `pointer`) whose expressions read
/// `$secrets`.
fn secret_reads(v: &Value, pointer: String, out: &mut Vec<ParamProblem>) {
    match v {
        Value::String(s) if Template::has_expressions(s) => {
            let reads = Template::compile(s, VarSet::ALL)
                .is_ok_and(|t| t.programs().any(|p| p.reads(Var::Secrets)));
            if reads {
                out.push(ParamProblem {
                    pointer,
                    message: "an `llm` task may not read `$secrets`: secrets never reach a model"
                        .into(),
                    span: None,
                });
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                secret_reads(item, format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                secret_reads(item, format!("{pointer}/{key}"), out);
            }
        }
        _ => {}
    }
}

/// Whether any string under `v` holds an expression (then it is known at run time).
fn has_expressions(v: &Value) -> bool {
    match v {
        Value::String(s) => Template::has_expressions(s),
        Value::Array(items) => items.iter().any(has_expressions),
        Value::Object(map) => map.values().any(has_expressions),
        _ => false,
    }
}

/// `schema` compiled, or why it is not a valid JSON Schema.
pub(super) fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .build(schema)
        .map_err(|e| format!("not a valid JSON Schema: {e}"))
}

/// The parameters of one attempt, read from the evaluated `with:`.
#[derive(Debug, Clone)]
pub(super) struct Params {
    pub(super) prompt: String,
    pub(super) system: Option<String>,
    pub(super) model: Option<String>,
    pub(super) schema: Option<Value>,
    pub(super) max_tokens: Option<u32>,
    pub(super) temperature: Option<f32>,
    pub(super) cache: bool,
}

impl Params {
    /// The parameters, their types checked again (they may have been computed).
    pub(super) fn parse(p: &Value) -> Result<Params, TaskError> {
        let text = |key: &str, required: bool| -> Result<Option<String>, TaskError> {
            match p.get(key) {
                None | Some(Value::Null) if !required => Ok(None),
                Some(Value::String(s)) if !s.is_empty() || key == "system" => Ok(Some(s.clone())),
                Some(other) => Err(invalid(format!(
                    "`{key}` must be a non-empty text, not {}",
                    kind_of(other)
                ))),
                None => Err(invalid(format!("`{key}` is required"))),
            }
        };
        let prompt = text("prompt", true)?.unwrap_or_default();
        let schema = match p.get("schema") {
            None | Some(Value::Null) => None,
            Some(s @ Value::Object(_)) => Some(s.clone()),
            Some(other) => {
                return Err(invalid(format!(
                    "`schema` must be a JSON Schema (an object), not {}",
                    kind_of(other)
                )));
            }
        };
        let max_tokens = match p.get("max_tokens") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64().filter(|n| (1..=MAX_TOKENS).contains(n)) {
                Some(n) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
                None => {
                    return Err(invalid(format!(
                        "`max_tokens` must be an integer from 1 to {MAX_TOKENS}"
                    )));
                }
            },
        };
        let temperature = match p.get("temperature") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64().filter(|t| (0.0..=2.0).contains(t)) {
                #[allow(clippy::cast_possible_truncation)]
                Some(t) => Some(t as f32),
                None => return Err(invalid("`temperature` must be a number from 0 to 2")),
            },
        };
        let cache = match p.get("cache") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(invalid(format!(
                    "`cache` must be true or false, not {}",
                    kind_of(other)
                )));
            }
        };
        Ok(Params {
            prompt,
            system: text("system", false)?,
            model: text("model", false)?,
            schema,
            max_tokens,
            temperature,
            cache,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_schema_must_compile() {
        assert!(check(&json!({"prompt": "hi", "schema": {"type": "object"}})).is_empty());
        let p = check(&json!({"prompt": "hi", "schema": {"type": "objekt"}}));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].pointer, "/schema");
        // Computed parts are only known at run time.
        assert!(check(&json!({"prompt": "hi", "schema": {"type": "${ $inputs.t }"}})).is_empty());
    }

    #[test]
    fn nothing_may_read_secrets() {
        let p = check(&json!({
            "prompt": "Summarize ${ $secrets.KEY }",
            "schema": {"description": "${ $secrets.KEY }"},
            "system": "${ $inputs.x }"
        }));
        let pointers: Vec<&str> = p.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(pointers, ["/prompt", "/schema/description"]);
        assert_eq!(check(&json!("${ {prompt: $secrets.KEY} }")).len(), 1);
    }

    #[test]
    fn parameters_are_checked_again_at_run_time() {
        let ok = Params::parse(&json!({"prompt": "hi", "max_tokens": 10, "temperature": 0.5}))
            .expect("valid");
        assert_eq!((ok.max_tokens, ok.cache), (Some(10), true));
        for bad in [
            json!({"prompt": ""}),
            json!({"prompt": 3}),
            json!({"prompt": "hi", "max_tokens": "10"}),
            json!({"prompt": "hi", "max_tokens": 0}),
            json!({"prompt": "hi", "temperature": 3}),
            json!({"prompt": "hi", "schema": []}),
            json!({"prompt": "hi", "cache": "no"}),
        ] {
            assert!(Params::parse(&bad).is_err(), "{bad}");
        }
    }
}
