//! The checked-in `docs/workflow.schema.json` is the generated schema, and the schema
//! rejects what validation rejects in shape.

use harmonia_model::TaskTypes;
use harmonia_model::schema::workflow_schema;
use serde_json::json;

#[test]
fn docs_schema_is_up_to_date() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/workflow.schema.json");
    let on_disk = std::fs::read_to_string(&path).expect("docs/workflow.schema.json exists");
    let generated =
        serde_json::to_string_pretty(&workflow_schema(&TaskTypes::builtin())).expect("json") + "\n";
    assert!(
        on_disk == generated,
        "docs/workflow.schema.json is stale: run `cargo run -q -p harmonia-cli -- schema > docs/workflow.schema.json`"
    );
}

#[test]
fn the_schema_catches_shape_errors() {
    let schema = workflow_schema(&TaskTypes::builtin());
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
