//! What a definition file holds, told from its top-level keys without reading it
//! fully: a workflow, a template, an export document, or an original Tekton template.
//!
//! Invariant: the answer only picks which reader to use; that reader then reports every
//! problem. A file that does not parse is a [`FileKind::Workflow`], so that its syntax
//! error comes from the workflow reader like any other.

use crate::node::{Kind, Node};
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
    crate::parse(source).kind()
}

/// What a parsed document holds, by its top-level keys.
pub(crate) fn kind_of(root: &Node) -> FileKind {
    if has(root, "workflow_definition") {
        FileKind::Tekton
    } else if has(root, "templates") || has(root, "format") {
        FileKind::Document
    } else if has(root, "workflow") || has(root, "parameters") {
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

    /// Loading from the parse that told the kind is loading the text: the same plan,
    /// or the same problems (a syntax error among them).
    #[test]
    fn a_parse_that_told_the_kind_loads_as_the_text_does() {
        let types = crate::task_types::test_types();
        for text in [
            "name: w\ntasks:\n  a: {type: set, with: 1}\n  b: {type: set, needs: [a], with: 2}\n",
            "name: w\ntasks:\n  a: {type: nope}\n  a: {type: set}\n",
            "name: w\ntasks: [unclosed\n",
        ] {
            let source = Source::new("t.yaml", text, Format::Yaml);
            let parsed = crate::parse(&source);
            assert_eq!(parsed.kind(), FileKind::Workflow, "{text}");
            let once = crate::load_parsed(&source, parsed, &types);
            let again = crate::load(&source, &types);
            match (once, again) {
                (Ok(a), Ok(b)) => {
                    // (`Debug` of the whole plan would show a hash map's order.)
                    assert_eq!(a.plan.workflow, b.plan.workflow);
                    assert_eq!(
                        format!("{:?}{:?}", a.plan.tasks, a.plan.order),
                        format!("{:?}{:?}", b.plan.tasks, b.plan.order)
                    );
                    assert_eq!(a.warnings, b.warnings);
                }
                (Err(a), Err(b)) => {
                    assert!(!a.diagnostics().is_empty(), "{text}");
                    assert_eq!(a.diagnostics(), b.diagnostics(), "{text}");
                }
                (a, b) => panic!("{text}: {a:?} against {b:?}"),
            }
        }
    }
}
