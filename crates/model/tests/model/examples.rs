//! Every example under `examples/` is valid, survives a JSON round trip, and matches the
//! format's JSON Schema.

use std::path::PathBuf;

use harmonia_model::schema::workflow_schema;
use harmonia_model::{Format, Source, load, read};

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    files.sort();
    files
}

fn source(path: &PathBuf) -> Source {
    let text = std::fs::read_to_string(path).expect("readable");
    let name = path.display().to_string();
    Source::new(name.clone(), text, Format::from_path(&name))
}

#[test]
fn there_are_at_least_eight_examples() {
    assert!(examples().len() >= 8, "{:?}", examples());
}

#[test]
fn every_example_is_valid_without_warnings() {
    for path in examples() {
        match load(&source(&path), &super::types::builtin()) {
            Ok(loaded) => assert!(
                loaded.warnings.is_empty(),
                "{}: {:?}",
                path.display(),
                loaded.warnings
            ),
            Err(e) => panic!(
                "{}:\n{}",
                path.display(),
                e.diagnostics()
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        }
    }
}

#[test]
fn every_example_round_trips_through_json() {
    for path in examples() {
        let wf = read(&source(&path)).expect("reads");
        let json = serde_json::to_string_pretty(&wf).expect("serializes");
        let again = read(&Source::new("again.json", json, Format::Json)).expect("reads back");
        assert_eq!(wf, again, "{}", path.display());
    }
}

#[test]
fn every_example_matches_the_format_schema() {
    let schema = workflow_schema(&super::types::builtin());
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    for path in examples() {
        let wf = read(&source(&path)).expect("reads");
        let value = serde_json::to_value(&wf).expect("serializes");
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}
