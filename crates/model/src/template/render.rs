//! Deterministic text of a JSON value, in YAML or JSON: what templates, export
//! documents and instances are written as.
//!
//! The same value always renders to the same bytes, and reading the text back (with the
//! definition reader, YAML 1.2) gives the same value, so that export -> import -> export
//! is byte-for-byte stable. Key order is the value's own (serde_json keeps insertion
//! order); nothing here sorts.
//!
//! YAML comes from serde-saphyr's serializer: block style, two-space indents, strings
//! quoted whenever a YAML 1.1 or 1.2 reader could take them for something else (`yes`,
//! `1.0`, `null`, `${ x }` stays a plain string only when that is safe), multi-line
//! strings as literal blocks (`|`). Long single-line strings are never folded (`>`):
//! folding is the one style whose round trip depends on the reader's care with spaces.
//! JSON is serde_json's pretty form. Both end with one newline.

use serde_json::Value;

use crate::source::Format;

/// The text of `value` in `format`.
pub(crate) fn render(value: &Value, format: Format) -> String {
    match format {
        Format::Json => json(value),
        Format::Yaml => yaml(value),
    }
}

fn json(value: &Value) -> String {
    // Serializing a `Value` to a string cannot fail (its keys are strings).
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn yaml(value: &Value) -> String {
    let options = serde_saphyr::ser_options! {
        indent_step: 2,
        prefer_block_scalars: true,
        folded_wrap_chars: usize::MAX,
    };
    match serde_saphyr::to_string_with_options(value, options) {
        Ok(mut text) => {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text
        }
        // Not expected for a JSON value; JSON is valid YAML 1.2, so this still reads back.
        Err(_) => json(value),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, Number, Value};

    use super::*;
    use crate::source::Source;

    fn read_back(text: &str, format: Format) -> Value {
        match crate::node::parse(&Source::new("r", text, format)) {
            Ok(node) => node.to_json(),
            Err(e) => panic!("{e:?} in\n{text}"),
        }
    }

    fn tricky_string() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,12}",
            "[ -~\t\n]{0,40}",
            Just(String::new()),
            Just("yes".to_string()),
            Just("No".to_string()),
            Just("~".to_string()),
            Just("null".to_string()),
            Just("1.0".to_string()),
            Just("0x1F".to_string()),
            Just("1e3".to_string()),
            Just("- item".to_string()),
            Just("a: b".to_string()),
            Just("#comment".to_string()),
            Just(" leading".to_string()),
            Just("trailing ".to_string()),
            Just("${ $params.x }".to_string()),
            Just("line\n  indented\n".to_string()),
            Just("\n\nstarts with newlines".to_string()),
            Just("ends with newlines\n\n\n".to_string()),
            Just("  \n  ".to_string()),
            Just("tab\there".to_string()),
            Just("quote ' and \" both".to_string()),
            Just("2026-11-24".to_string()),
            Just("*alias".to_string()),
            Just("&anchor".to_string()),
            Just("!tag".to_string()),
            Just("%YAML".to_string()),
            Just("---".to_string()),
            Just("@at".to_string()),
            Just("`tick".to_string()),
            Just("{a: 1}".to_string()),
            Just("[1, 2]".to_string()),
            Just("x".repeat(200)),
            Just(format!("{} {}", "word".repeat(30), "more ".repeat(30))),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            any::<u64>().prop_map(|n| Value::Number(n.into())),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            tricky_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((tricky_string(), inner), 0..5).prop_map(|entries| {
                    let mut m = Map::new();
                    for (k, v) in entries {
                        m.insert(k, v);
                    }
                    Value::Object(m)
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn yaml_and_json_text_read_back_equal_and_render_the_same(v in json_value()) {
            for format in [Format::Yaml, Format::Json] {
                let text = render(&v, format);
                let back = read_back(&text, format);
                prop_assert_eq!(&back, &v, "{}", text);
                prop_assert_eq!(render(&back, format), text);
            }
        }
    }

    #[test]
    fn text_ends_with_one_newline() {
        let v = serde_json::json!({"a": "x"});
        assert_eq!(render(&v, Format::Yaml), "a: x\n");
        assert_eq!(render(&v, Format::Json), "{\n  \"a\": \"x\"\n}\n");
    }
}
