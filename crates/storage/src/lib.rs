//! Storage for Harmonia: the store's roles, the records they hold, an in-memory
//! implementation for tests, and a behaviour suite that every implementation runs.
//!
//! Storage is split by role, one trait per stored concept, each with its slice of the
//! contract in its module doc:
//! - [`ExecutionLog`] (`log.rs`): the event log of executions, committed atomically
//!   with the read-model rows it changed ([`CommitBatch`]).
//! - [`ExecutionQueries`] (`queries.rs`): those read models (executions, task runs).
//! - [`Catalog`](catalog::Catalog) (`catalog.rs`): versions of named documents, one
//!   generic implementation per backend for every [`Document`](catalog::Document)
//!   kind, with the in-memory form of its contract ([`Shelf`](catalog::Shelf)) and,
//!   in `import.rs`, the import decision every backend shares. The kinds are defined
//!   beside the names callers use for them: `workflows.rs`
//!   ([`WorkflowDoc`](catalog::WorkflowDoc), and [`Workflows`]: `put_workflow`, ...)
//!   and `templates.rs` ([`TemplateDoc`](catalog::TemplateDoc), and [`Templates`]:
//!   `put_template`, `templates`, `import_templates`, ...).
//! - [`Tokens`] (`tokens.rs`): API tokens.
//! - [`TriggerStates`] (`triggers.rs`): which triggers are paused, and when each
//!   schedule last fired.
//! - [`Deliveries`] (`deliveries.rs`): the requests webhooks received, with their
//!   verdicts.
//! - [`Timers`] (`timers.rs`): durable timers and the waits of running attempts, which
//!   commits write.
//! - [`Inbox`] (`inbox.rs`): CloudEvents received through the API, once each by
//!   (source, id), and where the engine routed them.
//! - [`Idempotency`] (`idempotency.rs`): the idempotency keys that commits store with
//!   the executions they start.
//! - [`Nodes`] (`nodes.rs`): the engines sharing a store, their leases, and claiming
//!   executions from one to another.
//! - [`Analytics`] (`analytics.rs`): aggregates over the read models (counts by
//!   status, duration percentiles, failures grouped by error, the backlog), with the
//!   records they return.
//!
//! A commit's conditions (fences, idempotency keys) are decided once for every backend,
//! in `commit.rs` ([`commit::decide`]).
//!
//! [`Store`] (`store.rs`) is all of them, implemented for every type that implements
//! the roles, so that the engine and the server hold one `Arc<dyn Store>`; callers
//! bring the methods into scope with `use harmonia_storage::prelude::*`.
//! `harmonia-storage-sql` implements the roles on SQLite (and PostgreSQL), [`MemoryStore`]
//! in memory. Records are plain data: the event log is opaque JSON made by the engine,
//! and the read models are rows for queries.

pub mod analytics;
pub mod catalog;
pub mod commit;
mod deliveries;
mod idempotency;
mod ids;
pub mod import;
mod inbox;
pub mod json;
mod log;
mod memory;
mod nodes;
mod origin;
mod queries;
mod records;
mod status;
mod store;
mod templates;
mod time;
mod timers;
mod tokens;
mod triggers;
mod workflows;

#[cfg(any(test, feature = "test-suite"))]
pub mod suite;

pub use analytics::Analytics;
pub use deliveries::{Deliveries, DeliveryQuery, DeliveryRecord, KEPT_PER_TRIGGER, NewDelivery};
pub use idempotency::Idempotency;
pub use ids::{ExecutionId, TemplateId, WorkflowId};
pub use inbox::Inbox;
pub use log::ExecutionLog;
pub use memory::MemoryStore;
pub use nodes::{LockRecord, NodeRecord, Nodes};
pub use origin::{Origin, OriginKind};
pub use queries::ExecutionQueries;
pub use records::{
    CommitBatch, CommitReport, EventRecord, ExecutionQuery, ExecutionRecord, IdempotencyRecord,
    InboxEvent, InboxQuery, NewTemplateVersion, NewWorkflowVersion, OnConflict, Page, Paged,
    ParentLink, PutOutcome, Received, TaskRunRecord, TemplatePut, TemplateQuery, TemplateRecord,
    TimerRecord, TokenRecord, WorkflowRecord,
};
pub use status::{ExecutionStatus, TaskStatus};
pub use store::Store;
pub use templates::Templates;
pub use time::Timestamp;
pub use timers::Timers;
pub use tokens::Tokens;
pub use triggers::TriggerStates;
pub use workflows::Workflows;

/// The role traits, whose methods a caller of a store needs in scope:
/// `use harmonia_storage::prelude::*`.
///
/// Each is also imported anonymously (`as _`), so that the methods stay in scope in a
/// module that has an item of the same name (such as its own `Templates`), which
/// shadows the named import of a glob.
pub mod prelude {
    pub use crate::{
        Analytics, Deliveries, ExecutionLog, ExecutionQueries, Idempotency, Inbox, Nodes, Store,
        Templates, Timers, Tokens, TriggerStates, Workflows,
    };
    pub use crate::{
        Analytics as _, Deliveries as _, ExecutionLog as _, ExecutionQueries as _,
        Idempotency as _, Inbox as _, Nodes as _, Templates as _, Timers as _, Tokens as _,
        TriggerStates as _, Workflows as _,
    };
}

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
    /// The store refuses a write: a record that could not be read back (nothing of its
    /// batch was written), or one about something the store does not hold (such as
    /// marking an inbox event it never received).
    #[error("record refused: {0}")]
    Invalid(String),
}

/// The result of a storage operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The page size when a query does not set one.
pub const DEFAULT_LIMIT: usize = 50;
