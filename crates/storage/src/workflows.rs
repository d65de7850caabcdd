//! Workflows as a kind of document ([`WorkflowDoc`]), and the workflows role by its
//! names: `put_workflow`, `workflow`, ... over their catalog ([`Catalog<WorkflowDoc>`]).
//!
//! Workflow definitions are versioned documents compared by their source text and
//! format (see the [`catalog`](crate::catalog) module doc for the contract). A new
//! version is stored by `put_workflow` unless it is the latest one, which is returned;
//! executions pin the version they run, so a deleted workflow's versions stay readable
//! by number.
//!
//! These methods are fixed: [`Workflows`] is implemented for every catalog of
//! workflows and for nothing else, so a backend implements [`Catalog`] (once, for every
//! kind) and never this.

use async_trait::async_trait;

use crate::catalog::{Catalog, Document};
use crate::records::{NewWorkflowVersion, WorkflowRecord};
use crate::{Result, WorkflowId};

/// Workflow definitions as a kind of document: versions compared by their source text
/// and format.
#[derive(Debug, Clone, Copy)]
pub struct WorkflowDoc;

impl Document for WorkflowDoc {
    const KIND: &'static str = "workflow";
    type Id = WorkflowId;
    type New = NewWorkflowVersion;
    type Record = WorkflowRecord;
    /// Every workflow is listed.
    type Query = ();

    fn new_name(new: &NewWorkflowVersion) -> &str {
        &new.name
    }

    fn record(new: &NewWorkflowVersion, id: WorkflowId, version: u32) -> WorkflowRecord {
        WorkflowRecord {
            id,
            name: new.name.clone(),
            version,
            description: new.description.clone(),
            source: new.source.clone(),
            format: new.format.clone(),
            created_at: new.created_at,
        }
    }

    fn id(record: &WorkflowRecord) -> WorkflowId {
        record.id
    }

    fn name(record: &WorkflowRecord) -> &str {
        &record.name
    }

    fn version(record: &WorkflowRecord) -> u32 {
        record.version
    }

    fn same(stored: &WorkflowRecord, new: &NewWorkflowVersion) -> bool {
        stored.source == new.source && stored.format == new.format
    }

    fn matches((): &(), _: &WorkflowRecord) -> bool {
        true
    }

    fn after((): &()) -> Option<&str> {
        None
    }

    fn limit((): &()) -> Option<usize> {
        None
    }
}

/// Workflow definitions and their versions.
#[async_trait]
pub trait Workflows: Catalog<WorkflowDoc> {
    /// Stores a definition as a new version of its workflow, unless its source and
    /// format are the latest version's, which is returned. Brings a deleted workflow
    /// back.
    async fn put_workflow(&self, new: &NewWorkflowVersion) -> Result<WorkflowRecord> {
        Ok(Catalog::<WorkflowDoc>::put(self, new).await?.record)
    }

    /// A version of a workflow, by name; the latest when `version` is `None`.
    async fn workflow(&self, name: &str, version: Option<u32>) -> Result<Option<WorkflowRecord>> {
        Catalog::<WorkflowDoc>::get(self, name, version).await
    }

    /// The latest version of every workflow, by name.
    async fn workflows(&self) -> Result<Vec<WorkflowRecord>> {
        Catalog::<WorkflowDoc>::latest(self, &()).await
    }

    /// Every version of a workflow, oldest first (empty when it is deleted).
    async fn workflow_versions(&self, name: &str) -> Result<Vec<WorkflowRecord>> {
        Catalog::<WorkflowDoc>::versions(self, name).await
    }

    /// A version of the workflow with this id; the latest when `version` is `None`.
    async fn workflow_by_id(
        &self,
        id: WorkflowId,
        version: Option<u32>,
    ) -> Result<Option<WorkflowRecord>> {
        Catalog::<WorkflowDoc>::get_by_id(self, id, version).await
    }

    /// Deletes a workflow. Returns whether it existed.
    async fn delete_workflow(&self, name: &str) -> Result<bool> {
        Catalog::<WorkflowDoc>::delete(self, name).await
    }
}

impl<T: Catalog<WorkflowDoc> + ?Sized> Workflows for T {}
