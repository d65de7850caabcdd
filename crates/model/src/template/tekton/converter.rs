//! The state of one conversion ([`Converter`]) and the assembly of the whole template:
//! checking the top-level mapping and its `workflow_definition`, then putting together
//! the converted name, description, tags, category, parameters, inputs, tasks and
//! outputs, and reading the result back with the template reader's shape check. Also
//! the small helpers on [`Node`]s the other files share.
//!
//! Invariants: a problem that stops the conversion (the file is not a Tekton template,
//! or, which would be a bug here, the converted template does not read back) goes to
//! `diags` and makes [`super::convert`] fail; everything else goes to `report` as an
//! [`Issue`], never silently. Unknown fields of the template and of its
//! `workflow_definition` are reported as dropped. The workflow's outputs are the outputs
//! of the tasks nothing depends on, in the order of the tasks.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::expr::Scope;
use super::report::{Issue, IssueKind};
use super::tasks::upstream_sets;
use crate::diagnostic::{Diagnostics, FieldPath};
use crate::node::{Kind, Node};
use crate::source::{Format, Source};
use crate::template::format::{self, Template};
use crate::template::render;

const TOP_FIELDS: &[&str] = &[
    "name",
    "description",
    "tags",
    "category",
    "workflow_definition",
    "parameters",
];
const DEFINITION_FIELDS: &[&str] = &[
    "name",
    "description",
    "tasks",
    "input",
    "output",
    "metadata",
];

/// The state of one conversion: the Tekton file, the errors that stop it, and the report.
pub(super) struct Converter<'s> {
    pub(super) source: &'s Source,
    pub(super) diags: Diagnostics<'s>,
    pub(super) report: Vec<Issue>,
}

/// The value of `key` in a mapping (`None` for anything else).
pub(super) fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.kind {
        Kind::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        _ => None,
    }
}

/// A string's text (`None` for anything else).
pub(super) fn string(node: &Node) -> Option<String> {
    match &node.kind {
        Kind::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The JSON pointer to `key` under `base` (`~` and `/` escaped).
pub(super) fn pointer(base: &str, key: &str) -> String {
    format!("{base}/{}", key.replace('~', "~0").replace('/', "~1"))
}

impl Converter<'_> {
    /// Adds an entry to the report.
    pub(super) fn issue(
        &mut self,
        kind: IssueKind,
        path: &str,
        offset: usize,
        message: impl Into<String>,
    ) {
        self.report.push(Issue {
            kind,
            path: path.to_string(),
            message: message.into(),
            position: self.source.position(offset),
        });
    }

    /// Records an error that makes the conversion fail.
    pub(super) fn fatal(&mut self, path: &FieldPath, offset: usize, message: impl Into<String>) {
        self.diags.error(path, offset, message);
    }

    /// Reports the fields of mapping `node` (at `path`) that are not in `known`.
    pub(super) fn drop_unknown(&mut self, node: &Node, path: &str, known: &[&str], what: &str) {
        let Kind::Map(entries) = &node.kind else {
            return;
        };
        for (k, v) in entries {
            if !known.contains(&k.name.as_str()) {
                let shown = match &v.kind {
                    Kind::Map(_) | Kind::Seq(_) => String::new(),
                    _ => format!(" ({})", harmonia_expr::clip(&v.to_json().to_string())),
                };
                self.issue(
                    IssueKind::Dropped,
                    &pointer(path, &k.name),
                    k.offset,
                    format!(
                        "`{}`{shown} of {what} has no equivalent",
                        harmonia_expr::clip(&k.name)
                    ),
                );
            }
        }
    }

    /// The whole template, or `None` (with an error in `diags`) when `root` is not a
    /// Tekton template.
    pub(super) fn template(&mut self, root: &Node) -> Option<Template> {
        let root_path = FieldPath::root();
        if !matches!(root.kind, Kind::Map(_)) {
            self.fatal(
                &root_path,
                root.offset,
                format!(
                    "expected a Tekton template (a mapping), found {}",
                    root.describe()
                ),
            );
            return None;
        }
        let Some(def) = get(root, "workflow_definition") else {
            self.fatal(
                &root_path,
                root.offset,
                "not a Tekton template: `workflow_definition` is missing",
            );
            return None;
        };
        if !matches!(def.kind, Kind::Map(_)) {
            self.fatal(
                &root_path.key("workflow_definition"),
                def.offset,
                format!("expected a mapping, found {}", def.describe()),
            );
            return None;
        }
        self.drop_unknown(root, "", TOP_FIELDS, "the template");
        self.drop_unknown(
            def,
            "/workflow_definition",
            DEFINITION_FIELDS,
            "the workflow definition",
        );

        let name = self.name(root, def);
        let description = get(root, "description")
            .and_then(string)
            .or_else(|| get(def, "description").and_then(string));
        let tags = self.tags(root);
        let category = self.category(root, def);

        let params = self.parameters(root);
        let inputs = self.inputs(def);
        let tasks_node = get(def, "tasks");
        let Some(tasks_node) = tasks_node else {
            self.fatal(
                &root_path.key("workflow_definition"),
                def.offset,
                "the workflow definition has no `tasks`",
            );
            return None;
        };
        let mut tasks = self.tasks(tasks_node)?;
        self.outputs(def);

        let scope = Scope {
            params: params.names.iter().cloned().collect(),
            inputs: inputs
                .as_ref()
                .map(|(names, _)| names.iter().cloned().collect())
                .unwrap_or_default(),
            tasks: tasks
                .iter()
                .map(|(k, t)| (k.clone(), t.name.clone()))
                .collect(),
        };

        let mut body_tasks = Map::new();
        let upstream = upstream_sets(&tasks);
        let keys: Vec<String> = tasks.keys().cloned().collect();
        for key in &keys {
            let Some(task) = tasks.get_mut(key) else {
                continue;
            };
            let value = self.task(task, &scope, &upstream);
            body_tasks.insert(task.name.clone(), value);
        }

        let schema = params.schema;
        let parameters = if schema_is_empty(&schema) {
            None
        } else {
            Some(schema)
        };

        let mut body = Map::new();
        if let Some(d) = get(def, "description").and_then(string) {
            body.insert("description".into(), Value::String(d));
        }
        if let Some((_, schema)) = inputs {
            body.insert("inputs".into(), schema);
        }
        let depended: HashSet<&str> = tasks
            .values()
            .flat_map(|t| t.needs.iter().map(String::as_str))
            .collect();
        let outputs: Map<String, Value> = tasks
            .values()
            .filter(|t| !depended.contains(t.name.as_str()))
            .map(|t| {
                (
                    t.name.clone(),
                    Value::String(format!("${{ $tasks.{}.output }}", t.name)),
                )
            })
            .collect();
        if !outputs.is_empty() {
            body.insert("outputs".into(), Value::Object(outputs));
        }
        body.insert("tasks".into(), Value::Object(body_tasks));

        let mut value = Map::new();
        value.insert("name".into(), Value::String(name));
        if let Some(d) = description {
            value.insert("description".into(), Value::String(d));
        }
        if !tags.is_empty() {
            value.insert("tags".into(), json!(tags));
        }
        if let Some(c) = category {
            value.insert("category".into(), Value::String(c));
        }
        if let Some(p) = parameters {
            value.insert("parameters".into(), p);
        }
        value.insert("workflow".into(), Value::Object(body));
        let text = render::render(&Value::Object(value), Format::Json);
        match format::read_shape(&Source::new(self.source.name(), text, Format::Json)) {
            Ok(t) => Some(t),
            Err(e) => {
                // The converter makes every field in a shape the reader accepts; should
                // it not, say so rather than return a template that cannot be read.
                for d in e.diagnostics() {
                    self.fatal(
                        &root_path,
                        root.offset,
                        format!("the converted template is malformed: {d}"),
                    );
                }
                None
            }
        }
    }

    /// Named entries of a list of objects with `name` (or a mapping keyed by name).
    pub(super) fn named<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        what: &str,
    ) -> Vec<(String, &'n Node, String)> {
        let mut out = Vec::new();
        match &node.kind {
            Kind::Map(entries) => {
                for (k, v) in entries {
                    out.push((k.name.clone(), v, pointer(path, &k.name)));
                }
            }
            Kind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}/{i}");
                    match get(item, "id")
                        .and_then(string)
                        .or_else(|| get(item, "name").and_then(string))
                    {
                        Some(n) => out.push((n, item, p)),
                        None => self.issue(
                            IssueKind::Dropped,
                            &p,
                            item.offset,
                            format!("{what} without a `name`"),
                        ),
                    }
                }
            }
            _ => self.issue(
                IssueKind::Dropped,
                path,
                node.offset,
                format!(
                    "expected a list or mapping of {what}s, found {}",
                    node.describe()
                ),
            ),
        }
        out
    }
}

fn schema_is_empty(schema: &Value) -> bool {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty)
        && schema.get("required").is_none()
}
