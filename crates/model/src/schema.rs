//! The definition format's own JSON Schema, for editors and other tools.
//!
//! Generated from the Rust types of `definition` (so it cannot drift from them), then
//! refined with what the types cannot say: task names must be identifiers, and, for each
//! registered task type, the parameters its `with:` takes (an `if`/`then` per type, so
//! editors complete `url` under an `http` task). Parameter schemas are relaxed to also
//! accept a `${ }` expression wherever a value is expected, as validation does.
//!
//! `harmonia schema` prints it; `docs/workflow.schema.json` is a copy checked by a test.

use serde_json::{Map, Value, json};

use crate::definition::Workflow;
use crate::task_types::TaskTypes;

/// The `$id` of the schema.
pub const SCHEMA_ID: &str = "https://harmonia.dev/schemas/workflow.schema.json";

const EXPRESSION: &str = r"^\s*\$\{[\s\S]*\}\s*$";

/// The JSON Schema of a workflow definition that may use the task types in `types`.
pub fn workflow_schema(types: &TaskTypes) -> Value {
    let schema = schemars::schema_for!(Workflow);
    let mut root = schema.to_value();
    let Some(obj) = root.as_object_mut() else {
        return root;
    };
    let mut ordered = Map::new();
    ordered.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    ordered.insert("$id".into(), json!(SCHEMA_ID));
    for (k, v) in std::mem::take(obj) {
        if k != "$schema" {
            ordered.insert(k, v);
        }
    }
    *obj = ordered;

    if let Some(tasks) = root
        .pointer_mut("/properties/tasks")
        .and_then(Value::as_object_mut)
    {
        tasks.insert(
            "propertyNames".into(),
            json!({"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"}),
        );
    }
    if let Some(task) = root
        .pointer_mut("/$defs/Task")
        .and_then(Value::as_object_mut)
    {
        let names: Vec<&str> = types.names().collect();
        if let Some(kind) = task.get_mut("properties").and_then(|p| p.get_mut("type")) {
            kind["examples"] = json!(names);
        }
        let rules: Vec<Value> = types
            .iter()
            .map(|ty| {
                let mut params = relax(ty.schema().clone());
                if let Some(o) = params.as_object_mut() {
                    o.insert(
                        "description".into(),
                        json!(format!(
                            "Parameters of a `{}` task: {}",
                            ty.name(),
                            ty.description()
                        )),
                    );
                }
                json!({
                    "if": {"properties": {"type": {"const": ty.name()}}, "required": ["type"]},
                    "then": {"properties": {"with": params}}
                })
            })
            .collect();
        task.insert("allOf".into(), Value::Array(rules));
    }
    root
}

/// Makes every value position of a parameter schema also accept a `${ }` expression.
fn relax(schema: Value) -> Value {
    let Value::Object(mut o) = schema else {
        return schema;
    };
    if let Some(Value::Object(props)) = o.get_mut("properties") {
        for v in props.values_mut() {
            *v = relax(std::mem::take(v));
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(v) = o.get_mut(key)
            && v.is_object()
        {
            *v = relax(std::mem::take(v));
        }
    }
    let constrains_type =
        o.contains_key("type") || o.contains_key("enum") || o.contains_key("pattern");
    if constrains_type {
        let description = o.remove("description");
        let mut out = Map::new();
        if let Some(d) = description {
            out.insert("description".into(), d);
        }
        out.insert(
            "anyOf".into(),
            json!([Value::Object(o), {"type": "string", "pattern": EXPRESSION}]),
        );
        Value::Object(out)
    } else {
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{Defaults, RetryPolicy, Task};

    fn props(schema: &Value, pointer: &str) -> Vec<String> {
        let mut keys: Vec<String> = schema
            .pointer(pointer)
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    fn sorted(fields: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn the_reader_and_the_schema_know_the_same_fields() {
        let s = workflow_schema(&TaskTypes::builtin());
        assert_eq!(props(&s, "/properties"), sorted(Workflow::FIELDS));
        assert_eq!(props(&s, "/$defs/Task/properties"), sorted(Task::FIELDS));
        assert_eq!(
            props(&s, "/$defs/RetryPolicy/properties"),
            sorted(RetryPolicy::FIELDS)
        );
        assert_eq!(
            props(&s, "/$defs/Defaults/properties"),
            sorted(Defaults::FIELDS)
        );
    }

    #[test]
    fn the_schema_is_a_valid_json_schema() {
        let s = workflow_schema(&TaskTypes::builtin());
        assert!(jsonschema::meta::is_valid(&s));
        assert!(jsonschema::validator_for(&s).is_ok());
    }

    #[test]
    fn relaxed_parameters_accept_expressions() {
        let s = relax(json!({"type": "object", "properties": {"n": {"type": "integer"}}}));
        let v = jsonschema::validator_for(&s).expect("valid");
        assert!(v.is_valid(&json!({"n": 3})));
        assert!(v.is_valid(&json!({"n": "${ $inputs.n }"})));
        assert!(!v.is_valid(&json!({"n": "three"})));
    }
}
