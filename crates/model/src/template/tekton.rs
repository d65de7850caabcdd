//! Importing the template files of the original (Python) Tekton Harmonia.
//!
//! Those files are JSON documents like this one (tasks and parameters may be lists of
//! objects with a `name`, or mappings keyed by name):
//!
//! ```json
//! {"name": "Bug Fix", "description": "...", "tags": ["bug"],
//!  "workflow_definition": {
//!    "tasks": [{"name": "investigate", "component": "numa", "dependencies": [],
//!               "parameters": {"report": "{{ bug_report }}"}, "timeout": 1800}, ...],
//!    "input": {"bug_report": {"type": "string", "description": "..."}},
//!    "output": {"bug_fixed": {"type": "boolean"}}},
//!  "parameters": [{"name": "bug_report", "parameter_type": "text", "required": true}]}
//! ```
//!
//! [`convert`] turns one into a [`Template`] and a report of everything that could not
//! be carried over exactly ([`IssueKind::Dropped`]) or was carried over with a change
//! worth checking ([`IssueKind::Adjusted`]), each with its place in the Tekton file.
//! Nothing is dropped silently. The conversion:
//!
//! - Each task becomes a component-style `http` task: `POST
//!   {base}/api/actions/{action}` with `{action, params, context}` (how Tekton
//!   components expose actions), where `base` is the parameter
//!   `component_urls.<component>` (defaulting to the component's standard Tekton port on
//!   localhost when it is a known component), `action` is the task's `action` or else
//!   its key, and the task's output is the response's `result` (or the whole body when
//!   it has none). `dependencies` become `needs`, `timeout` (seconds) a duration, the
//!   display `name` and `description` the task's description.
//! - Jinja values become `${ }` expressions: `{{ var }}` reads `$params.var` when `var`
//!   is a parameter, else `$inputs.var` when it is an input; `{{ task.output.field }}`
//!   reads `$tasks.task.output.field` (and the task is added to `needs` when it was not
//!   upstream); `{{ x | default(80) }}` is `x // 80` (jq's alternative operator: it also
//!   replaces `false`). A string that is one `{{ }}` becomes a whole-value expression
//!   (it keeps the value's type); text around `{{ }}` is interpolated. Anything else
//!   (other filters, `{% %}` blocks, unknown variables) is left as it was and reported.
//! - `parameters` become the template's JSON Schema: `string` and `text` are strings
//!   (`text` marked `x-multiline` for forms), `integer`, `boolean`, and `select` (an
//!   `enum` of its `options`); `required`, `default_value` and `description` carry over.
//! - `input` becomes the workflow's `inputs` schema. `output` declarations have no
//!   expressions, so they are reported; the workflow's outputs are the results of the
//!   tasks nothing depends on.
//! - Bookkeeping (`is_public`, `usage_count`, `metadata`, versions) is reported as
//!   dropped; the category comes from `category` or `metadata.category`.
//!
//! The converted template is not validated here: validate it with
//! [`super::read`] on [`Conversion::source`], whose diagnostics point into the
//! converted text ([`Conversion::render`]) a user can look at.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::format::{self, Template};
use crate::Error;
use crate::diagnostic::{Diagnostics, FieldPath};
use crate::duration::Dur;
use crate::node::{self, Kind, Node};
use crate::source::{Format, Position, Source};
use crate::validate;

/// What happened to something the converter could not carry over exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueKind {
    /// Left out (or left as literal text): it has no equivalent.
    Dropped,
    /// Carried over with a change worth checking.
    Adjusted,
}

impl IssueKind {
    /// `dropped` or `adjusted`, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueKind::Dropped => "dropped",
            IssueKind::Adjusted => "adjusted",
        }
    }
}

/// One entry of a conversion's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Dropped or adjusted.
    pub kind: IssueKind,
    /// JSON pointer into the Tekton file (`/workflow_definition/tasks/0/parameters/x`).
    pub path: String,
    /// What, and why.
    pub message: String,
    /// Where, in the Tekton file.
    #[serde(flatten)]
    pub position: Position,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {}: {}",
            self.position,
            self.kind.as_str(),
            self.path,
            self.message
        )
    }
}

/// A converted Tekton template and its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// The template in our format (not yet validated).
    pub template: Template,
    /// What could not be carried over exactly, in the order of the Tekton file.
    pub report: Vec<Issue>,
    /// The name of the Tekton file.
    pub from: String,
}

impl Conversion {
    /// The converted template's text.
    pub fn render(&self, format: Format) -> String {
        self.template.render(format)
    }

    /// The converted template as a source (YAML) to validate or store, named after the
    /// Tekton file.
    pub fn source(&self) -> Source {
        Source::new(
            format!("{} (converted)", self.from),
            self.render(Format::Yaml),
            Format::Yaml,
        )
    }
}

/// Whether `source` looks like a Tekton template (a mapping with
/// `workflow_definition`), without reading it fully.
pub fn is_tekton(source: &Source) -> bool {
    node::parse(source).is_ok_and(|root| get(&root, "workflow_definition").is_some())
}

/// Converts a Tekton template. Fails only when the file cannot be read as one (not
/// JSON or YAML, no `workflow_definition`, tasks that are not a list or mapping);
/// everything else converts, with a report.
pub fn convert(source: &Source) -> Result<Conversion, Error> {
    let mut c = Converter {
        source,
        diags: Diagnostics::new(source),
        report: Vec::new(),
    };
    let template = match node::parse(source) {
        Err(e) => {
            c.diags.error(&FieldPath::root(), e.offset, e.message);
            None
        }
        Ok(root) => c.template(&root),
    };
    let Converter {
        diags, mut report, ..
    } = c;
    report.sort_by_key(|i| i.position);
    match template {
        Some(template) if !diags.has_errors() => Ok(Conversion {
            template,
            report,
            from: source.name().to_string(),
        }),
        _ => Err(Error::Invalid {
            name: source.name().to_string(),
            diagnostics: diags.finish(),
        }),
    }
}

/// Standard ports of Tekton components (Tekton's `config/port_assignments.md`).
const PORTS: &[(&str, u16)] = &[
    ("engram", 8000),
    ("hermes", 8001),
    ("ergon", 8002),
    ("rhetor", 8003),
    ("terma", 8004),
    ("athena", 8005),
    ("prometheus", 8006),
    ("harmonia", 8007),
    ("telos", 8008),
    ("synthesis", 8009),
    ("tekton_core", 8010),
    ("metis", 8011),
    ("apollo", 8012),
    ("penia", 8013),
    ("sophia", 8014),
    ("noesis", 8015),
    ("numa", 8016),
    ("hephaestus", 8080),
];

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
const TASK_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "component",
    "action",
    "dependencies",
    "parameters",
    "timeout",
];
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

/// The output of a component action: its `result`, or the whole body without one.
const ACTION_OUTPUT: &str =
    r#"${ $output.body | if type == "object" and has("result") then .result else . end }"#;

struct Converter<'s> {
    source: &'s Source,
    diags: Diagnostics<'s>,
    report: Vec<Issue>,
}

/// Names a Jinja expression can refer to.
struct Scope {
    params: HashSet<String>,
    inputs: HashSet<String>,
    /// Tekton task key -> our task name.
    tasks: HashMap<String, String>,
}

/// A task being converted.
struct TaskOut {
    name: String,
    node: Node,
    path: String,
    display: Option<String>,
    description: Option<String>,
    component: Option<String>,
    action: Option<String>,
    needs: Vec<String>,
    timeout: Option<Dur>,
}

fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.kind {
        Kind::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        _ => None,
    }
}

fn string(node: &Node) -> Option<String> {
    match &node.kind {
        Kind::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn pointer(base: &str, key: &str) -> String {
    format!("{base}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// A Tekton key as a task name (`$tasks.NAME` needs an identifier).
fn task_name(key: &str) -> String {
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 't');
    }
    out.chars().take(64).collect()
}

impl Converter<'_> {
    fn issue(&mut self, kind: IssueKind, path: &str, offset: usize, message: impl Into<String>) {
        self.report.push(Issue {
            kind,
            path: path.to_string(),
            message: message.into(),
            position: self.source.position(offset),
        });
    }

    fn fatal(&mut self, path: &FieldPath, offset: usize, message: impl Into<String>) {
        self.diags.error(path, offset, message);
    }

    /// Reports the fields of mapping `node` (at `path`) that are not in `known`.
    fn drop_unknown(&mut self, node: &Node, path: &str, known: &[&str], what: &str) {
        let Kind::Map(entries) = &node.kind else {
            return;
        };
        for (k, v) in entries {
            if !known.contains(&k.name.as_str()) {
                let shown = match &v.kind {
                    Kind::Map(_) | Kind::Seq(_) => String::new(),
                    _ => format!(" ({})", v.to_json()),
                };
                self.issue(
                    IssueKind::Dropped,
                    &pointer(path, &k.name),
                    k.offset,
                    format!("`{}`{shown} of {what} has no equivalent", k.name),
                );
            }
        }
    }

    fn template(&mut self, root: &Node) -> Option<Template> {
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

        let urls_param = if params.names.iter().any(|n| n == "component_urls") {
            "harmonia_component_urls"
        } else {
            "component_urls"
        };
        let mut components: Vec<(String, usize)> = Vec::new();
        let mut body_tasks = Map::new();
        let upstream = upstream_sets(&tasks);
        let keys: Vec<String> = tasks.keys().cloned().collect();
        for key in &keys {
            let Some(task) = tasks.get_mut(key) else {
                continue;
            };
            let (value, component) = self.task(task, &scope, &upstream, urls_param);
            if let Some(c) = component
                && !components.iter().any(|(n, _)| *n == c.0)
            {
                components.push(c);
            }
            body_tasks.insert(task.name.clone(), value);
        }

        let mut schema = params.schema;
        if !components.is_empty() {
            self.add_component_urls(&mut schema, urls_param, &components);
        }
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
        let text = super::render::render(&Value::Object(value), Format::Json);
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

    fn name(&mut self, root: &Node, def: &Node) -> String {
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

    fn tags(&mut self, root: &Node) -> Vec<String> {
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

    fn category(&mut self, root: &Node, def: &Node) -> Option<String> {
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
                    format!("metadata `{}` ({}) has no equivalent", k.name, v.to_json()),
                );
            }
        }
        category.filter(|c| !c.trim().is_empty())
    }

    /// Named entries of a list of objects with `name` (or a mapping keyed by name).
    fn named<'n>(
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

    fn parameters(&mut self, root: &Node) -> Params {
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

    fn inputs(&mut self, def: &Node) -> Option<(Vec<String>, Value)> {
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

    fn outputs(&mut self, def: &Node) {
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

    fn tasks(&mut self, node: &Node) -> Option<IndexMap<String, TaskOut>> {
        if !matches!(node.kind, Kind::Map(_) | Kind::Seq(_)) {
            self.fatal(
                &FieldPath::root().key("workflow_definition").key("tasks"),
                node.offset,
                format!(
                    "expected a list or mapping of tasks, found {}",
                    node.describe()
                ),
            );
            return None;
        }
        let mut out: IndexMap<String, TaskOut> = IndexMap::new();
        let mut used: HashSet<String> = HashSet::new();
        for (key, entry, path) in self.named(node, "/workflow_definition/tasks", "task") {
            if out.contains_key(&key) {
                self.issue(
                    IssueKind::Dropped,
                    &path,
                    entry.offset,
                    format!("a second task `{key}`"),
                );
                continue;
            }
            self.drop_unknown(entry, &path, TASK_FIELDS, &format!("task `{key}`"));
            let mut name = task_name(&key);
            while used.contains(&name) {
                name.push('_');
            }
            if name != key {
                self.issue(
                    IssueKind::Adjusted,
                    &path,
                    entry.offset,
                    format!("the task `{key}` is `{name}` here (task names are identifiers, so that `$tasks.{name}` works)"),
                );
            }
            used.insert(name.clone());
            let timeout =
                get(entry, "timeout").and_then(|t| self.timeout(t, &pointer(&path, "timeout")));
            let display = get(entry, "name").and_then(string).filter(|n| *n != key);
            out.insert(
                key,
                TaskOut {
                    name,
                    node: entry.clone(),
                    path,
                    display,
                    description: get(entry, "description").and_then(string),
                    component: get(entry, "component").and_then(string),
                    action: get(entry, "action").and_then(string),
                    needs: Vec::new(),
                    timeout,
                },
            );
        }
        // Dependencies, now that every task's name is known.
        let names: HashMap<String, String> = out
            .iter()
            .map(|(k, t)| (k.clone(), t.name.clone()))
            .collect();
        let keys: Vec<String> = out.keys().cloned().collect();
        for key in keys {
            let Some(task) = out.get(&key) else { continue };
            let (node, path) = (task.node.clone(), task.path.clone());
            let mut needs = Vec::new();
            if let Some(deps) = get(&node, "dependencies") {
                let dp = pointer(&path, "dependencies");
                let items: Vec<Node> = match &deps.kind {
                    Kind::Seq(items) => items.clone(),
                    Kind::String(_) => vec![deps.clone()],
                    Kind::Null => Vec::new(),
                    _ => {
                        self.issue(
                            IssueKind::Dropped,
                            &dp,
                            deps.offset,
                            "`dependencies` is not a list of task names",
                        );
                        Vec::new()
                    }
                };
                for (i, d) in items.iter().enumerate() {
                    let dep = string(d).unwrap_or_default();
                    match names.get(&dep) {
                        Some(_) if dep == key => {
                            self.issue(
                                IssueKind::Dropped,
                                &format!("{dp}/{i}"),
                                d.offset,
                                format!("task `{key}` depends on itself"),
                            );
                        }
                        Some(n) => {
                            if !needs.contains(n) {
                                needs.push(n.clone());
                            }
                        }
                        None => self.issue(
                            IssueKind::Dropped,
                            &format!("{dp}/{i}"),
                            d.offset,
                            format!(
                                "task `{key}` depends on {}, which is not a task of this workflow",
                                d.to_json()
                            ),
                        ),
                    }
                }
            }
            if let Some(task) = out.get_mut(&key) {
                task.needs = needs;
            }
        }
        Some(out)
    }

    fn timeout(&mut self, node: &Node, path: &str) -> Option<Dur> {
        let dur = match &node.kind {
            Kind::Number(n) => n
                .as_f64()
                .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e12)
                .map(|s| Dur(Duration::from_millis((s * 1000.0).round() as u64))),
            Kind::String(s) => Dur::parse(s).ok().filter(|d| !d.get().is_zero()),
            _ => None,
        };
        if dur.is_none() {
            self.issue(
                IssueKind::Dropped,
                path,
                node.offset,
                format!(
                    "the timeout {} is not a positive number of seconds or a duration",
                    node.to_json()
                ),
            );
        }
        dur
    }

    /// The task as our format, and the component it calls (with where it is named).
    fn task(
        &mut self,
        task: &mut TaskOut,
        scope: &Scope,
        upstream: &HashMap<String, HashSet<String>>,
        urls_param: &str,
    ) -> (Value, Option<(String, usize)>) {
        let mut reads: Vec<String> = Vec::new();
        let params = match get(&task.node, "parameters") {
            Some(p) => {
                let node = p.clone();
                self.values(&node, &pointer(&task.path, "parameters"), scope, &mut reads)
            }
            None => json!({}),
        };
        // Reading a task's output needs it upstream.
        let ups = upstream.get(&task.name).cloned().unwrap_or_default();
        for r in reads {
            if r != task.name && !ups.contains(&r) && !task.needs.contains(&r) {
                self.issue(
                    IssueKind::Adjusted,
                    &task.path,
                    task.node.offset,
                    format!("task `{}` reads the output of `{r}` without depending on it; `{r}` was added to its `needs`", task.name),
                );
                task.needs.push(r);
            }
        }
        let mut out = Map::new();
        let description = match (&task.display, &task.description) {
            (Some(n), Some(d)) => Some(format!("{n}: {d}")),
            (Some(n), None) => Some(n.clone()),
            (None, d) => d.clone(),
        };
        let component = task
            .component
            .as_ref()
            .map(|c| validate::fix_name(c).replace('-', "_"));
        match &component {
            Some(c) if !c.is_empty() => {
                out.insert("type".into(), json!("http"));
                if let Some(d) = description {
                    out.insert("description".into(), Value::String(d));
                }
                if !task.needs.is_empty() {
                    out.insert("needs".into(), json!(task.needs));
                }
                let action = task.action.clone().unwrap_or_else(|| task.name.clone());
                let base = format!("$params.{urls_param}{}", jq_key(c));
                out.insert(
                    "with".into(),
                    json!({
                        "method": "POST",
                        "url": format!("${{ {base} }}/api/actions/{}", escape_literal(&action)),
                        "json": {
                            "action": escape_literal(&action),
                            "params": params,
                            "context": {"execution": "${ $execution.id }", "task": task.name},
                        },
                    }),
                );
                out.insert("output".into(), json!(ACTION_OUTPUT));
            }
            _ => {
                self.issue(
                    IssueKind::Adjusted,
                    &task.path,
                    task.node.offset,
                    format!("task `{}` names no component to call; it only passes its parameters on (a `set` task)", task.name),
                );
                out.insert("type".into(), json!("set"));
                if let Some(d) = description {
                    out.insert("description".into(), Value::String(d));
                }
                if !task.needs.is_empty() {
                    out.insert("needs".into(), json!(task.needs));
                }
                out.insert("with".into(), params);
            }
        }
        if let Some(t) = task.timeout {
            out.insert("timeout".into(), Value::String(t.to_string()));
        }
        let named_at = get(&task.node, "component").map_or(task.node.offset, |n| n.offset);
        (
            Value::Object(out),
            component.filter(|c| !c.is_empty()).map(|c| (c, named_at)),
        )
    }

    fn add_component_urls(
        &mut self,
        schema: &mut Value,
        param: &str,
        components: &[(String, usize)],
    ) {
        let mut props = Map::new();
        let mut required = Vec::new();
        for (c, offset) in components {
            match PORTS.iter().find(|(n, _)| n == c) {
                Some((_, port)) => {
                    props.insert(
                        c.clone(),
                        json!({"type": "string", "description": format!("Base URL of the {c} component"), "default": format!("http://localhost:{port}")}),
                    );
                }
                None => {
                    self.issue(
                        IssueKind::Adjusted,
                        "/workflow_definition/tasks",
                        *offset,
                        format!("`{c}` is not a Tekton component with a standard port: its base URL is a required value of the parameter `{param}.{c}`"),
                    );
                    props.insert(
                        c.clone(),
                        json!({"type": "string", "description": format!("Base URL of the {c} component")}),
                    );
                    required.push(Value::String(c.clone()));
                }
            }
        }
        let mut p = json!({
            "type": "object",
            "description": "Base URLs of the Tekton components the tasks call (POST {base}/api/actions/{action})",
            "properties": props,
        });
        if required.is_empty() {
            p["default"] = json!({});
        } else {
            p["required"] = Value::Array(required);
            if let Some(r) = schema.get_mut("required").and_then(Value::as_array_mut) {
                r.push(json!(param));
            } else {
                schema["required"] = json!([param]);
            }
        }
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert(param.to_string(), p);
        }
    }

    /// A JSON value with its Jinja strings converted; `reads` collects the tasks whose
    /// output it reads.
    fn values(&mut self, node: &Node, path: &str, scope: &Scope, reads: &mut Vec<String>) -> Value {
        match &node.kind {
            Kind::String(s) => self.string_value(s, node.offset, path, scope, reads),
            Kind::Seq(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.values(item, &format!("{path}/{i}"), scope, reads))
                    .collect(),
            ),
            Kind::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    let value = self.values(v, &pointer(path, &k.name), scope, reads);
                    m.insert(k.name.clone(), value);
                }
                Value::Object(m)
            }
            _ => node.to_json(),
        }
    }

    fn string_value(
        &mut self,
        s: &str,
        offset: usize,
        path: &str,
        scope: &Scope,
        reads: &mut Vec<String>,
    ) -> Value {
        let parts = split_jinja(s);
        if parts.iter().all(|p| matches!(p, Piece::Text(_))) {
            return Value::String(escape_literal(s));
        }
        let mut converted: Vec<Result<String, String>> = Vec::new();
        for p in &parts {
            match p {
                Piece::Text(_) => converted.push(Ok(String::new())),
                Piece::Expr(e) => {
                    let r = convert_expr(e, scope);
                    if let Ok((_, tasks)) = &r {
                        reads.extend(tasks.iter().cloned());
                    }
                    converted.push(r.map(|(jq, _)| jq));
                }
                Piece::Block(_) => converted.push(Err(
                    "Jinja statements and comments have no equivalent".to_string(),
                )),
            }
        }
        for (p, c) in parts.iter().zip(&converted) {
            if let Err(why) = c {
                let text = match p {
                    Piece::Expr(e) => format!("{{{{{e}}}}}"),
                    Piece::Block(b) | Piece::Text(b) => b.clone(),
                };
                self.issue(
                    IssueKind::Dropped,
                    path,
                    offset,
                    format!("`{}` was left as it is: {why}", text.trim()),
                );
            }
        }
        // One expression and nothing else: a whole-value expression.
        if let ([Piece::Expr(_)], [Ok(jq)]) = (parts.as_slice(), converted.as_slice()) {
            return Value::String(format!("${{ {jq} }}"));
        }
        let mut out = String::new();
        for (p, c) in parts.iter().zip(converted) {
            match (p, c) {
                (Piece::Text(t), _) => out.push_str(&escape_literal(t)),
                (Piece::Expr(_), Ok(jq)) => {
                    out.push_str("${ ");
                    out.push_str(&jq);
                    out.push_str(" }");
                }
                (Piece::Expr(e), Err(_)) => out.push_str(&escape_literal(&format!("{{{{{e}}}}}"))),
                (Piece::Block(b), _) => out.push_str(&escape_literal(b)),
            }
        }
        Value::String(out)
    }
}

struct Params {
    names: Vec<String>,
    schema: Value,
}

fn schema_is_empty(schema: &Value) -> bool {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty)
        && schema.get("required").is_none()
}

/// For each task (by our name), the tasks upstream of it through declared needs.
fn upstream_sets(tasks: &IndexMap<String, TaskOut>) -> HashMap<String, HashSet<String>> {
    let by_name: HashMap<&str, &TaskOut> = tasks.values().map(|t| (t.name.as_str(), t)).collect();
    let mut out = HashMap::new();
    for t in tasks.values() {
        let mut seen: HashSet<String> = HashSet::new();
        let mut stack: Vec<&str> = t.needs.iter().map(String::as_str).collect();
        while let Some(n) = stack.pop() {
            if seen.insert(n.to_string())
                && let Some(u) = by_name.get(n)
            {
                stack.extend(u.needs.iter().map(String::as_str));
            }
        }
        out.insert(t.name.clone(), seen);
    }
    out
}

/// Text that must stay literal in our format: `${` would start an expression.
fn escape_literal(s: &str) -> String {
    s.replace("${", "$${")
}

/// `.name` when `name` is an identifier, else `["name"]`.
fn jq_key(key: &str) -> String {
    let ident = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        format!(".{key}")
    } else {
        format!("[{}]", Value::String(key.to_string()))
    }
}

/// A piece of a Jinja string.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    /// The inside of `{{ }}`.
    Expr(String),
    /// A `{% %}` or `{# #}`, whole.
    Block(String),
}

fn split_jinja(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(start) = rest.find('{') {
        let after = &rest[start..];
        let close = match after.get(..2) {
            Some("{{") => Some("}}"),
            Some("{%") => Some("%}"),
            Some("{#") => Some("#}"),
            _ => None,
        };
        let Some(close) = close else {
            text.push_str(&rest[..=start]);
            rest = &rest[start + 1..];
            continue;
        };
        let Some(end) = find_close(&after[2..], close) else {
            break;
        };
        text.push_str(&rest[..start]);
        if !text.is_empty() {
            out.push(Piece::Text(std::mem::take(&mut text)));
        }
        let inner = &after[2..2 + end];
        if close == "}}" {
            out.push(Piece::Expr(inner.to_string()));
        } else {
            out.push(Piece::Block(after[..2 + end + 2].to_string()));
        }
        rest = &after[2 + end + 2..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// The offset of `close` in `s`, outside of quoted strings.
fn find_close(s: &str, close: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if s[i..].starts_with(close) => return Some(i),
            None => {}
        }
    }
    None
}

/// A token of a Jinja expression.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Number(String),
    Str(String),
    Punct(char),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Tok::Number(chars[start..i].iter().collect()));
        } else if c == '\'' || c == '"' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("an unclosed string".into()),
                    Some('\\') => {
                        if let Some(n) = chars.get(i + 1) {
                            text.push(match n {
                                'n' => '\n',
                                't' => '\t',
                                other => *other,
                            });
                        }
                        i += 2;
                    }
                    Some(q) if *q == c => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        text.push(*other);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(text));
        } else if ".|()[],".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
        } else if c == '-' {
            return Err("`-` is not supported (Jinja reads `a-b` as a subtraction)".into());
        } else {
            return Err(format!("`{c}` is not supported"));
        }
    }
    Ok(out)
}

/// A Jinja expression as jq, and the tasks (our names) whose output it reads.
fn convert_expr(text: &str, scope: &Scope) -> Result<(String, Vec<String>), String> {
    let toks = lex(text)?;
    if toks.is_empty() {
        return Err("the expression is empty".into());
    }
    let mut p = ExprParser {
        toks: &toks,
        at: 0,
        scope,
        reads: Vec::new(),
    };
    let mut jq = p.primary()?;
    while p.eat(&Tok::Punct('|')) {
        let Some(Tok::Ident(filter)) = p.next() else {
            return Err("expected a filter name after `|`".into());
        };
        if filter != "default" && filter != "d" {
            return Err(format!(
                "the filter `{filter}` has no conversion (only `default` does)"
            ));
        }
        if !p.eat(&Tok::Punct('(')) {
            return Err("expected `(` after `default`".into());
        }
        let fallback = p.primary()?;
        if p.eat(&Tok::Punct(',')) {
            return Err("`default` with a second argument has no conversion".into());
        }
        if !p.eat(&Tok::Punct(')')) {
            return Err("expected `)` after the default value".into());
        }
        jq = format!("{jq} // {fallback}");
    }
    if p.at < toks.len() {
        return Err(
            "only a variable, a task output or a literal, with `| default(...)`, is converted"
                .into(),
        );
    }
    Ok((jq, p.reads))
}

struct ExprParser<'t> {
    toks: &'t [Tok],
    at: usize,
    scope: &'t Scope,
    reads: Vec<String>,
}

impl ExprParser<'_> {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.toks.get(self.at) == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A literal or a path, as jq.
    fn primary(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Number(n)) => n
                .parse::<f64>()
                .map(|_| n.clone())
                .map_err(|_| format!("`{n}` is not a number")),
            Some(Tok::Str(s)) => Ok(Value::String(s).to_string()),
            Some(Tok::Ident(id)) => match id.as_str() {
                "true" | "True" => Ok("true".into()),
                "false" | "False" => Ok("false".into()),
                "none" | "None" | "null" => Ok("null".into()),
                _ => {
                    let mut segs = vec![id];
                    loop {
                        if self.eat(&Tok::Punct('.')) {
                            match self.next() {
                                Some(Tok::Ident(s)) => segs.push(s),
                                Some(Tok::Number(n)) => segs.push(n),
                                _ => return Err("expected a name after `.`".into()),
                            }
                        } else if self.eat(&Tok::Punct('[')) {
                            let seg = match self.next() {
                                Some(Tok::Str(s)) | Some(Tok::Number(s)) => s,
                                _ => {
                                    return Err(
                                        "only `[\"key\"]` and `[0]` subscripts are converted"
                                            .into(),
                                    );
                                }
                            };
                            if !self.eat(&Tok::Punct(']')) {
                                return Err("expected `]`".into());
                            }
                            segs.push(seg);
                        } else {
                            break;
                        }
                    }
                    self.path(&segs)
                }
            },
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("the expression ends too early".into()),
        }
    }

    fn path(&mut self, segs: &[String]) -> Result<String, String> {
        let rest = |from: usize| -> String {
            segs[from..]
                .iter()
                .map(|s| {
                    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                        format!("[{s}]")
                    } else {
                        jq_key(s)
                    }
                })
                .collect()
        };
        let head = segs[0].as_str();
        let task = |key: &str| self.scope.tasks.get(key).cloned();
        // `tasks.NAME.output...` or `NAME.output...`
        let (task_key, from) = if head == "tasks" && segs.len() > 2 {
            (Some(segs[1].as_str()), 2)
        } else {
            (Some(head), 1)
        };
        if let Some(key) = task_key
            && segs
                .get(from)
                .is_some_and(|s| s == "output" || s == "outputs")
            && let Some(name) = task(key)
        {
            self.reads.push(name.clone());
            return Ok(format!("$tasks.{name}.output{}", rest(from + 1)));
        }
        if self.scope.params.contains(head) {
            return Ok(format!("$params{}{}", jq_key(head), rest(1)));
        }
        if self.scope.inputs.contains(head) {
            return Ok(format!("$inputs{}{}", jq_key(head), rest(1)));
        }
        match head {
            "params" | "parameters" if segs.len() > 1 => Ok(format!("$params{}", rest(1))),
            "input" | "inputs" if segs.len() > 1 => Ok(format!("$inputs{}", rest(1))),
            _ => Err(format!(
                "`{}` is not a parameter, an input or a task's output",
                segs.join(".")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            params: ["bug_report", "cov"]
                .into_iter()
                .map(String::from)
                .collect(),
            inputs: ["standards"].into_iter().map(String::from).collect(),
            tasks: [("investigate", "investigate"), ("fix-it", "fix_it")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    fn conv(e: &str) -> Result<String, String> {
        convert_expr(e, &scope()).map(|(jq, _)| jq)
    }

    #[test]
    fn jinja_expressions_become_jq() {
        assert_eq!(conv(" bug_report ").as_deref(), Ok("$params.bug_report"));
        assert_eq!(conv("standards").as_deref(), Ok("$inputs.standards"));
        assert_eq!(
            conv("investigate.output.root_cause").as_deref(),
            Ok("$tasks.investigate.output.root_cause")
        );
        assert_eq!(
            conv("fix-it.output").ok(),
            None,
            "`-` is not part of a name"
        );
        assert_eq!(
            conv("tasks.investigate.output.items[0]").as_deref(),
            Ok("$tasks.investigate.output.items[0]")
        );
        assert_eq!(
            conv("cov | default(80)").as_deref(),
            Ok("$params.cov // 80")
        );
        assert_eq!(
            conv("cov | default('high')").as_deref(),
            Ok("$params.cov // \"high\"")
        );
        assert_eq!(conv("params.x").as_deref(), Ok("$params.x"));
        assert!(conv("cov | upper").is_err());
        assert!(conv("unknown_thing").is_err());
        assert!(conv("a + b").is_err());
    }

    #[test]
    fn strings_split_into_text_and_jinja() {
        assert_eq!(
            split_jinja("a {{ x }} b {% if y %}c{% endif %} {{ '}}' }}"),
            vec![
                Piece::Text("a ".into()),
                Piece::Expr(" x ".into()),
                Piece::Text(" b ".into()),
                Piece::Block("{% if y %}".into()),
                Piece::Text("c".into()),
                Piece::Block("{% endif %}".into()),
                Piece::Text(" ".into()),
                Piece::Expr(" '}}' ".into()),
            ]
        );
        assert_eq!(split_jinja("{ {x} }"), vec![Piece::Text("{ {x} }".into())]);
        assert_eq!(split_jinja("{{ open"), vec![Piece::Text("{{ open".into())]);
    }

    #[test]
    fn task_names_become_identifiers() {
        assert_eq!(task_name("fix-it"), "fix_it");
        assert_eq!(task_name("1st"), "t1st");
        assert_eq!(jq_key("a b"), "[\"a b\"]");
    }
}
