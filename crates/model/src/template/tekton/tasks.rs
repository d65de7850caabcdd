//! The tasks: each Tekton task becomes a `component` task calling its component's action
//! (`with: {component, action, params}`: the engine finds the component in its
//! directory, from the server's config or Hermes, and posts `{action, params, context}`
//! to `{endpoint}/api/actions/{action}`; the output is the answer's `result`), or a `set`
//! task passing its parameters on when it names no component; `dependencies` become
//! `needs` and `timeout` a duration.
//!
//! Invariants: task names are unique identifiers (so that `$tasks.NAME` works), and a
//! renamed task is reported; `needs` names only other tasks of the workflow, each once; a
//! task that reads another's output has it upstream (it is added to `needs`, and that is
//! reported, when it was not).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::converter::{Converter, get, pointer, string};
use super::expr::Scope;
use super::jinja::escape_literal;
use super::report::IssueKind;
use crate::diagnostic::FieldPath;
use crate::duration::Dur;
use crate::node::{Kind, Node};

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

/// A task being converted.
pub(super) struct TaskOut {
    pub(super) name: String,
    node: Node,
    path: String,
    display: Option<String>,
    description: Option<String>,
    component: Option<String>,
    action: Option<String>,
    pub(super) needs: Vec<String>,
    timeout: Option<Dur>,
}

/// A Tekton key as a task name (`$tasks.NAME` needs an identifier).
pub(super) fn task_name(key: &str) -> String {
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 't');
    }
    out.chars().take(64).collect()
}

/// For each task (by our name), the tasks upstream of it through declared needs.
pub(super) fn upstream_sets(tasks: &IndexMap<String, TaskOut>) -> HashMap<String, HashSet<String>> {
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

impl Converter<'_> {
    pub(super) fn tasks(&mut self, node: &Node) -> Option<IndexMap<String, TaskOut>> {
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

    /// The task as our format.
    pub(super) fn task(
        &mut self,
        task: &mut TaskOut,
        scope: &Scope,
        upstream: &HashMap<String, HashSet<String>>,
    ) -> Value {
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
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        match component {
            Some(c) => {
                out.insert("type".into(), json!("component"));
                if let Some(d) = description {
                    out.insert("description".into(), Value::String(d));
                }
                if !task.needs.is_empty() {
                    out.insert("needs".into(), json!(task.needs));
                }
                let action = task.action.clone().unwrap_or_else(|| task.name.clone());
                out.insert(
                    "with".into(),
                    json!({
                        "component": escape_literal(c),
                        "action": escape_literal(&action),
                        "params": params,
                    }),
                );
            }
            None => {
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
        Value::Object(out)
    }
}
