//! The checked-in `docs/workflow.schema.json` and `docs/template.schema.json` are the
//! generated schemas, and the schemas reject what validation rejects in shape.

use harmonia_model::schema::{template_schema, workflow_schema};
use serde_json::json;

#[test]
fn docs_schema_is_up_to_date() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/workflow.schema.json");
    let on_disk = std::fs::read_to_string(&path).expect("docs/workflow.schema.json exists");
    let generated = serde_json::to_string_pretty(&workflow_schema(&super::types::builtin()))
        .expect("json")
        + "\n";
    assert!(
        on_disk == generated,
        "docs/workflow.schema.json is stale: run `cargo run -q -p harmonia-cli -- schema > docs/workflow.schema.json`"
    );
}

#[test]
fn the_schema_catches_shape_errors() {
    let schema = workflow_schema(&super::types::builtin());
    let v = jsonschema::validator_for(&schema).expect("valid schema");
    let ok = json!({"name": "a", "tasks": {"t": {"type": "http", "with": {"url": "${ $inputs.u }", "method": "GET"}}}});
    assert!(v.is_valid(&ok));
    for bad in [
        json!({"name": "a", "tasks": {"t": {"type": "set", "retires": 1}}}),
        json!({"name": "a", "tasks": {"bad-name": {"type": "set"}}}),
        json!({"name": "a", "tasks": {"t": {"type": "http", "with": {"method": "FETCH", "url": "x"}}}}),
        json!({"name": "a", "tasks": {"t": {"type": "http", "with": {"methd": "GET", "url": "x"}}}}),
        json!({"name": "a", "timeout": "5 minutes", "tasks": {"t": {"type": "set"}}}),
        json!({"name": "Bad Name", "tasks": {"t": {"type": "set"}}}),
        json!({"tasks": {"t": {"type": "set"}}}),
    ] {
        assert!(!v.is_valid(&bad), "{bad}");
    }
}

#[test]
fn docs_template_schema_is_up_to_date() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/template.schema.json");
    let on_disk = std::fs::read_to_string(&path).expect("docs/template.schema.json exists");
    let generated = serde_json::to_string_pretty(&template_schema(&super::types::builtin()))
        .expect("json")
        + "\n";
    assert!(
        on_disk == generated,
        "docs/template.schema.json is stale: run `cargo run -q -p harmonia-cli -- schema --template > docs/template.schema.json`"
    );
}

#[test]
fn the_template_schema_accepts_the_built_ins_and_catches_shape_errors() {
    let schema = template_schema(&super::types::builtin());
    let v = jsonschema::validator_for(&schema).expect("valid schema");
    for t in harmonia_model::template::builtin() {
        let value = t.to_value();
        let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", t.name);
    }
    let ok = json!({"name": "t", "workflow": {"tasks": {"a": {"type": "set", "with": 1}}}});
    assert!(v.is_valid(&ok));
    for bad in [
        json!({"name": "t"}),
        json!({"name": "T!", "workflow": {"tasks": {}}}),
        json!({"name": "t", "workflow": {"name": "w", "tasks": {}}}),
        json!({"name": "t", "paramters": {}, "workflow": {"tasks": {}}}),
        json!({"name": "t", "workflow": {"tasks": {"a": {"type": "set", "retires": 1}}}}),
    ] {
        assert!(!v.is_valid(&bad), "{bad}");
    }
}

/// Regression: the description of `retry_on` named five default classes while seven
/// are retried by default.
#[test]
fn the_retry_on_description_names_every_class_retried_by_default() {
    let schema = harmonia_model::schema::workflow_schema(&harmonia_model::TaskTypes::default());
    let text = schema.to_string();
    let start = text
        .find("Error classes that are retried")
        .expect("retry_on's description");
    let description = &text[start..start + 200];
    for class in harmonia_model::ErrorClass::RETRIED_BY_DEFAULT {
        assert!(
            description.contains(class.name()),
            "{} in {description}",
            class.name()
        );
    }
}
