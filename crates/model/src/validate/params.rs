//! The parameters of a task (`with`) against its type: the type's JSON Schema and its
//! own check, each problem reported at the parameter it concerns.
//!
//! Invariants:
//! - a task whose `type` is unknown gets one error, with "did you mean" and the known
//!   types; an empty `type` is left to the reader, which reported it;
//! - a value that is a string with `${ }` expressions, or lies under one, is only known
//!   at run time: schema errors about it are not reported;
//! - a missing `with` counts as `{}` when the schema describes an object;
//! - each problem is reported at the parameter it concerns; a missing or unknown parameter
//!   names the task type, and unknown parameters and enum values come with "did you mean"
//!   (or the allowed names); a check's problem with a span points inside the string it
//!   concerns.

use harmonia_expr::{PathSeg, Template, clip};
use serde_json::Value;

use super::{Validator, extend, lookup};
use crate::definition::Task;
use crate::diagnostic::FieldPath;
use crate::json_errors::constraint_message;

impl Validator<'_, '_> {
    pub(super) fn check_type(&mut self, i: usize, task: &Task) {
        if task.kind.is_empty() {
            return; // Missing or malformed: reported by the reader.
        }
        let path = self.task_path(i);
        let Some(ty) = self.types.get(&task.kind).cloned() else {
            let p = path.key("type");
            let offset = self.locs.value(&p);
            let hint = harmonia_expr::suggest(&task.kind, self.types.names())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            let known: Vec<&str> = self.types.names().collect();
            self.error(
                &p,
                offset,
                format!(
                    "unknown task type `{}`{hint}; known types: {}",
                    clip(&task.kind),
                    known.join(", ")
                ),
            );
            return;
        };
        let with_path = path.key("with");
        let with = if task.with.is_null() && ty.schema().get("type").is_some_and(|t| t == "object")
        {
            Value::Object(serde_json::Map::new())
        } else {
            task.with.clone()
        };
        let validator = match ty.validator() {
            Ok(v) => v,
            Err(message) => {
                let offset = self.locs.value(&with_path);
                self.error(
                    &with_path,
                    offset,
                    format!(
                        "task type `{}` has a parameter schema that does not compile ({message}); this is a bug of the task type, not of the workflow",
                        ty.name()
                    ),
                );
                return;
            }
        };
        for e in validator.iter_errors(&with) {
            let segs: Vec<PathSeg> = e
                .instance_path()
                .iter()
                .map(|s| match s {
                    jsonschema::paths::LocationSegment::Property(p) => PathSeg::Key(p.into_owned()),
                    jsonschema::paths::LocationSegment::Index(i) => PathSeg::Index(i),
                })
                .collect();
            if is_dynamic(&with, &segs) {
                continue;
            }
            let at = extend(&with_path, &segs);
            self.param_error(&ty, &at, &e);
        }
        for problem in ty.check(&task.with) {
            let segs = pointer_segs(&problem.pointer, &task.with);
            let at = extend(&with_path, &segs);
            let mut offset = self.locs.value(&at);
            if let (Some(span), Some(Value::String(s))) = (&problem.span, lookup(&task.with, &segs))
            {
                offset = self.diags.source.offset_in_scalar(offset, s, span.start);
            }
            self.error(&at, offset, problem.message);
        }
    }

    fn param_error(
        &mut self,
        ty: &crate::task_types::TaskType,
        at: &FieldPath,
        e: &jsonschema::ValidationError<'_>,
    ) {
        use jsonschema::error::ValidationErrorKind as K;
        let name = ty.name();
        match e.kind() {
            K::Required { property } => {
                let prop = property.as_str().unwrap_or_default();
                let offset = self.locs.key(at);
                self.error(
                    at,
                    offset,
                    format!("missing required parameter `{prop}` for a `{name}` task"),
                );
            }
            K::AdditionalProperties { unexpected } => {
                let allowed = allowed_properties(ty.schema(), e.schema_path().as_str());
                for prop in unexpected {
                    let p = at.key(prop);
                    let offset = self.locs.key(&p);
                    let hint = harmonia_expr::suggest(prop, allowed.iter().map(String::as_str))
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_else(|| format!("; expected one of: {}", allowed.join(", ")));
                    self.error(
                        &p,
                        offset,
                        format!(
                            "unknown parameter `{}` for a `{name}` task{hint}",
                            clip(prop)
                        ),
                    );
                }
            }
            K::Type { .. } => {
                let offset = self.locs.value(at);
                self.error(at, offset, constraint_message(e));
            }
            K::Enum { options } => {
                let names: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let found = e
                    .instance()
                    .as_str()
                    .map_or_else(|| e.instance().to_string(), str::to_string);
                let hint = harmonia_expr::suggest(&found, names.iter().map(String::as_str))
                    .or_else(|| {
                        names
                            .iter()
                            .find(|n| n.eq_ignore_ascii_case(&found))
                            .cloned()
                    })
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                let offset = self.locs.value(at);
                self.error(
                    at,
                    offset,
                    format!(
                        "unknown value `{}`{hint}; expected one of: {}",
                        clip(&found),
                        names.join(", ")
                    ),
                );
            }
            _ => {
                let offset = self.locs.value(at);
                self.error(at, offset, constraint_message(e));
            }
        }
    }
}

/// Whether the value at `segs`, or a value above it, is a string with expressions
/// (only known at run time).
fn is_dynamic(root: &Value, segs: &[PathSeg]) -> bool {
    let is_expr = |v: &Value| v.as_str().is_some_and(Template::has_expressions);
    let mut v = root;
    if is_expr(v) {
        return true;
    }
    for seg in segs {
        match lookup(v, std::slice::from_ref(seg)) {
            Some(next) => v = next,
            None => return false,
        }
        if is_expr(v) {
            return true;
        }
    }
    false
}

/// Segments of a JSON pointer, resolved against `root` (numbers index arrays).
fn pointer_segs(pointer: &str, root: &Value) -> Vec<PathSeg> {
    let mut out = Vec::new();
    let mut v = Some(root);
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        let seg = match (v, key.parse::<usize>()) {
            (Some(Value::Array(_)), Ok(n)) => PathSeg::Index(n),
            _ => PathSeg::Key(key),
        };
        v = v.and_then(|v| lookup(v, std::slice::from_ref(&seg)));
        out.push(seg);
    }
    out
}

/// The property names allowed where an `additionalProperties` error was raised.
fn allowed_properties(schema: &Value, schema_path: &str) -> Vec<String> {
    let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
    schema
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}
