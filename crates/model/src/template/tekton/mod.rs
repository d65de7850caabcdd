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
//! - Each task becomes a `component` task calling its component's action: `with:
//!   {component, action, params}`, where `action` is the task's `action` or else its
//!   key. The engine finds the component by name (declared in the server's config, or
//!   registered with Hermes) and posts `{action, params, context}` to
//!   `{endpoint}/api/actions/{action}`, as Tekton components expose actions; the task's
//!   output is the answer's `result` (or the whole answer when it has none).
//!   `dependencies` become `needs`, `timeout` (seconds) a duration, the display `name`
//!   and `description` the task's description.
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
//!
//! Invariants: every field of the Tekton file is converted, or reported with its JSON
//! pointer and its position ([`Issue`]); the report is in the order of the Tekton file;
//! [`convert`] fails only when the file is not a Tekton template at all; a template it
//! returns has passed the template reader's shape check (the converter renders what it
//! built and reads it back), so that only validation remains.
//!
//! Layout, one concept per file: `report` (the report types, re-exported here),
//! `converter` (the state of a conversion and the assembly of the whole template),
//! `fields` (name, tags, category, parameters, inputs, declared outputs), `tasks` (the
//! tasks and the components they call), `jinja` (Jinja strings in values), `expr` (one
//! Jinja expression as jq), and `tests`.
//!
//! [`Template`]: super::Template

mod converter;
mod expr;
mod fields;
mod jinja;
mod report;
mod tasks;
#[cfg(test)]
mod tests;

use crate::Error;
use crate::diagnostic::{Diagnostics, FieldPath};
use crate::node;
use crate::source::Source;

use converter::{Converter, get};
pub use report::{Conversion, Issue, IssueKind};

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
