//! Checking an execution's inputs against the workflow's `inputs` schema.
//!
//! Defaults written in the schema (`default:` of a property, at any depth of nested
//! objects and array items) are filled in for missing properties first; then the whole value is
//! validated and every violation is reported with its JSON path and the schema keyword
//! that failed. Nothing is created for inputs that do not validate.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::json_errors::constraint_message;
use crate::plan::{InputSchema, Plan};

/// One way the inputs break the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputViolation {
    /// JSON pointer to the offending value (`/cities/0`; empty for the whole inputs).
    pub path: String,
    /// The schema keyword that failed (`type`, `required`, `minimum`, ...).
    pub keyword: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for InputViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "inputs"
        } else {
            &self.path
        };
        write!(f, "{path}: {} ({})", self.message, self.keyword)
    }
}

impl Plan {
    /// The inputs with defaults applied, or every violation. `null` counts as `{}`.
    pub fn prepare_inputs(&self, inputs: Value) -> Result<Value, Vec<InputViolation>> {
        let mut inputs = if inputs.is_null() {
            Value::Object(Map::new())
        } else {
            inputs
        };
        // What an execution holds must be storable and readable back: bounded nesting.
        if harmonia_expr::json_deeper_than(&inputs, harmonia_expr::MAX_DEPTH) {
            return Err(vec![InputViolation {
                path: String::new(),
                keyword: "nesting".into(),
                message: format!(
                    "inputs are nested more than {} levels deep",
                    harmonia_expr::MAX_DEPTH
                ),
            }]);
        }
        match &self.inputs {
            None => {
                if inputs.is_object() {
                    Ok(inputs)
                } else {
                    Err(vec![InputViolation {
                        path: String::new(),
                        keyword: "type".into(),
                        message: "inputs must be an object of names to values".into(),
                    }])
                }
            }
            Some(schema) => {
                apply_defaults(&schema.schema, &mut inputs);
                check(schema, &inputs)?;
                Ok(inputs)
            }
        }
    }
}

/// A problem with a schema itself: where in it (JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaProblem {
    /// JSON pointer inside the schema (empty for the schema itself).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl InputSchema {
    /// Compiles a schema of named values that someone submits (an approval's `form`):
    /// an object schema, checked against the JSON Schema meta-schema first so that
    /// every problem in it is reported.
    pub fn compile(schema: &Value) -> Result<InputSchema, Vec<SchemaProblem>> {
        let mut problems: Vec<SchemaProblem> = match jsonschema::meta::validator_for(schema) {
            Ok(meta) => meta
                .iter_errors(schema)
                .map(|e| SchemaProblem {
                    pointer: e.instance_path().as_str().to_string(),
                    message: crate::validate::schema_message(&e),
                })
                .collect(),
            Err(e) => vec![SchemaProblem {
                pointer: String::new(),
                message: format!("invalid JSON Schema: {e}"),
            }],
        };
        if let Some(t) = schema.get("type")
            && t != "object"
        {
            problems.push(SchemaProblem {
                pointer: "/type".into(),
                message: format!(
                    "a mapping of names to values is expected: `type` must be `object`, found {}",
                    harmonia_expr::clip(&t.to_string())
                ),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .map(|v| InputSchema {
                schema: schema.clone(),
                validator: std::sync::Arc::new(v),
            })
            .map_err(|e| {
                vec![SchemaProblem {
                    pointer: String::new(),
                    message: format!("invalid JSON Schema: {e}"),
                }]
            })
    }

    /// `value` (`null` counts as `{}`) with the schema's defaults filled in, or every
    /// way it breaks the schema, each naming the `noun` it checks (`field`).
    pub fn check(&self, value: Value, noun: &str) -> Result<Value, Vec<InputViolation>> {
        let mut value = if value.is_null() {
            Value::Object(Map::new())
        } else {
            value
        };
        if harmonia_expr::json_deeper_than(&value, harmonia_expr::MAX_DEPTH) {
            return Err(vec![InputViolation {
                path: String::new(),
                keyword: "nesting".into(),
                message: format!("nested more than {} levels deep", harmonia_expr::MAX_DEPTH),
            }]);
        }
        apply_defaults(&self.schema, &mut value);
        let found: Vec<InputViolation> = violations(&self.validator, &value, noun)
            .into_iter()
            .map(|(path, keyword, message)| InputViolation {
                path,
                keyword,
                message,
            })
            .collect();
        if found.is_empty() {
            Ok(value)
        } else {
            Err(found)
        }
    }
}

fn check(schema: &InputSchema, inputs: &Value) -> Result<(), Vec<InputViolation>> {
    let violations: Vec<InputViolation> = violations(&schema.validator, inputs, "input")
        .into_iter()
        .map(|(path, keyword, message)| InputViolation {
            path,
            keyword,
            message,
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// Every way `value` breaks the schema of `validator`, as (JSON pointer, keyword,
/// message); `noun` names what the properties are ("input", "parameter").
pub(crate) fn violations(
    validator: &jsonschema::Validator,
    value: &Value,
    noun: &str,
) -> Vec<(String, String, String)> {
    validator
        .iter_errors(value)
        .map(|e| {
            let keyword = e
                .schema_path()
                .as_str()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let message = match e.kind() {
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    format!(
                        "missing required {noun} `{}`",
                        property.as_str().unwrap_or_default()
                    )
                }
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    format!(
                        "unexpected {noun}{} `{}`",
                        if unexpected.len() == 1 { "" } else { "s" },
                        unexpected
                            .iter()
                            .map(|u| harmonia_expr::clip(u))
                            .collect::<Vec<_>>()
                            .join("`, `")
                    )
                }
                _ => constraint_message(&e),
            };
            (e.instance_path().as_str().to_string(), keyword, message)
        })
        .collect()
}

/// Fills in `default` values of missing properties, at any depth: into objects (by
/// `properties`) and into the items of arrays (by `items`). A property whose default
/// was filled in gets its own nested defaults too.
pub(crate) fn apply_defaults(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(obj) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (name, prop) in props {
                if !obj.contains_key(name)
                    && let Some(default) = prop.get("default")
                {
                    obj.insert(name.clone(), default.clone());
                }
                if let Some(child) = obj.get_mut(name) {
                    apply_defaults(prop, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for item in items {
                    apply_defaults(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{Format, Source, load};

    fn plan(inputs: &str) -> crate::Plan {
        let text = format!("name: w\ninputs: {inputs}\ntasks:\n  a: {{type: set}}\n");
        load(
            &Source::new("w.yaml", text, Format::Yaml),
            &crate::task_types::test_types(),
        )
        .expect("valid")
        .plan
    }

    #[test]
    fn inputs_nested_too_deeply_are_refused() {
        let p = plan("{type: object}");
        let mut deep = json!(1);
        for _ in 0..harmonia_expr::MAX_DEPTH {
            deep = json!([deep]);
        }
        assert!(p.prepare_inputs(json!({"ok": deep.clone()})).is_err());
        assert!(p.prepare_inputs(deep).is_err());
        let fine = json!({"a": [[[1]]]});
        assert_eq!(p.prepare_inputs(fine.clone()).ok(), Some(fine));
    }

    #[test]
    fn defaults_fill_missing_inputs_at_any_depth() {
        let p = plan(
            "{type: object, properties: {n: {type: integer, default: 3}, o: {type: object, default: {}, properties: {k: {type: string, default: v}}}}}",
        );
        assert_eq!(
            p.prepare_inputs(json!({})).ok(),
            Some(json!({"n": 3, "o": {"k": "v"}}))
        );
        assert_eq!(
            p.prepare_inputs(json!(null)).ok(),
            Some(json!({"n": 3, "o": {"k": "v"}}))
        );
        assert_eq!(
            p.prepare_inputs(json!({"n": 5})).ok(),
            Some(json!({"n": 5, "o": {"k": "v"}}))
        );
    }

    #[test]
    fn defaults_fill_array_items_too() {
        let p = plan(
            "{type: object, properties: {xs: {type: array, items: {type: object, properties: {k: {type: integer, default: 1}}}}}}",
        );
        assert_eq!(
            p.prepare_inputs(json!({"xs": [{}, {"k": 2}]})).ok(),
            Some(json!({"xs": [{"k": 1}, {"k": 2}]}))
        );
    }

    #[test]
    fn every_violation_is_named_with_path_and_keyword() {
        let p = plan(
            "{type: object, required: [cities, limit], additionalProperties: false, properties: {cities: {type: array, items: {type: string}, minItems: 1}, limit: {type: integer, minimum: 1}}}",
        );
        let v = p
            .prepare_inputs(json!({"cities": ["Oslo", 3], "limit": 0, "extra": true}))
            .expect_err("invalid");
        let got: Vec<(String, String)> = v
            .iter()
            .map(|v| (v.path.clone(), v.keyword.clone()))
            .collect();
        assert!(
            got.contains(&("/cities/1".into(), "type".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&("/limit".into(), "minimum".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&("".into(), "additionalProperties".into())),
            "{got:?}"
        );
        let missing = p.prepare_inputs(json!({})).expect_err("missing");
        assert_eq!(missing.len(), 2);
        assert_eq!(
            missing[0].to_string(),
            "inputs: missing required input `cities` (required)"
        );
    }

    #[test]
    fn without_a_schema_inputs_must_be_an_object() {
        let text = "name: w\ntasks:\n  a: {type: set}\n";
        let p = load(
            &Source::new("w.yaml", text, Format::Yaml),
            &crate::task_types::test_types(),
        )
        .expect("valid")
        .plan;
        assert!(p.prepare_inputs(json!({"x": 1})).is_ok());
        assert!(p.prepare_inputs(json!([1])).is_err());
    }
}
