//! The definition format's own JSON Schema, for editors and other tools.
//!
//! Generated from the Rust types of `definition` (so it cannot drift from them), then
//! refined with what the types cannot say: task names must be identifiers, and, for each
//! registered task type, the parameters its `with:` takes (an `if`/`then` per type, so
//! editors complete `url` under an `http` task). Parameter schemas are relaxed to also
//! accept a `${ }` expression wherever a value is expected, as validation does.
//!
//! `harmonia schema` prints it; `docs/workflow.schema.json` is a copy checked by a test.
//! [`template_schema`] is the same for the template format: its metadata, its
//! `parameters` (a JSON Schema) and a `workflow` that is the workflow schema without
//! the fields instantiation fills in.

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

/// The `$id` of the template schema.
pub const TEMPLATE_SCHEMA_ID: &str = "https://harmonia.dev/schemas/template.schema.json";

/// The JSON Schema of a template (see `crate::template`) whose body may use the task
/// types in `types`.
pub fn template_schema(types: &TaskTypes) -> Value {
    let workflow = workflow_schema(types);
    let defs = workflow.get("$defs").cloned().unwrap_or_else(|| json!({}));
    let mut body = Map::new();
    body.insert("type".into(), json!("object"));
    body.insert("additionalProperties".into(), json!(false));
    body.insert(
        "description".into(),
        json!("The workflow: like a workflow definition without `name`, `params` and `template`, which instantiation fills in. Expressions read the parameters as `$params`."),
    );
    if let Some(props) = workflow.get("properties").and_then(Value::as_object) {
        let mut kept = props.clone();
        for k in ["$schema", "name", "params", "template"] {
            kept.shift_remove(k);
        }
        body.insert("properties".into(), Value::Object(kept));
    }
    body.insert("required".into(), json!(["tasks"]));
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": TEMPLATE_SCHEMA_ID,
        "title": "Harmonia template",
        "description": "A workflow body, the JSON Schema of its parameters, and metadata.",
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "workflow"],
        "properties": {
            "name": {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9_-]*$",
                "maxLength": 128,
                "description": "Unique name: lowercase letters, digits, `_` and `-`, starting with a letter or digit."
            },
            "description": {"type": "string", "description": "What the template does."},
            "tags": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 64},
                "uniqueItems": true,
                "description": "Labels to find the template by."
            },
            "category": {"type": "string", "minLength": 1, "description": "The group the template is listed under."},
            "parameters": {
                "type": "object",
                "description": "The JSON Schema of the parameters (an object); `default`s fill in missing values."
            },
            "workflow": Value::Object(body)
        },
        "$defs": defs
    })
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
    use crate::definition::{Defaults, RetryPolicy, Task, TemplateRef};

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
        let s = workflow_schema(&crate::task_types::test_types());
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
        assert_eq!(
            props(&s, "/$defs/TemplateRef/properties"),
            sorted(TemplateRef::FIELDS)
        );
    }

    #[test]
    fn the_schema_is_a_valid_json_schema() {
        let s = workflow_schema(&crate::task_types::test_types());
        assert!(jsonschema::meta::is_valid(&s));
        assert!(jsonschema::validator_for(&s).is_ok());
    }

    #[test]
    fn the_template_schema_accepts_the_builtin_templates() {
        let s = template_schema(&crate::task_types::test_types());
        assert!(jsonschema::meta::is_valid(&s));
        let v = jsonschema::validator_for(&s).expect("valid schema");
        for t in crate::template::builtin() {
            let value = t.to_value();
            assert!(
                v.is_valid(&value),
                "{}: {:?}",
                t.name,
                v.iter_errors(&value)
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
            );
        }
        let bad = json!({"name": "t", "workflow": {"name": "x", "tasks": {"a": {"type": "set"}}}});
        assert!(!v.is_valid(&bad));
        let bad = json!({"name": "t", "tasks": {}, "workflow": {"tasks": {"a": {"type": "set"}}}});
        assert!(!v.is_valid(&bad));
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
