//! Reading a document tree into a [`Workflow`], reporting every problem of shape.
//!
//! Each field is read by hand rather than by serde derive, because serde stops at the
//! first error and cannot say "did you mean". The reader reports, for every mapping it
//! reads: unknown fields (with the closest known name, or the name Harmonia uses for a
//! field other tools call differently, like `depends_on`), duplicate fields, missing
//! required fields, and values of the wrong shape. It keeps going after a problem, so one
//! run shows them all. Meaning (references between tasks, expressions, parameters) is
//! checked afterwards by `validate`, on the typed result.
//!
//! It also records the byte offset of every field it sees in [`Locations`], so that those
//! later checks can point at the right place.

use indexmap::IndexMap;
use serde_json::Value;

use harmonia_expr::clip;

use crate::definition::{
    Backoff, Concurrency, ConflictPolicy, Defaults, ErrorClass, Join, OnError, RetryPolicy, Task,
    TemplateRef, Workflow,
};
use crate::diagnostic::{Diagnostics, FieldPath, Locations};
use crate::duration::Dur;
use crate::node::{Key, Kind, Node};

/// Names other tools use for our fields, and ours.
const WORKFLOW_ALIASES: &[(&str, &str)] = &[
    ("steps", "tasks"),
    ("jobs", "tasks"),
    ("nodes", "tasks"),
    ("parameters", "inputs"),
    ("arguments", "inputs"),
    ("input", "inputs"),
    ("output", "outputs"),
    ("results", "outputs"),
    ("desc", "description"),
];

const TASK_ALIASES: &[(&str, &str)] = &[
    ("depends_on", "needs"),
    ("dependsOn", "needs"),
    ("depends", "needs"),
    ("dependencies", "needs"),
    ("after", "needs"),
    ("requires", "needs"),
    ("upstream", "needs"),
    ("when", "if"),
    ("condition", "if"),
    ("loop", "for_each"),
    ("items", "for_each"),
    ("with_items", "for_each"),
    ("withItems", "for_each"),
    ("each", "for_each"),
    ("matrix", "for_each"),
    ("parallelism", "concurrency"),
    ("max_parallel", "concurrency"),
    ("max_concurrency", "concurrency"),
    ("params", "with"),
    ("parameters", "with"),
    ("args", "with"),
    ("arguments", "with"),
    ("inputs", "with"),
    ("input", "with"),
    ("config", "with"),
    ("retries", "retry"),
    ("retry_policy", "retry"),
    ("retryStrategy", "retry"),
    ("continue_on_error", "on_error"),
    ("continue-on-error", "on_error"),
    ("ignore_errors", "on_error"),
    ("allow_failure", "on_error"),
    ("timeout_seconds", "timeout"),
    ("timeoutSeconds", "timeout"),
    ("execution_timeout", "timeout"),
    ("kind", "type"),
    ("uses", "type"),
    ("action", "type"),
    ("outputs", "output"),
    ("result", "output"),
    ("desc", "description"),
];

const RETRY_ALIASES: &[(&str, &str)] = &[
    ("attempts", "max_attempts"),
    ("retries", "max_attempts"),
    ("limit", "max_attempts"),
    ("delay", "initial_delay"),
    ("interval", "initial_delay"),
    ("factor", "multiplier"),
    ("backoff_factor", "multiplier"),
    ("on", "retry_on"),
];

/// What a workflow mapping is: a whole definition, or the body of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A definition: `name` is required; `params` and `template` may be set.
    Definition,
    /// A template's `workflow:`: no `name` (given at instantiation), no `params` (given
    /// at instantiation), no `template` (filled in by instantiation).
    TemplateBody,
}

/// Fields a template's body may not have, and why.
const BODY_FORBIDDEN: &[(&str, &str)] = &[
    (
        "$schema",
        "`$schema` belongs at the top of the template, not in its `workflow`",
    ),
    (
        "name",
        "a template's `workflow` has no `name`: the workflow's name is given (or derived from the template's) at instantiation",
    ),
    (
        "params",
        "parameter values are given at instantiation; declare the parameters in the template's `parameters` (a JSON Schema)",
    ),
    (
        "template",
        "`template` is filled in by instantiation (the template's name and version)",
    ),
];

/// Reads the root node. Returns the workflow when its shape allows building one (even if
/// some fields had problems: those fields are left at their defaults).
pub(crate) fn read(
    root: &Node,
    diags: &mut Diagnostics<'_>,
    locs: &mut Locations,
) -> Option<Workflow> {
    Reader::new(diags, locs).workflow(root, Role::Definition)
}

/// Reads a template's `workflow:` node, whose paths and locations are relative to it.
/// The result's `name` is empty.
pub(crate) fn read_body(
    body: &Node,
    diags: &mut Diagnostics<'_>,
    locs: &mut Locations,
) -> Option<Workflow> {
    Reader::new(diags, locs).workflow(body, Role::TemplateBody)
}

/// Reads mappings field by field, collecting problems (also used by the template reader).
pub(crate) struct Reader<'a, 's> {
    pub(crate) diags: &'a mut Diagnostics<'s>,
    pub(crate) locs: &'a mut Locations,
}

/// The known fields of a mapping, first occurrence of each.
pub(crate) struct Fields<'n> {
    entries: Vec<(&'n Key, &'n Node)>,
    pub(crate) offset: usize,
}

impl<'n> Fields<'n> {
    pub(crate) fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| *v)
    }

    /// The offset of the key of field `name`.
    pub(crate) fn key_offset(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(k, _)| k.offset)
    }
}

/// Whether `s` is a `${ }` expression and nothing else.
fn is_whole_expression(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("${") && t.ends_with('}')
}

impl<'a, 's> Reader<'a, 's> {
    pub(crate) fn new(diags: &'a mut Diagnostics<'s>, locs: &'a mut Locations) -> Reader<'a, 's> {
        Reader { diags, locs }
    }

    pub(crate) fn error(&mut self, path: &FieldPath, offset: usize, message: impl Into<String>) {
        self.diags.error(path, offset, message);
    }

    /// Checks that `node` is a mapping, records locations, reports unknown and duplicate
    /// fields, and returns the known ones.
    pub(crate) fn fields<'n>(
        &mut self,
        node: &'n Node,
        path: &FieldPath,
        what: &str,
        known: &[&str],
        aliases: &[(&str, &str)],
    ) -> Option<Fields<'n>> {
        self.fields_with(node, path, what, known, aliases, &[])
    }

    /// [`Reader::fields`], where the unknown fields listed in `moved` get a hint saying
    /// where they belong instead (`("tasks", "`workflow`")`).
    pub(crate) fn fields_with<'n>(
        &mut self,
        node: &'n Node,
        path: &FieldPath,
        what: &str,
        known: &[&str],
        aliases: &[(&str, &str)],
        moved: &[(&str, &str)],
    ) -> Option<Fields<'n>> {
        let Kind::Map(entries) = &node.kind else {
            self.error(
                path,
                node.offset,
                format!("expected {what} (a mapping), found {}", node.describe()),
            );
            return None;
        };
        let mut out = Fields {
            entries: Vec::new(),
            offset: node.offset,
        };
        for (key, value) in entries {
            let field = path.key(&key.name);
            if let Some((first, _)) = out.entries.iter().find(|(k, _)| k.name == key.name) {
                let at = self.diags.source.position(first.offset);
                self.error(
                    &field,
                    key.offset,
                    format!("duplicate field `{}` (first set at {at})", clip(&key.name)),
                );
                continue;
            }
            if !known.contains(&key.name.as_str()) {
                let hint = if let Some((_, place)) = moved.iter().find(|(a, _)| *a == key.name) {
                    format!("; it belongs in {place}")
                } else if let Some((_, ours)) = aliases.iter().find(|(a, _)| *a == key.name) {
                    format!("; Harmonia calls this `{ours}`")
                } else if let Some(s) = harmonia_expr::suggest(&key.name, known.iter().copied()) {
                    format!(" (did you mean `{s}`?)")
                } else {
                    format!("; expected one of: {}", known.join(", "))
                };
                self.error(
                    &field,
                    key.offset,
                    format!("unknown field `{}` in {what}{hint}", clip(&key.name)),
                );
                continue;
            }
            self.locs.set_field(&field, key.offset, value.offset);
            out.entries.push((key, value));
        }
        Some(out)
    }

    pub(crate) fn required<'n>(
        &mut self,
        f: &Fields<'n>,
        path: &FieldPath,
        name: &str,
        what: &str,
        hint: &str,
    ) -> Option<&'n Node> {
        let node = f.get(name);
        if node.is_none() {
            self.error(
                path,
                f.offset,
                format!("missing required field `{name}` in {what}{hint}"),
            );
        }
        node
    }

    pub(crate) fn string(&mut self, node: &Node, path: &FieldPath) -> Option<String> {
        match &node.kind {
            Kind::String(s) => Some(s.clone()),
            _ => {
                self.error(
                    path,
                    node.offset,
                    format!("expected a string, found {}", node.describe()),
                );
                None
            }
        }
    }

    pub(crate) fn duration(&mut self, node: &Node, path: &FieldPath) -> Option<Dur> {
        match &node.kind {
            Kind::String(s) => match Dur::parse(s) {
                Ok(d) => Some(d),
                Err(msg) => {
                    self.error(path, node.offset, msg);
                    None
                }
            },
            Kind::Number(n) => {
                self.error(
                    path,
                    node.offset,
                    format!("expected a duration with a unit, like `{n}s` or `{n}ms`, found the number {n}"),
                );
                None
            }
            _ => {
                self.error(
                    path,
                    node.offset,
                    format!("expected a duration like `30s`, found {}", node.describe()),
                );
                None
            }
        }
    }

    fn bool(&mut self, node: &Node, path: &FieldPath) -> Option<bool> {
        match &node.kind {
            Kind::Bool(b) => Some(*b),
            _ => {
                self.error(
                    path,
                    node.offset,
                    format!("expected true or false, found {}", node.describe()),
                );
                None
            }
        }
    }

    pub(crate) fn integer(
        &mut self,
        node: &Node,
        path: &FieldPath,
        min: u64,
        max: u64,
    ) -> Option<u32> {
        let n = match &node.kind {
            Kind::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u32::MAX as f64)
                    .map(|f| f as u64)
            }),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => u32::try_from(n).ok(),
            _ => {
                let found = match &node.kind {
                    Kind::Number(n) => format!("{n}"),
                    _ => node.describe().to_string(),
                };
                self.error(
                    path,
                    node.offset,
                    format!("expected a whole number from {min} to {max}, found {found}"),
                );
                None
            }
        }
    }

    fn number(&mut self, node: &Node, path: &FieldPath, min: f64, max: f64) -> Option<f64> {
        match &node.kind {
            Kind::Number(n) => match n.as_f64() {
                Some(f) if (min..=max).contains(&f) => Some(f),
                _ => {
                    self.error(
                        path,
                        node.offset,
                        format!("expected a number from {min} to {max}, found {n}"),
                    );
                    None
                }
            },
            _ => {
                self.error(
                    path,
                    node.offset,
                    format!("expected a number, found {}", node.describe()),
                );
                None
            }
        }
    }

    pub(crate) fn one_of<T: Copy>(
        &mut self,
        node: &Node,
        path: &FieldPath,
        what: &str,
        names: &[&str],
        values: &[T],
    ) -> Option<T> {
        let s = self.string(node, path)?;
        if let Some(i) = names.iter().position(|n| *n == s) {
            return values.get(i).copied();
        }
        let hint = harmonia_expr::suggest(&s, names.iter().copied())
            .map(|m| format!(" (did you mean `{m}`?)"))
            .unwrap_or_default();
        self.error(
            path,
            node.offset,
            format!(
                "unknown {what} `{}`{hint}; expected one of: {}",
                clip(&s),
                names.join(", ")
            ),
        );
        None
    }

    /// Records the location of every node under `node` (for later checks on values).
    pub(crate) fn record(&mut self, node: &Node, path: &FieldPath) {
        self.locs.set_value(path, node.offset);
        self.record_below(node, path);
    }

    /// Records the locations of what is under `node` (not of `node` itself).
    fn record_below(&mut self, node: &Node, path: &FieldPath) {
        match &node.kind {
            Kind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.record(item, &path.index(i));
                }
            }
            Kind::Map(entries) => {
                for (k, v) in entries {
                    let p = path.key(&k.name);
                    self.locs.set_field(&p, k.offset, v.offset);
                    self.record_below(v, &p);
                }
            }
            _ => {}
        }
    }

    /// Any JSON value (`with`, `outputs` entries, ...), with duplicate keys reported.
    pub(crate) fn json(&mut self, node: &Node, path: &FieldPath) -> Value {
        self.record(node, path);
        self.duplicates(node, path);
        node.to_json()
    }

    fn duplicates(&mut self, node: &Node, path: &FieldPath) {
        match &node.kind {
            Kind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.duplicates(item, &path.index(i));
                }
            }
            Kind::Map(entries) => {
                for (i, (k, v)) in entries.iter().enumerate() {
                    let p = path.key(&k.name);
                    if let Some((first, _)) = entries[..i].iter().find(|(f, _)| f.name == k.name) {
                        let at = self.diags.source.position(first.offset);
                        self.error(
                            &p,
                            k.offset,
                            format!("duplicate key `{}` (first set at {at})", clip(&k.name)),
                        );
                    }
                    self.duplicates(v, &p);
                }
            }
            _ => {}
        }
    }

    fn workflow(&mut self, root: &Node, role: Role) -> Option<Workflow> {
        let path = FieldPath::root();
        let what = match role {
            Role::Definition => "the workflow",
            Role::TemplateBody => "the template's workflow",
        };
        if root.kind == Kind::Null {
            let message = match role {
                Role::Definition => {
                    "the document is empty; a workflow needs at least `name` and `tasks`"
                }
                Role::TemplateBody => "the template's `workflow` is empty; it needs `tasks`",
            };
            self.error(&path, root.offset, message);
            return None;
        }
        let f = self.fields(root, &path, what, Workflow::FIELDS, WORKFLOW_ALIASES)?;
        if role == Role::TemplateBody {
            for (field, message) in BODY_FORBIDDEN {
                if let Some(offset) = f.key_offset(field) {
                    self.error(&path.key(field), offset, *message);
                }
            }
        }
        let body = role == Role::TemplateBody;
        let schema = f
            .get("$schema")
            .filter(|_| !body)
            .and_then(|n| self.string(n, &path.key("$schema")));
        let name = match role {
            Role::TemplateBody => String::new(),
            Role::Definition => self
                .required(
                    &f,
                    &path,
                    "name",
                    what,
                    " (for example `name: nightly-etl`)",
                )
                .and_then(|n| self.string(n, &path.key("name")))
                .unwrap_or_default(),
        };
        let description = f
            .get("description")
            .and_then(|n| self.string(n, &path.key("description")));
        let template = f
            .get("template")
            .filter(|_| !body)
            .and_then(|n| self.template_ref(n, &path.key("template")));
        let params = f.get("params").filter(|_| !body).and_then(|n| {
            let p = path.key("params");
            let v = self.json(n, &p);
            if v.is_object() {
                Some(v)
            } else {
                self.error(
                    &p,
                    n.offset,
                    format!(
                        "expected the parameter values (a mapping of names to values), found {}",
                        n.describe()
                    ),
                );
                None
            }
        });
        let inputs = f.get("inputs").and_then(|n| {
            let p = path.key("inputs");
            let v = self.json(n, &p);
            if v.is_object() {
                Some(v)
            } else {
                self.error(
                    &p,
                    n.offset,
                    format!("expected a JSON Schema (a mapping like `{{type: object, properties: ...}}`), found {}", n.describe()),
                );
                None
            }
        });
        let outputs = f
            .get("outputs")
            .map_or_else(IndexMap::new, |n| self.outputs(n, &path.key("outputs")));
        let defaults = f.get("defaults").map_or_else(Defaults::default, |n| {
            self.defaults(n, &path.key("defaults"))
        });
        let timeout = f
            .get("timeout")
            .and_then(|n| self.duration(n, &path.key("timeout")));
        let triggers = f
            .get("triggers")
            .map_or_else(Vec::new, |n| self.triggers(n, &path.key("triggers")));
        let concurrency = f
            .get("concurrency")
            .and_then(|n| self.concurrency(n, &path.key("concurrency")));
        let tasks = self
            .required(&f, &path, "tasks", what, "")
            .map(|n| self.tasks(n, &path.key("tasks")))
            .unwrap_or_default();
        let mut handler = |block: &str| {
            f.get(block)
                .map_or_else(IndexMap::new, |n| self.handler_tasks(n, &path.key(block)))
        };
        let (on_failure, on_success, finally) = (
            handler("on_failure"),
            handler("on_success"),
            handler("finally"),
        );
        Some(Workflow {
            schema,
            name,
            description,
            template,
            params,
            inputs,
            outputs,
            defaults,
            timeout,
            triggers,
            concurrency,
            tasks,
            on_failure,
            on_success,
            finally,
        })
    }

    /// A block of handler tasks: tasks like `tasks`, but the block may be empty.
    fn handler_tasks(&mut self, node: &Node, path: &FieldPath) -> IndexMap<String, Task> {
        if matches!(&node.kind, Kind::Map(entries) if entries.is_empty()) {
            return IndexMap::new();
        }
        self.tasks(node, path)
    }

    fn concurrency(&mut self, node: &Node, path: &FieldPath) -> Option<Concurrency> {
        let what = "`concurrency`";
        let f = self.fields(
            node,
            path,
            what,
            Concurrency::FIELDS,
            &[
                ("group", "key"),
                ("max", "limit"),
                ("max_concurrent", "limit"),
                ("policy", "on_conflict"),
                ("strategy", "on_conflict"),
            ],
        )?;
        let key = f.get("key").and_then(|n| self.string(n, &path.key("key")));
        let limit = f
            .get("limit")
            .and_then(|n| self.integer(n, &path.key("limit"), 1, 10_000));
        let on_conflict = f.get("on_conflict").and_then(|n| {
            self.one_of(
                n,
                &path.key("on_conflict"),
                "on_conflict",
                &ConflictPolicy::NAMES,
                &ConflictPolicy::ALL,
            )
        });
        Some(Concurrency {
            key,
            limit,
            on_conflict,
        })
    }

    fn template_ref(&mut self, node: &Node, path: &FieldPath) -> Option<TemplateRef> {
        let f = self.fields(
            node,
            path,
            "`template`",
            TemplateRef::FIELDS,
            &[("id", "name"), ("template", "name")],
        )?;
        let name = self
            .required(&f, path, "name", "`template`", " (the template's name)")
            .and_then(|n| self.string(n, &path.key("name")));
        let version = self
            .required(
                &f,
                path,
                "version",
                "`template`",
                " (the template's version, from 1)",
            )
            .and_then(|n| self.integer(n, &path.key("version"), 1, u64::from(u32::MAX)));
        Some(TemplateRef {
            name: name?,
            version: version?,
        })
    }

    fn outputs(&mut self, node: &Node, path: &FieldPath) -> IndexMap<String, Value> {
        let Kind::Map(entries) = &node.kind else {
            self.error(
                path,
                node.offset,
                format!(
                    "expected a mapping of output names to expressions, found {}",
                    node.describe()
                ),
            );
            return IndexMap::new();
        };
        self.locs.set_value(path, node.offset);
        let mut out = IndexMap::new();
        for (k, v) in entries {
            let p = path.key(&k.name);
            if out.contains_key(&k.name) {
                self.error(
                    &p,
                    k.offset,
                    format!("duplicate output `{}`", clip(&k.name)),
                );
                continue;
            }
            self.locs.set_key(&p, k.offset);
            let value = self.json(v, &p);
            out.insert(k.name.clone(), value);
        }
        out
    }

    fn defaults(&mut self, node: &Node, path: &FieldPath) -> Defaults {
        let Some(f) = self.fields(
            node,
            path,
            "`defaults`",
            Defaults::FIELDS,
            &[("retries", "retry")],
        ) else {
            return Defaults::default();
        };
        Defaults {
            retry: f
                .get("retry")
                .and_then(|n| self.retry(n, &path.key("retry"))),
            timeout: f
                .get("timeout")
                .and_then(|n| self.duration(n, &path.key("timeout"))),
        }
    }

    fn tasks(&mut self, node: &Node, path: &FieldPath) -> IndexMap<String, Task> {
        let Kind::Map(entries) = &node.kind else {
            let hint = if matches!(node.kind, Kind::Seq(_)) {
                "; write tasks as a mapping from name to task, like `tasks: {fetch: {type: http, ...}}`"
            } else {
                ""
            };
            self.error(
                path,
                node.offset,
                format!(
                    "expected a mapping of task names to tasks, found {}{hint}",
                    node.describe()
                ),
            );
            return IndexMap::new();
        };
        self.locs.set_value(path, node.offset);
        if entries.is_empty() {
            self.error(path, node.offset, "a workflow needs at least one task");
        }
        let mut out = IndexMap::new();
        for (k, v) in entries {
            let p = path.key(&k.name);
            if out.contains_key(&k.name) {
                let first = entries
                    .iter()
                    .find(|(f, _)| f.name == k.name)
                    .map_or(0, |(f, _)| f.offset);
                let at = self.diags.source.position(first);
                self.error(
                    &p,
                    k.offset,
                    format!(
                        "duplicate task name `{}` (first defined at {at})",
                        clip(&k.name)
                    ),
                );
                continue;
            }
            self.locs.set_field(&p, k.offset, v.offset);
            check_task_name(self, &p, k);
            let task = self.task(v, &p).unwrap_or_else(|| Task::new(""));
            out.insert(k.name.clone(), task);
        }
        out
    }

    fn task(&mut self, node: &Node, path: &FieldPath) -> Option<Task> {
        let what = format!("task `{}`", clip(path.task().unwrap_or("")));
        let f = self.fields(node, path, &what, Task::FIELDS, TASK_ALIASES)?;
        let mut task = Task::new("");
        if let Some(n) = self.required(&f, path, "type", &what, " (for example `type: http`)") {
            task.kind = self.string(n, &path.key("type")).unwrap_or_default();
        }
        task.description = f
            .get("description")
            .and_then(|n| self.string(n, &path.key("description")));
        if let Some(n) = f.get("needs") {
            task.needs = self.needs(n, &path.key("needs"));
        }
        if let Some(n) = f.get("if") {
            task.condition = self.condition(n, &path.key("if"));
        }
        if let Some(n) = f.get("join") {
            task.join = self
                .one_of(
                    n,
                    &path.key("join"),
                    "join",
                    Join::NAMES,
                    &[Join::All, Join::Any, Join::AllDone],
                )
                .unwrap_or_default();
        }
        if let Some(n) = f.get("on_error") {
            task.on_error = self
                .one_of(
                    n,
                    &path.key("on_error"),
                    "on_error",
                    OnError::NAMES,
                    &[OnError::Fail, OnError::Continue, OnError::Pause],
                )
                .unwrap_or_default();
        }
        if let Some(n) = f.get("with") {
            task.with = self.json(n, &path.key("with"));
        }
        if let Some(n) = f.get("for_each") {
            task.for_each = self.for_each(n, &path.key("for_each"));
        }
        if let Some(n) = f.get("concurrency") {
            task.concurrency = self.integer(n, &path.key("concurrency"), 1, 100_000);
        }
        if let Some(n) = f.get("output") {
            task.output = self.string(n, &path.key("output"));
        }
        if let Some(n) = f.get("retry") {
            task.retry = self.retry(n, &path.key("retry"));
        }
        if let Some(n) = f.get("timeout") {
            task.timeout = self.duration(n, &path.key("timeout"));
        }
        for (field, noun, runs) in [
            (
                "compensate",
                "compensation",
                "it runs when the execution fails, after the compensations of the tasks that depend on its task",
            ),
            (
                "fallback",
                "fallback",
                "it runs when every attempt of its task failed, with its task's dependencies",
            ),
        ] {
            let Some(n) = f.get(field) else { continue };
            let p = path.key(field);
            self.locs.set_value(&p, n.offset);
            let Some(mut c) = self.task(n, &p) else {
                continue;
            };
            let nested = [
                ("needs", !c.needs.is_empty()),
                ("compensate", c.compensate.is_some()),
                ("fallback", c.fallback.is_some()),
            ];
            for (inner, set) in nested {
                if set {
                    let offset = self.locs.key(&p.key(inner));
                    self.error(
                        &p.key(inner),
                        offset,
                        format!("a {noun} takes no `{inner}`: {runs}"),
                    );
                }
            }
            // Reported once: validation need not report them again.
            c.needs.clear();
            c.compensate = None;
            c.fallback = None;
            if field == "compensate" {
                task.compensate = Some(Box::new(c));
            } else {
                task.fallback = Some(Box::new(c));
            }
        }
        Some(task)
    }

    fn needs(&mut self, node: &Node, path: &FieldPath) -> Vec<String> {
        match &node.kind {
            Kind::String(s) => vec![s.clone()],
            Kind::Seq(items) => {
                let mut out: Vec<String> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let p = path.index(i);
                    self.locs.set_value(&p, item.offset);
                    if let Some(s) = self.string(item, &p) {
                        if out.contains(&s) {
                            self.error(&p, item.offset, format!("`{}` is listed twice", clip(&s)));
                        } else {
                            out.push(s);
                        }
                    }
                }
                out
            }
            _ => {
                self.error(
                    path,
                    node.offset,
                    format!(
                        "expected a task name or a list of task names, found {}",
                        node.describe()
                    ),
                );
                Vec::new()
            }
        }
    }

    fn condition(&mut self, node: &Node, path: &FieldPath) -> Option<Value> {
        match &node.kind {
            Kind::Bool(b) => Some(Value::Bool(*b)),
            Kind::String(s) if is_whole_expression(s) => Some(Value::String(s.clone())),
            Kind::String(s) => {
                self.error(
                    path,
                    node.offset,
                    format!("`if` must be a `${{ }}` expression or a boolean; did you mean `${{ {} }}`?", clip(s.trim())),
                );
                None
            }
            _ => {
                self.error(
                    path,
                    node.offset,
                    format!(
                        "expected a `${{ }}` expression or a boolean, found {}",
                        node.describe()
                    ),
                );
                None
            }
        }
    }

    fn for_each(&mut self, node: &Node, path: &FieldPath) -> Option<Value> {
        match &node.kind {
            Kind::Seq(_) => Some(self.json(node, path)),
            Kind::String(s) if is_whole_expression(s) => Some(Value::String(s.clone())),
            _ => {
                let found = match &node.kind {
                    Kind::String(s) => crate::json_errors::describe(&Value::String(s.clone())),
                    _ => node.describe().to_string(),
                };
                self.error(
                    path,
                    node.offset,
                    format!("`for_each` must be a list or a `${{ }}` expression that yields one, found {found}"),
                );
                None
            }
        }
    }

    fn retry(&mut self, node: &Node, path: &FieldPath) -> Option<RetryPolicy> {
        if let Kind::Number(n) = &node.kind {
            self.error(
                path,
                node.offset,
                format!("expected a retry policy (a mapping like `{{max_attempts: {n}}}`), found a number"),
            );
            return None;
        }
        let f = self.fields(
            node,
            path,
            "the retry policy",
            RetryPolicy::FIELDS,
            RETRY_ALIASES,
        )?;
        let mut r = RetryPolicy::default();
        if let Some(n) = f.get("max_attempts") {
            r.max_attempts = self.integer(n, &path.key("max_attempts"), 1, 1000);
        }
        if let Some(n) = f.get("backoff") {
            r.backoff = self.one_of(
                n,
                &path.key("backoff"),
                "backoff",
                Backoff::NAMES,
                &[Backoff::Fixed, Backoff::Linear, Backoff::Exponential],
            );
        }
        if let Some(n) = f.get("initial_delay") {
            r.initial_delay = self.duration(n, &path.key("initial_delay"));
        }
        if let Some(n) = f.get("max_delay") {
            r.max_delay = self.duration(n, &path.key("max_delay"));
        }
        if let Some(n) = f.get("multiplier") {
            r.multiplier = self.number(n, &path.key("multiplier"), 1.0, 100.0);
        }
        if let Some(n) = f.get("jitter") {
            r.jitter = self.bool(n, &path.key("jitter"));
        }
        if let Some(n) = f.get("retry_on") {
            r.retry_on = self.retry_on(n, &path.key("retry_on"));
        }
        if let (Some(a), Some(b)) = (r.initial_delay, r.max_delay)
            && a > b
        {
            let p = path.key("initial_delay");
            let offset = self.locs.value(&p);
            self.error(
                &p,
                offset,
                format!("`initial_delay` ({a}) is longer than `max_delay` ({b})"),
            );
        }
        Some(r)
    }

    fn retry_on(&mut self, node: &Node, path: &FieldPath) -> Option<Vec<ErrorClass>> {
        let names: Vec<&str> = ErrorClass::ALL.iter().map(|c| c.name()).collect();
        let items = match &node.kind {
            Kind::Seq(items) => items,
            _ => {
                self.error(
                    path,
                    node.offset,
                    format!(
                        "expected a list of error classes, found {}",
                        node.describe()
                    ),
                );
                return None;
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = path.index(i);
            self.locs.set_value(&p, item.offset);
            if let Some(c) = self.one_of(item, &p, "error class", &names, &ErrorClass::ALL)
                && !out.contains(&c)
            {
                out.push(c);
            }
        }
        Some(out)
    }
}

fn check_task_name(r: &mut Reader<'_, '_>, path: &FieldPath, key: &Key) {
    let name = &key.name;
    let valid = name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        let fixed: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let fixed = if fixed.starts_with(|c: char| c.is_ascii_digit()) {
            format!("t{fixed}")
        } else {
            fixed
        };
        let hint = if name.len() > 64 {
            "task names are at most 64 characters".to_string()
        } else {
            format!("try `{fixed}`")
        };
        r.error(
            path,
            key.offset,
            format!(
                "invalid task name `{}`: use letters, digits and `_`, starting with a letter or `_`, so that `$tasks.NAME` works in expressions; {hint}",
                clip(name)
            ),
        );
    }
}
