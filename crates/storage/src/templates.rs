//! Templates as a kind of document ([`TemplateDoc`]), and the templates role by its
//! names: `put_template`, `template`, ... over their catalog ([`Catalog<TemplateDoc>`]).
//!
//! Templates are versioned documents with change notes, compared by their canonical
//! `content` (never their source text), listed by tag, category and a name search, and
//! imported from export documents (see the [`catalog`](crate::catalog) module doc for
//! the contract: `put_template` is its `put`, `import_templates` its `import`).
//!
//! These methods are fixed: [`Templates`] is implemented for every catalog of templates
//! and for nothing else, so a backend implements [`Catalog`] (once, for every kind) and
//! never this.

use async_trait::async_trait;

use crate::catalog::{Catalog, Document};
use crate::records::{NewTemplateVersion, OnConflict, TemplatePut, TemplateQuery, TemplateRecord};
use crate::{DEFAULT_LIMIT, Result, TemplateId};

/// Templates as a kind of document: versions compared by their canonical content (not
/// their source text), with change notes, listed by tag, category and a name search.
#[derive(Debug, Clone, Copy)]
pub struct TemplateDoc;

impl Document for TemplateDoc {
    const KIND: &'static str = "template";
    type Id = TemplateId;
    type New = NewTemplateVersion;
    type Record = TemplateRecord;
    type Query = TemplateQuery;

    fn new_name(new: &NewTemplateVersion) -> &str {
        &new.name
    }

    fn record(new: &NewTemplateVersion, id: TemplateId, version: u32) -> TemplateRecord {
        new.record(id, version)
    }

    fn id(record: &TemplateRecord) -> TemplateId {
        record.id
    }

    fn name(record: &TemplateRecord) -> &str {
        &record.name
    }

    fn version(record: &TemplateRecord) -> u32 {
        record.version
    }

    fn same(stored: &TemplateRecord, new: &NewTemplateVersion) -> bool {
        stored.content == new.content
    }

    fn matches(q: &TemplateQuery, r: &TemplateRecord) -> bool {
        q.tag.as_ref().is_none_or(|t| r.tags.contains(t))
            && (q.category.is_none() || r.category == q.category)
            && q.search
                .as_ref()
                .is_none_or(|s| contains_ignoring_ascii_case(&r.name, s))
    }

    fn after(q: &TemplateQuery) -> Option<&str> {
        q.after.as_deref()
    }

    fn limit(q: &TemplateQuery) -> Option<usize> {
        Some(if q.limit == 0 { DEFAULT_LIMIT } else { q.limit })
    }
}

/// Whether `name` contains `search`, ignoring ASCII case (what SQL's `LOWER` does on
/// SQLite).
fn contains_ignoring_ascii_case(name: &str, search: &str) -> bool {
    name.to_ascii_lowercase()
        .contains(&search.to_ascii_lowercase())
}

/// Templates and their versions.
#[async_trait]
pub trait Templates: Catalog<TemplateDoc> {
    /// Stores a template version: a new version, or the latest one when its content is
    /// the same ([`PutOutcome::Unchanged`](crate::PutOutcome::Unchanged)).
    async fn put_template(&self, new: &NewTemplateVersion) -> Result<TemplatePut> {
        Ok(Catalog::<TemplateDoc>::put(self, new).await?.into())
    }

    /// Stores the versions of an export document, atomically. One result per version
    /// given, in order.
    async fn import_templates(
        &self,
        versions: &[NewTemplateVersion],
        on_conflict: OnConflict,
    ) -> Result<Vec<TemplatePut>> {
        let done = Catalog::<TemplateDoc>::import(self, versions, on_conflict).await?;
        Ok(done.into_iter().map(TemplatePut::from).collect())
    }

    /// A version of a template, by name; the latest when `version` is `None`.
    async fn template(&self, name: &str, version: Option<u32>) -> Result<Option<TemplateRecord>> {
        Catalog::<TemplateDoc>::get(self, name, version).await
    }

    /// A version of the template with this id; the latest when `version` is `None`.
    async fn template_by_id(
        &self,
        id: TemplateId,
        version: Option<u32>,
    ) -> Result<Option<TemplateRecord>> {
        Catalog::<TemplateDoc>::get_by_id(self, id, version).await
    }

    /// The latest version of every template matching `query`, by name.
    async fn templates(&self, query: &TemplateQuery) -> Result<Vec<TemplateRecord>> {
        Catalog::<TemplateDoc>::latest(self, query).await
    }

    /// Every version of a template, oldest first (empty when it is deleted).
    async fn template_versions(&self, name: &str) -> Result<Vec<TemplateRecord>> {
        Catalog::<TemplateDoc>::versions(self, name).await
    }

    /// Deletes a template. Returns whether it existed.
    async fn delete_template(&self, name: &str) -> Result<bool> {
        Catalog::<TemplateDoc>::delete(self, name).await
    }
}

impl<T: Catalog<TemplateDoc> + ?Sized> Templates for T {}
