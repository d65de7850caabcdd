//! A structural diff of two templates (two versions of one, usually), for people and
//! for the UI.
//!
//! Both templates are compared as their JSON form ([`Template::to_value`]), so every
//! change has a JSON pointer into that form: `/workflow/tasks/fetch/with/url`,
//! `/parameters/properties/limit/default`, `/tags`. The list is in a stable order: the
//! fields of the first template in its order (changed or removed), each followed by
//! what changed inside it, and the fields only the second has (added) after those of
//! the same object. So a change to one task reads as a change under
//! `/workflow/tasks/NAME`, and a UI can highlight that task.
//!
//! Rules: objects are compared key by key; lists of the same length item by item;
//! lists whose length changed are one change of the whole list (an index-wise diff of
//! shifted items says more than it means); anything else that differs is one
//! `changed` with both values.

use serde::Serialize;
use serde_json::Value;

use super::format::Template;

/// What happened at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only the second template has it.
    Added,
    /// Only the first template has it.
    Removed,
    /// Both have it, with different values.
    Changed,
}

/// One difference between two templates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// JSON pointer into the template's JSON form.
    pub path: String,
    /// What happened there.
    pub change: ChangeKind,
    /// The value in the first template (for `removed` and `changed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value in the second template (for `added` and `changed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// The changes that turn `a` into `b`, in a stable order (see the module doc). Empty
/// when they are the same.
pub fn diff(a: &Template, b: &Template) -> Vec<Change> {
    diff_values(&a.to_value(), &b.to_value())
}

/// The changes that turn JSON value `a` into `b`.
pub fn diff_values(a: &Value, b: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(a, b, &mut String::new(), &mut out);
    out
}

fn walk(a: &Value, b: &Value, path: &mut String, out: &mut Vec<Change>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let len = path.len();
                push_segment(path, k);
                match y.get(k) {
                    Some(vb) => walk(va, vb, path, out),
                    None => out.push(Change {
                        path: path.clone(),
                        change: ChangeKind::Removed,
                        before: Some(va.clone()),
                        after: None,
                    }),
                }
                path.truncate(len);
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    let len = path.len();
                    push_segment(path, k);
                    out.push(Change {
                        path: path.clone(),
                        change: ChangeKind::Added,
                        before: None,
                        after: Some(vb.clone()),
                    });
                    path.truncate(len);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                walk(va, vb, path, out);
                path.truncate(len);
            }
        }
        _ if a == b => {}
        _ => out.push(Change {
            path: path.clone(),
            change: ChangeKind::Changed,
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
    }
}

/// Appends `/key`, escaped as JSON pointers want (`~` as `~0`, `/` as `~1`).
fn push_segment(path: &mut String, key: &str) {
    path.push('/');
    path.push_str(&key.replace('~', "~0").replace('/', "~1"));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Format, Source};

    fn template(text: &str) -> Template {
        super::super::read(
            &Source::new("t.yaml", text, Format::Yaml),
            &crate::task_types::test_types(),
        )
        .expect("valid")
        .template
    }

    #[test]
    fn same_templates_have_no_changes() {
        let t = template("name: t\nworkflow:\n  tasks:\n    a: {type: set}\n");
        assert!(diff(&t, &t).is_empty());
    }

    #[test]
    fn changes_are_listed_in_a_stable_order_with_pointers() {
        let a = template(
            "name: t
description: one
tags: [x, y]
workflow:
  tasks:
    fetch: {type: http, with: {url: 'http://a/'}}
    old: {type: set}
",
        );
        let b = template(
            "name: t
tags: [x]
parameters: {type: object}
workflow:
  tasks:
    fetch: {type: http, with: {url: 'http://b/', method: POST, headers: {a/b: x}}}
    new_one: {type: set, needs: [fetch]}
",
        );
        let got: Vec<(String, ChangeKind)> = diff(&a, &b)
            .into_iter()
            .map(|c| (c.path, c.change))
            .collect();
        let want: Vec<(String, ChangeKind)> = [
            ("/description", ChangeKind::Removed),
            ("/tags", ChangeKind::Changed),
            ("/workflow/tasks/fetch/with/url", ChangeKind::Changed),
            ("/workflow/tasks/fetch/with/method", ChangeKind::Added),
            ("/workflow/tasks/fetch/with/headers", ChangeKind::Added),
            ("/workflow/tasks/old", ChangeKind::Removed),
            ("/workflow/tasks/new_one", ChangeKind::Added),
            ("/parameters", ChangeKind::Added),
        ]
        .into_iter()
        .map(|(p, c)| (p.to_string(), c))
        .collect();
        assert_eq!(got, want);
        let url = &diff(&a, &b)[2];
        assert_eq!(
            (url.before.clone(), url.after.clone()),
            (Some(json!("http://a/")), Some(json!("http://b/")))
        );
        let text = serde_json::to_string(&diff(&a, &b)[0]).expect("json");
        assert_eq!(
            text,
            r#"{"path":"/description","change":"removed","before":"one"}"#
        );
    }

    #[test]
    fn lists_of_the_same_length_are_compared_item_by_item() {
        let changes = diff_values(&json!({"l": [1, {"a": 1}]}), &json!({"l": [1, {"a": 2}]}));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "/l/1/a");
        let changes = diff_values(&json!({"a/b": 1, "c~": 1}), &json!({"a/b": 2, "c~": 2}));
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["/a~1b", "/c~0"]);
    }
}
