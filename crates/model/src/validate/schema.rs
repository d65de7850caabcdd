//! JSON Schemas a definition declares for its named values (a workflow's `inputs`, a
//! template's `parameters`): checked against the meta-schema, and compiled.
//!
//! Invariants:
//! - a schema is compiled only when it has no problem: every meta-schema violation is
//!   reported at the key it concerns (a misspelled `type` by name, with "did you mean"),
//!   and a `type` other than `object` is an error, since the values are named;
//! - a compiled schema validates `format`s.

use std::sync::Arc;

use harmonia_expr::clip;
use serde_json::Value;

use crate::diagnostic::{Diagnostics, FieldPath, Locations};
use crate::json_errors::constraint_message;

/// Checks a JSON Schema that describes an object of named values (a workflow's
/// `inputs`, a template's `parameters`) at `base`, and compiles it. `what` names the
/// values in messages ("inputs", "parameters").
pub(crate) fn object_schema(
    schema: &Value,
    base: &FieldPath,
    what: &str,
    locs: &Locations,
    diags: &mut Diagnostics<'_>,
) -> Option<Arc<jsonschema::Validator>> {
    let mut ok = true;
    match jsonschema::meta::validator_for(schema) {
        Ok(meta) => {
            for e in meta.iter_errors(schema) {
                ok = false;
                let path = json_path(base, e.instance_path());
                let offset = locs.value(&path);
                diags.error(&path, offset, schema_message(&e));
            }
        }
        Err(e) => {
            ok = false;
            let offset = locs.value(base);
            diags.error(base, offset, format!("invalid JSON Schema: {e}"));
        }
    }
    if let Some(t) = schema.get("type")
        && t != "object"
    {
        ok = false;
        let path = base.key("type");
        let offset = locs.value(&path);
        diags.error(
            &path,
            offset,
            format!(
                "{what} are a mapping of names to values: `type` must be `object`, found {}",
                clip(&t.to_string())
            ),
        );
    }
    if !ok {
        return None;
    }
    match jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
    {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            let offset = locs.value(base);
            diags.error(base, offset, format!("invalid JSON Schema: {e}"));
            None
        }
    }
}

fn json_path(base: &FieldPath, loc: &jsonschema::paths::Location) -> FieldPath {
    loc.iter().fold(base.clone(), |p, s| match s {
        jsonschema::paths::LocationSegment::Property(k) => p.key(&k),
        jsonschema::paths::LocationSegment::Index(i) => p.index(i),
    })
}

const JSON_TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// A meta-schema violation in words: the common case (a misspelled `type`) by name.
pub(crate) fn schema_message(e: &jsonschema::ValidationError<'_>) -> String {
    let at_type = matches!(
        e.instance_path().iter().last(),
        Some(jsonschema::paths::LocationSegment::Property(p)) if p == "type"
    );
    if at_type && let Some(found) = e.instance().as_str() {
        let hint = harmonia_expr::suggest(found, JSON_TYPES)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return format!(
            "invalid JSON Schema: unknown type `{}`{hint}; expected one of: {}",
            clip(found),
            JSON_TYPES.join(", ")
        );
    }
    format!("invalid JSON Schema: {}", constraint_message(e))
}
