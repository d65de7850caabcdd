//! Whether a path read from `$inputs` or `$params` is one their JSON Schema declares.
//!
//! Validation asks this for every static path an expression reads
//! (`harmonia_expr::VarPath`): `$inputs.customr` where the `inputs` schema declares
//! `customer` is almost certainly a typo, and is null at run time.
//!
//! The walk follows the schema only as far as it describes the value: into
//! `properties` for a key, into `items` (or `prefixItems`) for an index, through
//! `allOf`/`anyOf`/`oneOf`/`then`/`else` and local `$ref`s (`#/...`), whose
//! declarations all count. It stops quietly, saying nothing, wherever the schema does
//! not say which keys exist: no `properties` and no `additionalProperties: false`,
//! `patternProperties`, an `additionalProperties` or `unevaluatedProperties` schema,
//! a `$ref` it cannot resolve, a non-object schema.
//!
//! Invariant: it reports a key only when the schema lists keys at that level and this
//! one is not among them; `closed` is set only when that level also has
//! `additionalProperties: false` (the value is then always null).

use harmonia_expr::PathSeg;
use serde_json::Value;

/// A key the schema does not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Undeclared {
    /// How many steps of the path lead to it, itself included (`path[..depth]`).
    pub(crate) depth: usize,
    /// Whether that level allows no other keys (`additionalProperties: false`).
    pub(crate) closed: bool,
    /// The declared key closest to it, when it is a likely typo.
    pub(crate) suggestion: Option<String>,
}

/// Composition and `$ref`s are followed at most this deep for one step (a schema can
/// refer to itself).
const MAX_EXPANSION: usize = 16;

/// The first step of `path` that `schema` (the root, for `$ref`s) does not declare.
pub(crate) fn undeclared(schema: &Value, path: &[PathSeg]) -> Option<Undeclared> {
    let mut level: Vec<&Value> = vec![schema];
    for (i, seg) in path.iter().enumerate() {
        let mut parts = Vec::new();
        for s in &level {
            if !expand(schema, s, 0, &mut parts) {
                return None;
            }
        }
        level = match seg {
            PathSeg::Key(key) => match step_key(&parts, key) {
                Step::Into(next) => next,
                Step::Stop => return None,
                Step::Undeclared { closed, names } => {
                    return Some(Undeclared {
                        depth: i + 1,
                        closed,
                        suggestion: harmonia_expr::suggest(key, names),
                    });
                }
            },
            PathSeg::Index(n) => {
                let next = step_index(&parts, *n);
                if next.is_empty() {
                    return None;
                }
                next
            }
        };
    }
    None
}

/// Adds `s` and the schemas it is composed of to `out`. Returns false when the
/// schema does not say which keys exist (a `$ref` that cannot be followed, too deep).
fn expand<'v>(root: &'v Value, s: &'v Value, depth: usize, out: &mut Vec<&'v Value>) -> bool {
    if depth > MAX_EXPANSION {
        return false;
    }
    let Value::Object(map) = s else {
        // `true`, `false` or not a schema: nothing is known about keys.
        return false;
    };
    out.push(s);
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            for b in branches {
                if !expand(root, b, depth + 1, out) {
                    return false;
                }
            }
        }
    }
    for key in ["then", "else"] {
        if let Some(b) = map.get(key)
            && !expand(root, b, depth + 1, out)
        {
            return false;
        }
    }
    if map.contains_key("$dynamicRef") {
        return false;
    }
    if let Some(r) = map.get("$ref") {
        let target = r
            .as_str()
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer));
        match target {
            Some(t) => return expand(root, t, depth + 1, out),
            None => return false,
        }
    }
    true
}

enum Step<'v> {
    Into(Vec<&'v Value>),
    Stop,
    Undeclared { closed: bool, names: Vec<&'v str> },
}

fn step_key<'v>(parts: &[&'v Value], key: &str) -> Step<'v> {
    let mut next = Vec::new();
    let mut names = Vec::new();
    let mut listed = false;
    let mut closed = false;
    for part in parts {
        let open = part.get("patternProperties").is_some()
            || part
                .get("additionalProperties")
                .is_some_and(Value::is_object)
            || part
                .get("unevaluatedProperties")
                .is_some_and(|u| u.is_object() || u == &Value::Bool(true));
        if open {
            return Step::Stop;
        }
        if let Some(Value::Object(props)) = part.get("properties") {
            listed = true;
            names.extend(props.keys().map(String::as_str));
            if let Some(s) = props.get(key) {
                next.push(s);
            }
        }
        if part.get("additionalProperties") == Some(&Value::Bool(false)) {
            listed = true;
            closed = true;
        }
    }
    if !next.is_empty() {
        Step::Into(next)
    } else if listed {
        Step::Undeclared { closed, names }
    } else {
        Step::Stop
    }
}

fn step_index<'v>(parts: &[&'v Value], n: usize) -> Vec<&'v Value> {
    let mut next = Vec::new();
    for part in parts {
        let prefix = part.get("prefixItems").and_then(Value::as_array);
        match prefix.and_then(|p| p.get(n)) {
            Some(s) => next.push(s),
            None => {
                if let Some(items) = part.get("items").filter(|i| i.is_object()) {
                    next.push(items);
                }
            }
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keys(path: &str) -> Vec<PathSeg> {
        path.split('.')
            .map(|s| match s.parse::<usize>() {
                Ok(n) => PathSeg::Index(n),
                Err(_) => PathSeg::Key(s.to_string()),
            })
            .collect()
    }

    fn check(schema: Value, path: &str) -> Option<(usize, bool, Option<String>)> {
        undeclared(&schema, &keys(path)).map(|u| (u.depth, u.closed, u.suggestion))
    }

    #[test]
    fn declared_keys_pass_and_typos_are_found() {
        let s = json!({"type": "object", "properties": {"customer": {"type": "object", "properties": {"name": {}}}}});
        assert_eq!(check(s.clone(), "customer"), None);
        assert_eq!(check(s.clone(), "customer.name"), None);
        assert_eq!(
            check(s.clone(), "custmer"),
            Some((1, false, Some("customer".into())))
        );
        assert_eq!(
            check(s.clone(), "customer.nmae"),
            Some((2, false, Some("name".into())))
        );
        assert_eq!(check(s, "zzz"), Some((1, false, None)));
    }

    #[test]
    fn closed_schemas_say_so() {
        let s = json!({"type": "object", "additionalProperties": false, "properties": {"a": {}}});
        assert_eq!(check(s, "b"), Some((1, true, None)));
        let s = json!({"type": "object", "additionalProperties": false});
        assert_eq!(check(s, "b"), Some((1, true, None)));
    }

    #[test]
    fn the_walk_stops_where_the_schema_says_nothing() {
        assert_eq!(check(json!({"type": "object"}), "a"), None);
        assert_eq!(check(json!({}), "a.b"), None);
        // `a` is declared but its keys are not described.
        assert_eq!(
            check(json!({"properties": {"a": {"type": "object"}}}), "a.b"),
            None
        );
        assert_eq!(check(json!({"properties": {"a": true}}), "a.b"), None);
        let open = json!({"properties": {"a": {}}, "additionalProperties": {"type": "string"}});
        assert_eq!(check(open, "b"), None);
        let pattern = json!({"properties": {"a": {}}, "patternProperties": {"^x": {}}});
        assert_eq!(check(pattern, "b"), None);
        let remote = json!({"properties": {"a": {}}, "allOf": [{"$ref": "other.json"}]});
        assert_eq!(check(remote, "b"), None);
    }

    #[test]
    fn composition_and_local_refs_count() {
        let s = json!({
            "allOf": [{"properties": {"a": {}}}, {"$ref": "#/$defs/more"}],
            "$defs": {"more": {"properties": {"b": {"properties": {"c": {}}}}}}
        });
        assert_eq!(check(s.clone(), "a"), None);
        assert_eq!(check(s.clone(), "b.c"), None);
        assert_eq!(check(s.clone(), "b.d"), Some((2, false, None)));
        assert_eq!(check(s, "x"), Some((1, false, None)));
        // A schema that refers to itself ends.
        let s = json!({"$ref": "#"});
        assert_eq!(check(s, "a"), None);
    }

    #[test]
    fn indices_go_into_items() {
        let s =
            json!({"properties": {"rows": {"type": "array", "items": {"properties": {"id": {}}}}}});
        assert_eq!(check(s.clone(), "rows.0.id"), None);
        assert_eq!(
            check(s.clone(), "rows.3.di"),
            Some((3, false, Some("id".into())))
        );
        let tuple = json!({"properties": {"t": {"prefixItems": [{"properties": {"x": {}}}]}}});
        assert_eq!(check(tuple.clone(), "t.0.y"), Some((3, false, None)));
        assert_eq!(check(tuple, "t.1.y"), None);
    }
}
