//! The other workflows a definition runs (`type: workflow` tasks), with where each is
//! named, for callers that can tell whether they exist.
//!
//! This crate is pure and knows no store and no files, so whether `workflow: notify`
//! names a workflow that exists is for its callers to check: the server looks in its
//! store when a workflow is created or updated, `harmonia validate` looks beside the
//! file. Both report a missing one as a warning built by [`SubWorkflow::warning`], at
//! the place the name is written: the workflow may be created later, and two workflows
//! may run each other, so neither can be required to exist first.
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
        Diagnostic {
            severity: Severity::Warning,
            path: self.path.clone(),
            task: Some(self.task.clone()),
            message: message.into(),
            position: self.position,
        }
    }
}

/// The workflows that the loaded definition (read from `source`) runs as
/// sub-workflows, in task order.
pub fn sub_workflows(loaded: &Loaded, source: &Source) -> Vec<SubWorkflow> {
    let wf = &loaded.plan.workflow;
    let mut out = Vec::new();
    for (task, t) in &wf.tasks {
        if t.kind != "workflow" {
            continue;
        }
        let Some(name) = t.with.get("workflow").and_then(Value::as_str) else {
            continue;
        };
        if Template::has_expressions(name) || *name == wf.name {
            continue;
        }
        let version = t
            .with
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok());
        let path = FieldPath::root()
            .key("tasks")
            .key(task)
            .key("with")
            .key("workflow");
        out.push(SubWorkflow {
            task: task.clone(),
            name: name.to_string(),
            version,
            position: source.position(loaded.locations.value(&path)),
            path: path.to_string(),
        });
    }
    out
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
