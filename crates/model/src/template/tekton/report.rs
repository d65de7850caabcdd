//! The report of a Tekton conversion: what happened to each thing that could not be
//! carried over exactly ([`IssueKind`], [`Issue`]), and the [`Conversion`] that holds the
//! converted template with its report. All three are re-exported by the parent module,
//! which is their public path.
//!
//! Invariants: an [`Issue`] names its place in the Tekton file twice, as a JSON pointer
//! (`path`) and as a line and column (`position`, flattened into its serialized form);
//! [`IssueKind`] serializes as `dropped` or `adjusted`, the same text as
//! [`IssueKind::as_str`].

use serde::Serialize;

use crate::source::{Format, Position, Source};
use crate::template::format::Template;

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
