//! Templates between the model and the store: what creating, exporting, importing and
//! seeding store, for [`crate::Templates`] (and for callers that hold only a store:
//! tests, and a binary seeding before its engine starts).
//!
//! The model reads, checks and renders templates; the store keeps their versions. This
//! module is the glue, so that every caller stores the same fields the same way:
//! - [`new_version`]: a checked template as a version to store (canonical `content`
//!   to compare, the text as sent to show);
//! - [`export`]: every version of the named templates (all when none) as one
//!   [`Document`], whose rendering is deterministic;
//! - [`import`]: a document's versions into the store, keeping their numbers, notes
//!   and times (see the `harmonia_storage::catalog` module doc for the conflict rules);
//! - [`seed_builtins`]: the built-in library, stored once: a built-in a user deleted
//!   stays deleted. Its versions carry the library's fixed time
//!   (`BUILTIN_CREATED_AT_MS`), not the seeding's, so that every server holds the same
//!   built-in versions and exports compare byte for byte.

use harmonia_model::Format;
use harmonia_model::template::{
    BUILTIN, BUILTIN_CREATED_AT_MS, Document, Template, TemplateVersion,
};
use harmonia_storage::prelude::*;
use harmonia_storage::{
    NewTemplateVersion, OnConflict, Store, TemplatePut, TemplateQuery, TemplateRecord, Timestamp,
};

use crate::{Error, Result};

/// `yaml` or `json`, as the store spells formats.
pub fn format_name(format: Format) -> &'static str {
    match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    }
}

/// A checked template as a version to store; `source` is the text as sent.
pub fn new_version(
    t: &Template,
    source: &str,
    format: Format,
    note: Option<&str>,
    created_at: Timestamp,
) -> NewTemplateVersion {
    NewTemplateVersion {
        name: t.name.clone(),
        description: t.description.clone(),
        tags: t.tags.clone(),
        category: t.category.clone(),
        note: note.map(str::to_string),
        content: t.content(),
        source: source.to_string(),
        format: format_name(format).to_string(),
        created_at,
    }
}

/// A stored version as a template; [`Error::Internal`] when it does not read back (the
/// store was changed by hand).
pub fn template_of(r: &TemplateRecord) -> Result<Template> {
    Template::from_content(&r.content).map_err(|e| {
        Error::Internal(format!(
            "template `{}` version {} is stored in a form that does not read: {e}",
            r.name, r.version
        ))
    })
}

/// Every version of the templates named (of every template when `names` is empty);
/// [`Error::NotFound`] for a name no template has.
pub async fn export(store: &dyn Store, names: &[String]) -> Result<Document> {
    let mut selected: Vec<String> = Vec::new();
    if names.is_empty() {
        let mut after = None;
        loop {
            let page = store
                .templates(&TemplateQuery {
                    after: after.clone(),
                    limit: 500,
                    ..TemplateQuery::default()
                })
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.name.clone());
            selected.extend(page.into_iter().map(|r| r.name));
        }
    } else {
        selected = names.to_vec();
    }
    let mut versions = Vec::new();
    for name in &selected {
        let stored = store.template_versions(name).await?;
        if stored.is_empty() {
            return Err(Error::NotFound(format!("no template `{name}`")));
        }
        for r in stored {
            versions.push(TemplateVersion {
                version: r.version,
                created_at: Some(r.created_at.to_string()),
                note: r.note.clone(),
                template: template_of(&r)?,
            });
        }
    }
    Ok(Document::new(versions))
}

/// Stores a document's versions; each keeps its note and time, and its source is its
/// rendering in `format`.
pub async fn import(
    store: &dyn Store,
    doc: &Document,
    format: Format,
    on_conflict: OnConflict,
) -> harmonia_storage::Result<Vec<TemplatePut>> {
    let versions: Vec<NewTemplateVersion> = doc
        .versions()
        .map(|v| {
            let created = v
                .created_at
                .as_deref()
                .and_then(Timestamp::parse)
                .unwrap_or_else(Timestamp::now);
            new_version(
                &v.template,
                &v.template.render(format),
                format,
                v.note.as_deref(),
                created,
            )
        })
        .collect();
    store.import_templates(&versions, on_conflict).await
}

/// Stores each built-in template the store has never had (no version 1 under its
/// name, deleted or not). Returns the names stored.
pub async fn seed_builtins(
    store: &dyn Store,
    types: &harmonia_model::TaskTypes,
) -> harmonia_storage::Result<Vec<String>> {
    let mut seeded = Vec::new();
    for b in BUILTIN {
        let source = b.source();
        // The tests read every built-in; one that did not would be skipped, not fatal.
        let Ok(loaded) = harmonia_model::template::read(&source, types) else {
            tracing::warn!(file = b.file, "a built-in template does not read; skipped");
            continue;
        };
        let t = loaded.template;
        if store.template(&t.name, Some(1)).await?.is_some() {
            continue;
        }
        store
            .put_template(&new_version(
                &t,
                b.text,
                Format::Yaml,
                Some("built in"),
                Timestamp(BUILTIN_CREATED_AT_MS),
            ))
            .await?;
        seeded.push(t.name);
    }
    Ok(seeded)
}
