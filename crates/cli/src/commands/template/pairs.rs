//! `KEY=VALUE` on the command line (`--param`, `--input`), and files of values.
//!
//! VALUE is JSON when it parses as JSON (`3`, `true`, `null`, `[1,2]`, `{"a":1}`,
//! `"quoted"`), otherwise the text as a string (`hello`, `https://x`). KEY may be
//! dotted: `a.b=1` sets `{"a": {"b": 1}}`, creating (or replacing with) objects on the
//! way, so it changes one value inside an object given by a file without dropping its
//! other keys. Keys cannot contain `.` or `=` themselves, nor be empty.

use std::path::Path;

use serde_json::{Map, Value};

/// One `KEY=VALUE`: the key's parts and the value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pair {
    pub(crate) path: Vec<String>,
    pub(crate) value: Value,
}

/// Parses `KEY=VALUE` (the clap value parser of `--param` and `--input`).
pub(crate) fn parse_pair(s: &str) -> Result<Pair, String> {
    let Some((key, value)) = s.split_once('=') else {
        return Err(format!("`{s}` is not KEY=VALUE"));
    };
    let path: Vec<String> = key.split('.').map(str::to_string).collect();
    if path.iter().any(String::is_empty) {
        return Err(format!(
            "`{key}` is not a key: use names separated by dots, like `a` or `a.b`"
        ));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    Ok(Pair { path, value })
}

/// Sets the pair's value in `map`, at its (dotted) key.
pub(crate) fn set(map: &mut Map<String, Value>, pair: &Pair) {
    let Some((last, parents)) = pair.path.split_last() else {
        return;
    };
    let mut here = map;
    for key in parents {
        let slot = here
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(inner) = slot else {
            return;
        };
        here = inner;
    }
    here.insert(last.clone(), pair.value.clone());
}

/// Reads a file holding one object of values: JSON for `*.json`, YAML otherwise (YAML
/// 1.2 booleans, as in definitions: `yes` is a string).
pub(crate) fn read_object(path: &Path) -> Result<Map<String, Value>, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let value: Value = if json {
        serde_json::from_str(&text).map_err(|e| format!("{name} is not valid JSON: {e}"))?
    } else {
        harmonia_model::yaml::value(&text).map_err(|e| format!("{name} is not valid YAML: {e}"))?
    };
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(format!("{name} must hold an object (KEY: VALUE pairs)")),
    }
}

/// The object made of `base` (a file's values, or empty) with each pair set in order.
pub(crate) fn object(base: Map<String, Value>, pairs: &[Pair]) -> Map<String, Value> {
    let mut map = base;
    for p in pairs {
        set(&mut map, p);
    }
    map
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pair(s: &str) -> Pair {
        parse_pair(s).expect("a pair")
    }

    #[test]
    fn values_are_json_when_they_parse_and_strings_otherwise() {
        let cases = [
            ("n=3", json!(3)),
            ("x=2.5", json!(2.5)),
            ("b=true", json!(true)),
            ("z=null", json!(null)),
            ("l=[1, \"a\"]", json!([1, "a"])),
            ("o={\"k\": 1}", json!({"k": 1})),
            ("q=\"3\"", json!("3")),
            ("s=hello world", json!("hello world")),
            ("u=https://x.test/?a=b", json!("https://x.test/?a=b")),
            ("e=", json!("")),
            ("broken=[1,", json!("[1,")),
        ];
        for (text, value) in cases {
            assert_eq!(pair(text).value, value, "{text}");
        }
    }

    #[test]
    fn keys_may_be_dotted_but_not_empty() {
        assert_eq!(pair("a.b.c=1").path, ["a", "b", "c"]);
        for bad in ["novalue", "=1", "a..b=1", ".a=1", "a.=1"] {
            assert!(parse_pair(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pairs_override_the_file_one_value_at_a_time() {
        let base = json!({"a": {"b": 1, "keep": true}, "s": "x", "n": 5});
        let Value::Object(base) = base else {
            unreachable!()
        };
        let got = object(
            base,
            &[
                pair("a.b=2"),
                pair("s.deep=1"),
                pair("new.x.y=z"),
                pair("n=6"),
            ],
        );
        assert_eq!(
            Value::Object(got),
            json!({
                "a": {"b": 2, "keep": true},
                "s": {"deep": 1},
                "n": 6,
                "new": {"x": {"y": "z"}},
            })
        );
    }

    #[test]
    fn files_hold_one_object_in_json_or_yaml() {
        let dir = tempfile::tempdir().expect("tempdir");
        let yaml = dir.path().join("p.yaml");
        std::fs::write(&yaml, "url: https://x.test\nn: 2\non: yes\nlist: [1, 2]\n").expect("write");
        assert_eq!(
            Value::Object(read_object(&yaml).expect("yaml")),
            json!({"url": "https://x.test", "n": 2, "on": "yes", "list": [1, 2]})
        );
        let json = dir.path().join("p.json");
        std::fs::write(&json, r#"{"a": {"b": [true]}}"#).expect("write");
        assert_eq!(
            Value::Object(read_object(&json).expect("json")),
            json!({"a": {"b": [true]}})
        );
        std::fs::write(&json, "[1]").expect("write");
        assert!(read_object(&json).is_err());
        assert!(read_object(&dir.path().join("missing.yaml")).is_err());
    }
}
