//! The template's own fields, apart from its tasks: its name, tags and category, its
//! `parameters` (made into the template's JSON Schema), the workflow's `input` (made into
//! its `inputs` schema) and the workflow's declared `output` (reported: a declaration
//! says what the workflow produces but not from what).
//!
//! Invariants: the name always follows the template-name rules (`validate::fix_name` of
//! the given name, else of the file's stem, else `tekton-template`), and a change to a
//! given name is reported; a parameter or input of an unknown type takes any value, and
//! that is reported; of two parameters with the same name the first is kept; `required`
//! lists only parameters that are declared.

use serde_json::{Map, Value, json};

use super::converter::{Converter, get, pointer, string};
use super::report::IssueKind;
use crate::node::{Kind, Node};
use crate::validate;

const PARAM_FIELDS: &[&str] = &[
    "name",
    "parameter_type",
    "description",
    "required",
    "default_value",
    "options",
];
const INPUT_FIELDS: &[&str] = &["type", "description", "default", "required"];
const JSON_TYPES: &[&str] = &["string", "integer", "number", "boolean", "object", "array"];

/// The converted `parameters`: their names, and the template's parameter schema.
pub(super) struct Params {
    pub(super) names: Vec<String>,
    pub(super) schema: Value,
}

impl Converter<'_> {
    pub(super) fn name(&mut self, root: &Node, def: &Node) -> String {
        let given = get(root, "name")
            .and_then(string)
            .or_else(|| get(def, "name").and_then(string));
        let from_file = || {
            let file = self.source.name().rsplit('/').next().unwrap_or("");
            let stem = file.split('.').next().unwrap_or("");
            validate::fix_name(stem)
        };
        let name = match &given {
            Some(g) => validate::fix_name(g),
            None => from_file(),
        };
        let name = if name.is_empty() {
            "tekton-template".to_string()
        } else {
            name
        };
        if let Some(g) = given
            && g != name
        {
            let offset = get(root, "name").map_or(root.offset, |n| n.offset);
            self.issue(
                IssueKind::Adjusted,
                "/name",
                offset,
                format!("the name `{g}` is `{name}` here (template names are lowercase letters, digits, `_` and `-`)"),
            );
        }
        if let (Some(wn), Some(top)) = (
            get(def, "name").and_then(string),
            get(root, "name").and_then(string),
        ) && wn != top
        {
            let offset = get(def, "name").map_or(def.offset, |n| n.offset);
            self.issue(
                IssueKind::Dropped,
                "/workflow_definition/name",
                offset,
                format!("the workflow's own name `{wn}`: a workflow made from the template is named when it is instantiated"),
            );
        }
        name
    }

    pub(super) fn tags(&mut self, root: &Node) -> Vec<String> {
        let Some(node) = get(root, "tags") else {
            return Vec::new();
        };
        let Kind::Seq(items) = &node.kind else {
            self.issue(
                IssueKind::Dropped,
                "/tags",
                node.offset,
                "`tags` is not a list",
            );
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match string(item) {
                Some(t) if !t.trim().is_empty() && t.chars().count() <= 64 => {
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
                _ => self.issue(
                    IssueKind::Dropped,
                    &format!("/tags/{i}"),
                    item.offset,
                    format!(
                        "the tag {} (tags are non-empty strings of at most 64 characters)",
                        item.to_json()
                    ),
                ),
            }
        }
        out
    }

    pub(super) fn category(&mut self, root: &Node, def: &Node) -> Option<String> {
        let mut category = get(root, "category").and_then(string);
        for (node, path) in [
            (get(def, "metadata"), "/workflow_definition/metadata"),
            (get(root, "metadata"), "/metadata"),
        ] {
            let Some(node) = node else { continue };
            let Kind::Map(entries) = &node.kind else {
                continue;
            };
            for (k, v) in entries {
                if k.name == "category"
                    && category.is_none()
                    && let Some(c) = string(v)
                {
                    category = Some(c);
                    continue;
                }
                if k.name == "category" && string(v) == category {
                    continue;
                }
                self.issue(
                    IssueKind::Dropped,
                    &pointer(path, &k.name),
                    k.offset,
                    format!(
                        "metadata `{}` ({}) has no equivalent",
                        harmonia_expr::clip(&k.name),
                        harmonia_expr::clip(&v.to_json().to_string())
                    ),
                );
            }
        }
        category.filter(|c| !c.trim().is_empty())
    }

    pub(super) fn parameters(&mut self, root: &Node) -> Params {
        let mut params = Params {
            names: Vec::new(),
            schema: json!({"type": "object", "properties": {}}),
        };
        let Some(node) = get(root, "parameters") else {
            return params;
        };
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        for (key, entry, path) in self.named(node, "/parameters", "parameter") {
            let name = get(entry, "name").and_then(string).unwrap_or(key);
            if properties.contains_key(&name) {
                self.issue(
                    IssueKind::Dropped,
                    &path,
                    entry.offset,
                    format!("a second parameter named `{name}`"),
                );
                continue;
            }
            self.drop_unknown(entry, &path, PARAM_FIELDS, &format!("parameter `{name}`"));
            let mut prop = Map::new();
            let kind = get(entry, "parameter_type").and_then(string);
            let options = get(entry, "options").map(|o| (o, o.to_json()));
            match kind.as_deref() {
                Some("string") | None => {
                    prop.insert("type".into(), json!("string"));
                }
                Some("text") => {
                    prop.insert("type".into(), json!("string"));
                    prop.insert("x-multiline".into(), json!(true));
                }
                Some("integer") => {
                    prop.insert("type".into(), json!("integer"));
                }
                Some("boolean") => {
                    prop.insert("type".into(), json!("boolean"));
                }
                Some("select") => {
                    let all_strings = matches!(&options, Some((_, Value::Array(v))) if v.iter().all(Value::is_string));
                    if all_strings {
                        prop.insert("type".into(), json!("string"));
                    }
                }
                Some(other) => {
                    let offset = get(entry, "parameter_type").map_or(entry.offset, |n| n.offset);
                    self.issue(
                        IssueKind::Dropped,
                        &pointer(&path, "parameter_type"),
                        offset,
                        format!("the parameter type `{other}` of `{name}` is unknown (string, text, integer, boolean, select); the parameter takes any value"),
                    );
                }
            }
            if let Some(d) = get(entry, "description").and_then(string) {
                prop.insert("description".into(), Value::String(d));
            }
            match options {
                Some((_, Value::Array(values))) if !values.is_empty() => {
                    prop.insert("enum".into(), Value::Array(values));
                }
                Some((node, other)) => self.issue(
                    IssueKind::Dropped,
                    &pointer(&path, "options"),
                    node.offset,
                    format!("the options of `{name}` are not a non-empty list: {other}"),
                ),
                None if kind.as_deref() == Some("select") => self.issue(
                    IssueKind::Adjusted,
                    &path,
                    entry.offset,
                    format!("the select parameter `{name}` has no `options`; it takes any value"),
                ),
                None => {}
            }
            if let Some(d) = get(entry, "default_value")
                && d.kind != Kind::Null
            {
                prop.insert("default".into(), d.to_json());
            }
            if let Some(r) = get(entry, "required") {
                match r.kind {
                    Kind::Bool(true) => required.push(Value::String(name.clone())),
                    Kind::Bool(false) => {}
                    _ => self.issue(
                        IssueKind::Dropped,
                        &pointer(&path, "required"),
                        r.offset,
                        format!("`required` of `{name}` is not true or false"),
                    ),
                }
            }
            params.names.push(name.clone());
            properties.insert(name, Value::Object(prop));
        }
        params.schema["properties"] = Value::Object(properties);
        if !required.is_empty() {
            params.schema["required"] = Value::Array(required);
        }
        params
    }

    pub(super) fn inputs(&mut self, def: &Node) -> Option<(Vec<String>, Value)> {
        let node = get(def, "input")?;
        let mut names = Vec::new();
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, entry, path) in self.named(node, "/workflow_definition/input", "input") {
            self.drop_unknown(entry, &path, INPUT_FIELDS, &format!("input `{name}`"));
            let mut prop = Map::new();
            if let Some(t) = get(entry, "type") {
                match string(t).as_deref() {
                    Some("text") => {
                        prop.insert("type".into(), json!("string"));
                    }
                    Some(ty) if JSON_TYPES.contains(&ty) => {
                        prop.insert("type".into(), json!(ty));
                    }
                    _ => self.issue(
                        IssueKind::Dropped,
                        &pointer(&path, "type"),
                        t.offset,
                        format!("the type {} of input `{name}` is not a JSON type; the input takes any value", t.to_json()),
                    ),
                }
            }
            if let Some(d) = get(entry, "description").and_then(string) {
                prop.insert("description".into(), Value::String(d));
            }
            if let Some(d) = get(entry, "default") {
                prop.insert("default".into(), d.to_json());
            }
            if get(entry, "required").is_some_and(|r| r.kind == Kind::Bool(true)) {
                required.push(Value::String(name.clone()));
            }
            names.push(name.clone());
            properties.insert(name, Value::Object(prop));
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            schema["required"] = Value::Array(required);
        }
        Some((names, schema))
    }

    pub(super) fn outputs(&mut self, def: &Node) {
        let Some(node) = get(def, "output") else {
            return;
        };
        for (name, entry, path) in self.named(node, "/workflow_definition/output", "output") {
            let ty = get(entry, "type")
                .and_then(string)
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            self.issue(
                IssueKind::Dropped,
                &path,
                entry.offset,
                format!("the declared output `{name}`{ty} says what the workflow produces but not from what; the converted workflow outputs the results of its last tasks: write `{name}` as an expression under `workflow.outputs`"),
            );
        }
    }
}
