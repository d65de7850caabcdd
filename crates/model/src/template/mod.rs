//! Templates: parameterized workflows, their versions, instantiation, diffs, the
//! export/import document, the Tekton converter and the built-in library.
//!
//! A template is a workflow body plus the JSON Schema of its parameters and metadata
//! (see `format` for the format). Its expressions read parameter values as `$params`.
//! This module is pure, like the rest of the crate: storing versions is
//! `harmonia-storage`'s (`Templates::put_template`, `import_templates`, ...), running
//! workflows the engine's. The pieces, one file each:
//!
//! - `format.rs`: [`Template`]; [`read`] (shape and meaning, every problem at once, as
//!   [`crate::Error::Invalid`] with [`crate::Diagnostic`]s whose paths start at the
//!   template's root, e.g. `workflow.tasks.fetch.with.url`), [`read_shape`],
//!   [`Template::content`] (the canonical compact JSON that stores compare),
//!   [`Template::render`], [`Template::from_content`].
//! - `instantiate.rs`: [`instantiate`] -> [`Instance`] (a [`crate::Workflow`] with
//!   `name`, `params` and `template: {name, version}` filled in; render it with
//!   [`Instance::source`]), or [`InstantiateError`] (every [`ParamViolation`] with its
//!   JSON pointer and keyword, or a bad name).
//! - `diff.rs`: [`diff`] of two templates -> a list of [`Change`]
//!   (`{path, change: added|removed|changed, before?, after?}`, JSON pointers, stable
//!   order).
//! - `document.rs`: the export/import [`Document`] (templates with all their
//!   [`TemplateVersion`]s, notes and times), [`Document::read`], [`Document::render`].
//! - `render.rs`: deterministic YAML/JSON text (serde-saphyr's serializer for YAML).
//! - [`tekton`]: [`tekton::convert`] for the original Tekton Harmonia's JSON templates,
//!   with a report of what could not be converted.
//! - `kind.rs`: [`file_kind`], which of the readers a file is for (workflow,
//!   template, export document, Tekton file), by its top-level keys.
//! - `builtin.rs`: the built-in library ([`builtin`], [`BUILTIN`]), YAML files under
//!   `crates/model/templates/` compiled into the binary.
//!
//! How a server or CLI uses it (the CLI's `tests/cli/templates.rs` does each of these
//! against a real store and engine):
//!
//! - Create or update: `read(&source, types)?` -> `put_template(NewTemplateVersion {
//!   name, description, tags, category, note, content: t.content(), source: the text
//!   as sent, format, created_at: now })`; `PutOutcome::Unchanged` when the content is
//!   the latest version's.
//! - Show a version: `Template::from_content(&record.content)` (or the stored source),
//!   plus the record's version, note and time. Diff two: `diff(&a, &b)`.
//! - Instantiate: `instantiate(&t, record.version, name, params)` -> register
//!   `instance.source(format)` as a workflow (the engine's `Plans::register`), then, to
//!   run it at once, start it with `$params` = `instance.params()` (the workflow's
//!   `params`).
//! - Export: every version of every template -> `TemplateVersion { version, created_at:
//!   record.created_at.to_string(), note, template: Template::from_content(..) }` ->
//!   `Document::new(versions).render(format)`. Import: `Document::read(&source,
//!   types)?` -> one `NewTemplateVersion` per `doc.versions()` (content, rendered source,
//!   note, parsed `created_at`) -> `import_templates(&versions, OnConflict::NewVersion
//!   or Fail)` (`Fail` is the strict mode: `Error::Conflict`, a 409). Export -> import
//!   into an empty store -> export gives the same bytes.
//! - Tekton: `tekton::is_tekton(&source)` to detect, `tekton::convert(&source)?` ->
//!   show `conversion.render(format)` and `conversion.report`; validate and store
//!   `conversion.source()` like any template.
//! - Built-ins: on start, store each of [`BUILTIN`] that the store has never had (no
//!   version 1 under its name, so that a user's deletion sticks), with its text as the
//!   source.

mod builtin;
mod diff;
mod document;
mod format;
mod instantiate;
mod kind;
mod render;

/// The YAML text of `value`, as templates are written (see `render.rs`).
pub(crate) fn render_yaml(value: &serde_json::Value) -> String {
    render::render(value, crate::source::Format::Yaml)
}
pub mod tekton;

pub use builtin::{BUILTIN, BUILTIN_CREATED_AT_MS, Builtin, builtin};
pub use diff::{Change, ChangeKind, diff, diff_values};
pub use document::{DOCUMENT_FORMAT, Document, TemplateHistory, TemplateVersion};
pub use format::{LoadedTemplate, Template, read, read_shape};
pub use instantiate::{Instance, InstantiateError, ParamViolation, instantiate, prepare_params};
pub(crate) use kind::kind_of;
pub use kind::{FileKind, file_kind};
