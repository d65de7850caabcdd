//! Storage for Harmonia: the [`Store`] trait, the records it holds, an in-memory
//! implementation for tests, and a behaviour suite that every implementation runs.
//!
//! The engine sees storage only through [`Store`]; `harmonia-storage-sql` implements it
//! on SQLite (and PostgreSQL). Records are plain data: the event log is opaque JSON made
//! by the engine, and the read models (executions, task runs) are rows for queries,
//! written in the same atomic [`CommitBatch`] as the events they derive from. Workflow
//! definitions and templates are stored as immutable versions.

mod ids;
pub mod import;
pub mod json;
mod memory;
mod records;
mod status;
mod store;
mod time;

#[cfg(any(test, feature = "test-suite"))]
pub mod suite;

pub use ids::{ExecutionId, TemplateId, WorkflowId};
pub use memory::MemoryStore;
pub use records::{
    CommitBatch, EventRecord, ExecutionQuery, ExecutionRecord, NewTemplateVersion,
    NewWorkflowVersion, OnConflict, ParentLink, PutOutcome, TaskRunRecord, TemplatePut,
    TemplateQuery, TemplateRecord, TokenRecord, WorkflowRecord,
};
pub use status::{ExecutionStatus, TaskStatus};
pub use store::Store;
pub use time::Timestamp;

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend failed (I/O, connection, SQL).
    #[error("storage backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A write conflicts with what is stored (such as an event that already exists).
    #[error("storage conflict: {0}")]
    Conflict(String),
    /// A stored record could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The store refuses to write a record (it could not be read back); nothing of the
    /// batch was written.
    #[error("record refused: {0}")]
    Invalid(String),
}

/// The result of a storage operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The page size when a query does not set one.
pub const DEFAULT_LIMIT: usize = 50;
