//! The `Store` trait: what the engine and the server need from storage.
//!
//! Contract, checked for every backend by the shared suite (`suite`):
//! - `commit` is atomic: all of a batch is visible afterwards, or none of it.
//! - A batch with an event whose `(execution, seq)` already exists (stored, or earlier
//!   in the same batch) fails with [`Error::Conflict`] and writes nothing: two writers
//!   of one execution. The engine numbers events consecutively from 1; the store only
//!   checks uniqueness.
//! - An execution row's `inputs` never change: `commit` writes them when it inserts the
//!   row, and a later write of the row keeps the stored ones, so a writer sends them
//!   once (later writes may carry `null`). Large inputs are then written once, not at
//!   every change of the execution's status.
//! - A batch with a JSON value nested deeper than [`crate::json::MAX_STORED_DEPTH`]
//!   fails with [`Error::Invalid`] and writes nothing: what is written can always be
//!   read back.
//! - Events of an execution come back in `seq` order.
//! - A committed batch survives the process being killed.
//! - `put_workflow` with a name that exists adds version `latest + 1` under the same
//!   id, unless the source is identical to the latest version's, which is returned.
//! - A deleted workflow is absent from `workflows()` and from lookups without a
//!   version, but its versions stay readable by number (executions pin them);
//!   `put_workflow` under its name brings it back.
//!
//! Templates are versioned like workflows, with change notes, and compared by their
//! canonical `content` (not their source text):
//! - `put_template` adds version `latest + 1` under the template's id, unless the
//!   content is the latest version's, which is returned as [`PutOutcome::Unchanged`]
//!   (reverting to an older content is a new version).
//! - `import_templates` stores a document's versions in one transaction, in the order
//!   given (a document's: by template, oldest version first). For each template it
//!   walks the given versions with a cursor on the stored ones (from before the first):
//!   a version whose content a stored version after the cursor has is `Unchanged` (the
//!   first such; the cursor moves to it); any other is `Created` as `latest + 1` (the
//!   cursor moves to it), keeping its note and creation time. So importing into an
//!   empty store recreates the same numbers, notes and times, and importing the same
//!   document again changes nothing. With [`OnConflict::Fail`], a version that would
//!   be created for a template that was already stored fails the whole import with
//!   [`Error::Conflict`] (naming every such version) and writes nothing.
//! - Deleting a template works like deleting a workflow: gone from `templates()` and
//!   from lookups without a version, its versions readable by number (workflows made
//!   from it record `{name, version}`); putting or importing it brings it back.
//! - `templates()` lists latest versions by name, filtered by tag, category and a
//!   name search, after a name cursor.
//!
//! Tokens: `put_token` also records, in the same transaction, that the store has had a
//! token; `had_tokens` answers true from then on, whatever is deleted since (a server
//! that has had tokens never falls back to serving without them).

use async_trait::async_trait;

#[cfg(doc)]
use crate::Error;
#[cfg(doc)]
use crate::records::PutOutcome;
use crate::records::{
    CommitBatch, EventRecord, ExecutionQuery, ExecutionRecord, NewTemplateVersion,
    NewWorkflowVersion, OnConflict, TaskRunRecord, TemplatePut, TemplateQuery, TemplateRecord,
    TokenRecord, WorkflowRecord,
};
use crate::{ExecutionId, Result, TemplateId, WorkflowId};

/// Durable storage of executions and workflows.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Writes a batch atomically.
    async fn commit(&self, batch: &CommitBatch) -> Result<()>;

    /// The event log of an execution, in order.
    async fn events(&self, execution: ExecutionId) -> Result<Vec<EventRecord>>;

    /// One execution.
    async fn execution(&self, id: ExecutionId) -> Result<Option<ExecutionRecord>>;

    /// Executions matching `query`, newest first.
    async fn executions(&self, query: &ExecutionQuery) -> Result<Vec<ExecutionRecord>>;

    /// Executions that have not ended (status pending, running or paused), oldest
    /// first.
    async fn unfinished(&self) -> Result<Vec<ExecutionRecord>>;

    /// The task rows of an execution: each task (`item: None`) and each fan-out item,
    /// ordered by task name then item.
    async fn task_runs(&self, execution: ExecutionId) -> Result<Vec<TaskRunRecord>>;

    /// Stores a definition as a new version of its workflow (see the module doc).
    async fn put_workflow(&self, new: &NewWorkflowVersion) -> Result<WorkflowRecord>;

    /// A version of a workflow, by name; the latest when `version` is `None`.
    async fn workflow(&self, name: &str, version: Option<u32>) -> Result<Option<WorkflowRecord>>;

    /// The latest version of every workflow, by name.
    async fn workflows(&self) -> Result<Vec<WorkflowRecord>>;

    /// Every version of a workflow, oldest first (empty when it is deleted).
    async fn workflow_versions(&self, name: &str) -> Result<Vec<WorkflowRecord>>;

    /// A version of the workflow with this id; the latest when `version` is `None`.
    async fn workflow_by_id(
        &self,
        id: WorkflowId,
        version: Option<u32>,
    ) -> Result<Option<WorkflowRecord>>;

    /// Deletes a workflow (see the module doc). Returns whether it existed.
    async fn delete_workflow(&self, name: &str) -> Result<bool>;

    /// Stores a template version: a new version, or the latest one when its content is
    /// the same (see the module doc).
    async fn put_template(&self, new: &NewTemplateVersion) -> Result<TemplatePut>;

    /// Stores the versions of an export document, atomically (see the module doc). One
    /// result per version given, in order.
    async fn import_templates(
        &self,
        versions: &[NewTemplateVersion],
        on_conflict: OnConflict,
    ) -> Result<Vec<TemplatePut>>;

    /// A version of a template, by name; the latest when `version` is `None`.
    async fn template(&self, name: &str, version: Option<u32>) -> Result<Option<TemplateRecord>>;

    /// A version of the template with this id; the latest when `version` is `None`.
    async fn template_by_id(
        &self,
        id: TemplateId,
        version: Option<u32>,
    ) -> Result<Option<TemplateRecord>>;

    /// The latest version of every template matching `query`, by name.
    async fn templates(&self, query: &TemplateQuery) -> Result<Vec<TemplateRecord>>;

    /// Every version of a template, oldest first (empty when it is deleted).
    async fn template_versions(&self, name: &str) -> Result<Vec<TemplateRecord>>;

    /// Deletes a template (see the module doc). Returns whether it existed.
    async fn delete_template(&self, name: &str) -> Result<bool>;

    /// Stores an API token.
    async fn put_token(&self, token: &TokenRecord) -> Result<()>;

    /// The token with this hash.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>>;

    /// Every token, oldest first.
    async fn tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Deletes a token by id. Returns whether it existed.
    async fn delete_token(&self, id: &str) -> Result<bool>;

    /// Whether a token was ever stored: true from the first `put_token` on, even once
    /// every token is deleted (see the module doc).
    async fn had_tokens(&self) -> Result<bool>;
}
