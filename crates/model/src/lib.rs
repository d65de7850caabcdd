//! Workflow definitions: the format, reading it with locations, validating it, and the
//! format's own JSON Schema.
//!
//! ```
//! use harmonia_model::{Format, Source, TaskType, TaskTypes, load};
//!
//! // The engine's task kinds describe the real types; this one takes any `with`.
//! let mut types = TaskTypes::empty();
//! types.register(TaskType::new("set", "Outputs `with`.", serde_json::json!({}), None).expect("a schema"));
//! let text = "name: hello\ntasks:\n  greet: {type: set, with: {msg: hi}}\n";
//! let source = Source::new("hello.yaml", text, Format::Yaml);
//! let loaded = load(&source, &types).expect("valid");
//! assert_eq!(loaded.plan.tasks[0].name, "greet");
//! ```
//!
//! The pipeline, one module each:
//! 1. `node`: the text becomes a tree of nodes that know their byte offsets (YAML 1.2,
//!    so JSON too).
//! 2. `read`: the tree becomes a [`Workflow`]; problems of shape (unknown fields with
//!    "did you mean", wrong types, bad durations) are collected, not fatal.
//! 3. `validate`: problems of meaning (references, cycles, expressions, parameters,
//!    input schema) are collected, and a valid workflow is compiled into a [`Plan`].
//!
//! [`load`] runs all three and returns every problem at once, in source order, each a
//! [`Diagnostic`] with its field path and line:column. The [`TaskTypes`] registry says
//! which task types exist and what parameters each takes.
//!
//! [`sub_workflows`] lists the other workflows a definition runs, and [`components`]
//! the components it calls, for callers that can tell whether they exist (a store,
//! files beside the definition, a component directory).
//!
//! [`template`] holds templates: parameterized workflows read and checked the same way,
//! instantiated into workflows, diffed, exported and imported as one document format,
//! converted from the original Tekton Harmonia's files, and a built-in library.
//!
//! [`analysis`] finds what could make a valid workflow faster or sturdier (its critical
//! path, needless `needs`, missing timeouts and retries, unbounded fan-outs), from its
//! plan and optionally past durations.
//!
//! This crate is pure: it reads no files and knows nothing of execution.

pub mod analysis;
mod declared;
mod definition;
mod diagnostic;
mod duration;
pub mod graph;
mod inputs;
mod json_errors;
mod node;
mod plan;
mod read;
mod read_triggers;
mod references;
mod schedule;
pub mod schema;
mod source;
mod task_types;
pub mod template;
mod validate;
pub mod yaml;

pub use definition::{
    Backoff, Catchup, Concurrency, ConflictPolicy, Defaults, ErrorClass, EventTrigger,
    HmacAlgorithm, Join, OnError, Overlap, Preset, RetryPolicy, ScheduleTrigger, SignatureEncoding,
    Task, TemplateRef, Trigger, Verify, WebhookTrigger, Workflow,
};
pub use diagnostic::{Diagnostic, FieldPath, Locations, Severity};
pub use duration::{DURATION_PATTERN, Dur};
/// The bounded quoting of user text in messages (see [`harmonia_expr::clip`]).
pub use harmonia_expr::clip;
pub use inputs::{InputViolation, SchemaProblem};
pub use plan::{
    ConcurrencyPlan, Condition, EventPlan, ForEach, InputSchema, Phase, Plan, PlanTask,
    PlanTrigger, Retry, WebhookPlan,
};
pub use references::{ComponentRef, SubWorkflow, components, sub_workflows};
pub use schedule::{SchedulePlan, parse_cron, parse_timezone};
pub use source::{Format, Position, Source};
pub use task_types::{Deferred, ParamCheck, ParamProblem, SchemaError, TaskType, TaskTypes};
pub use validate::RESULT_FIELDS;

use diagnostic::Diagnostics;

/// What can go wrong loading a definition.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The definition has problems; every one of them is listed.
    #[error("{name}: invalid workflow definition ({} problem{})", count_errors(diagnostics), if count_errors(diagnostics) == 1 { "" } else { "s" })]
    Invalid {
        /// The source's name.
        name: String,
        /// Every problem found (errors and warnings), in source order.
        diagnostics: Vec<Diagnostic>,
    },
}

fn count_errors(d: &[Diagnostic]) -> usize {
    d.iter().filter(|d| d.severity == Severity::Error).count()
}

impl Error {
    /// The diagnostics of an invalid definition.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Invalid { diagnostics, .. } => diagnostics,
        }
    }
}

/// A valid definition: its plan, and warnings about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The compiled workflow.
    pub plan: Plan,
    /// Things that work but are probably not meant.
    pub warnings: Vec<Diagnostic>,
    /// Where each field is in the source.
    pub locations: Locations,
}

/// A definition's text, parsed once: what [`template::file_kind`] looks at to tell
/// which reader a file is for, and what [`load_parsed`] reads, so that a caller that
/// needs both (`harmonia validate`) parses the text once.
#[derive(Debug)]
pub struct Parsed(Result<node::Node, node::SyntaxError>);

impl Parsed {
    /// What the text holds, by its top-level keys (see [`template::FileKind`]).
    pub fn kind(&self) -> template::FileKind {
        match &self.0 {
            Ok(root) => template::kind_of(root),
            // Its syntax error comes from the workflow reader like any other.
            Err(_) => template::FileKind::Workflow,
        }
    }
}

/// Parses `source` (YAML or JSON), keeping a syntax error for the reader to report.
pub fn parse(source: &Source) -> Parsed {
    Parsed(node::parse(source))
}

/// Reads and validates a definition; returns its plan, or every problem found.
pub fn load(source: &Source, types: &TaskTypes) -> Result<Loaded, Error> {
    load_parsed(source, parse(source), types)
}

/// [`load`] of a text [`parse`]d already; `parsed` must be `source` parsed.
pub fn load_parsed(source: &Source, parsed: Parsed, types: &TaskTypes) -> Result<Loaded, Error> {
    let mut diags = Diagnostics::new(source);
    let mut locations = Locations::default();
    let plan = match parsed.0 {
        Err(e) => {
            diags.error(&FieldPath::root(), e.offset, e.message);
            None
        }
        Ok(root) => read::read(&root, &mut diags, &mut locations)
            .and_then(|wf| validate::validate(&wf, &locations, types, None, &mut diags)),
    };
    let has_errors = diags.has_errors();
    let diagnostics = diags.finish();
    match plan {
        Some(plan) if !has_errors => Ok(Loaded {
            plan,
            warnings: diagnostics,
            locations,
        }),
        _ => Err(Error::Invalid {
            name: source.name().to_string(),
            diagnostics,
        }),
    }
}

/// Reads a definition without validating its meaning: only its shape. Useful to show or
/// convert a definition that may not validate yet.
pub fn read(source: &Source) -> Result<Workflow, Error> {
    let mut diags = Diagnostics::new(source);
    let mut locations = Locations::default();
    let wf = match node::parse(source) {
        Err(e) => {
            diags.error(&FieldPath::root(), e.offset, e.message);
            None
        }
        Ok(root) => read::read(&root, &mut diags, &mut locations),
    };
    let has_errors = diags.has_errors();
    match wf {
        Some(wf) if !has_errors => Ok(wf),
        _ => Err(Error::Invalid {
            name: source.name().to_string(),
            diagnostics: diags.finish(),
        }),
    }
}
