//! YAML values (parameter files, request bodies) read the way definitions are: YAML
//! 1.2 booleans only, so `yes`, `no`, `on` and `y` stay strings everywhere Harmonia
//! reads YAML, and a value means the same in a workflow file as in a body or a file of
//! parameters. And the other way: a value's YAML text, as templates and export
//! documents are written (deterministic; reads back to the same value).

use serde_json::Value;

/// The YAML text of `value` (block style, two-space indents, ends with a newline).
pub fn text(value: &Value) -> String {
    crate::template::render_yaml(value)
}

/// Reads one YAML document into a JSON value (an empty document is `null`).
pub fn value(text: &str) -> Result<Value, String> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.with_snippet = false;
    // The same nesting bound as definitions, for the same reason (the stack).
    let mut budget = options.budget.clone().unwrap_or_default();
    budget.max_depth = crate::node::MAX_DEPTH;
    options.budget = Some(budget);
    serde_saphyr::from_str_with_options::<Option<Value>>(text, options)
        .map(Option::unwrap_or_default)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn only_true_and_false_are_booleans() {
        let v = super::value("a: yes\nb: true\nc: on\nd: [1, null]\n").expect("YAML");
        assert_eq!(v, json!({"a": "yes", "b": true, "c": "on", "d": [1, null]}));
        assert_eq!(super::value("").expect("empty"), json!(null));
        assert!(super::value("a: [").is_err());
        let deep = format!("{}{}", "[".repeat(60), "]".repeat(60));
        assert!(
            super::value(&deep).is_err(),
            "nested deeper than definitions may be"
        );
    }
}
