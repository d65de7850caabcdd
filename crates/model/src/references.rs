//! What a definition names outside itself, with where each is named, for callers that
//! can tell whether it exists: the other workflows it runs (`type: workflow` tasks,
//! [`sub_workflows`]) and the components it calls (`type: component`, [`components`]).
//!
//! This crate is pure and knows no store and no files, so whether `workflow: notify`
//! names a workflow that exists is for its callers to check: the server looks in its
//! store when a workflow is created or updated, `harmonia validate` looks beside the
//! file. Both report a missing one as a warning built by [`SubWorkflow::warning`], at
//! the place the name is written: the workflow may be created later, and two workflows
//! may run each other, so neither can be required to exist first.
//!
//! Components are the same: the directory may learn one later (from Hermes), so an
//! unknown one is a warning, and a clear error when the task runs.
//!
//! Only names written as plain text are listed: a name computed by an expression
//! (`workflow: "${ $inputs.flow }"`) is known only at run time. A task that runs the
//! workflow it belongs to is not listed either (it exists once this one is stored).

use harmonia_expr::Template;
use serde_json::Value;

use crate::diagnostic::{Diagnostic, FieldPath, Severity};
use crate::source::Source;
use crate::{Loaded, Position};

/// A `type: workflow` task's static reference to another workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubWorkflow {
    /// The task that runs it.
    pub task: String,
    /// The workflow's name.
    pub name: String,
    /// The version asked for, when the task pins one.
    pub version: Option<u32>,
    /// Where the name is written (`tasks.TASK.with.workflow`).
    pub path: String,
    /// Where, in the source.
    pub position: Position,
}

impl SubWorkflow {
    /// A warning about this reference, at the place its name is written.
    pub fn warning(&self, message: impl Into<String>) -> Diagnostic {
        warning_at(&self.path, &self.task, self.position, message.into())
    }
}

/// A warning about a task's reference written at `path`.
fn warning_at(path: &str, task: &str, position: Position, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        path: path.to_string(),
        task: Some(task.to_string()),
        message,
        position,
    }
}

/// A `type: component` task's static reference to a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRef {
    /// The task that calls it.
    pub task: String,
    /// The component's name.
    pub name: String,
    /// Where the name is written (`tasks.TASK.with.component`).
    pub path: String,
    /// Where, in the source.
    pub position: Position,
}

impl ComponentRef {
    /// A warning about this reference, at the place its name is written.
    pub fn warning(&self, message: impl Into<String>) -> Diagnostic {
        warning_at(&self.path, &self.task, self.position, message.into())
    }
}

/// One static name: the task, its `with:`, the name, its path and position.
struct Named<'a> {
    task: &'a String,
    with: &'a Value,
    name: &'a str,
    path: FieldPath,
    position: Position,
}

/// The tasks of `kind` whose `with.<key>` is plain text.
fn named<'a>(loaded: &'a Loaded, source: &Source, kind: &str, key: &str) -> Vec<Named<'a>> {
    let wf = &loaded.plan.workflow;
    let mut out = Vec::new();
    for (task, t) in &wf.tasks {
        if t.kind != kind {
            continue;
        }
        let Some(name) = t.with.get(key).and_then(Value::as_str) else {
            continue;
        };
        if Template::has_expressions(name) {
            continue;
        }
        let path = FieldPath::root()
            .key("tasks")
            .key(task)
            .key("with")
            .key(key);
        out.push(Named {
            task,
            with: &t.with,
            name,
            position: source.position(loaded.locations.value(&path)),
            path,
        });
    }
    out
}

/// The workflows that the loaded definition (read from `source`) runs as
/// sub-workflows, in task order.
pub fn sub_workflows(loaded: &Loaded, source: &Source) -> Vec<SubWorkflow> {
    let own = &loaded.plan.workflow.name;
    named(loaded, source, "workflow", "workflow")
        .into_iter()
        .filter(|n| n.name != own)
        .map(|n| SubWorkflow {
            task: n.task.clone(),
            name: n.name.to_string(),
            version: n
                .with
                .get("version")
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok()),
            path: n.path.to_string(),
            position: n.position,
        })
        .collect()
}

/// The components that the loaded definition (read from `source`) calls, in task
/// order.
pub fn components(loaded: &Loaded, source: &Source) -> Vec<ComponentRef> {
    named(loaded, source, "component", "component")
        .into_iter()
        .map(|n| ComponentRef {
            task: n.task.clone(),
            name: n.name.to_string(),
            path: n.path.to_string(),
            position: n.position,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, load};

    #[test]
    fn static_names_are_listed_with_their_place() {
        let text = "name: parent
tasks:
  a: {type: workflow, with: {workflow: child}}
  b: {type: workflow, with: {workflow: other, version: 3}}
  c: {type: workflow, with: {workflow: '${ $inputs.flow }'}}
  d: {type: workflow, with: {workflow: parent}}
  e: {type: set, with: {workflow: nope}}
";
        let source = Source::new("p.yaml", text, Format::Yaml);
        let loaded = load(&source, &crate::task_types::test_types()).expect("valid");
        let found = sub_workflows(&loaded, &source);
        let short: Vec<(&str, &str, Option<u32>, String)> = found
            .iter()
            .map(|s| {
                (
                    s.task.as_str(),
                    s.name.as_str(),
                    s.version,
                    s.position.to_string(),
                )
            })
            .collect();
        assert_eq!(
            short,
            vec![
                ("a", "child", None, "3:40".to_string()),
                ("b", "other", Some(3), "4:40".to_string()),
            ]
        );
        let w = found[0].warning("missing");
        assert_eq!(
            w.render("p.yaml"),
            "p.yaml:3:40: warning: tasks.a.with.workflow: missing"
        );
        assert_eq!(w.task.as_deref(), Some("a"));
    }
}
