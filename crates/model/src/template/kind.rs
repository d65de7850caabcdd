//! What a definition file holds, told from its top-level keys without reading it
//! fully: a workflow, a template, an export document, or an original Tekton template.
//!
//! Invariant: the answer only picks which reader to use; that reader then reports every
//! problem. A file that does not parse is a [`FileKind::Workflow`], so that its syntax
//! error comes from the workflow reader like any other.

use crate::node::{self, Kind, Node};
use crate::source::Source;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A workflow definition (`tasks:` at the top).
    Workflow,
    /// One template (`workflow:` or `parameters:` at the top).
    Template,
    /// An export document (`format:` or `templates:` at the top).
    Document,
    /// An original Tekton Harmonia template (`workflow_definition:` at the top).
    Tekton,
}

/// What `source` holds, by its top-level keys.
pub fn file_kind(source: &Source) -> FileKind {
    let Ok(root) = node::parse(source) else {
        return FileKind::Workflow;
    };
    if has(&root, "workflow_definition") {
        FileKind::Tekton
    } else if has(&root, "templates") || has(&root, "format") {
        FileKind::Document
    } else if has(&root, "workflow") || has(&root, "parameters") {
        FileKind::Template
    } else {
        FileKind::Workflow
    }
}

fn has(node: &Node, key: &str) -> bool {
    matches!(&node.kind, Kind::Map(entries) if entries.iter().any(|(k, _)| k.name == key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Format;

    fn kind(text: &str) -> FileKind {
        file_kind(&Source::new("t.yaml", text, Format::Yaml))
    }

    #[test]
    fn top_level_keys_tell_the_kind() {
        assert_eq!(kind("name: w\ntasks: {}\n"), FileKind::Workflow);
        assert_eq!(kind("name: t\nworkflow: {tasks: {}}\n"), FileKind::Template);
        assert_eq!(kind("name: t\nparameters: {}\n"), FileKind::Template);
        assert_eq!(
            kind("format: harmonia-templates/1\ntemplates: []\n"),
            FileKind::Document
        );
        assert_eq!(kind("templates: []\n"), FileKind::Document);
        assert_eq!(kind("{\"workflow_definition\": {}}"), FileKind::Tekton);
        assert_eq!(kind("tasks: [unclosed\n"), FileKind::Workflow);
        assert_eq!(kind("- a list\n"), FileKind::Workflow);
    }
}
