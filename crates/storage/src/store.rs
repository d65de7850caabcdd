//! [`Store`]: every storage role in one trait, for callers that hold "the store" (the
//! engine, the server, the binary) as an `Arc<dyn Store>`.
//!
//! A backend implements the roles, each in its own module with its slice of the
//! contract: [`ExecutionLog`] (`log.rs`), [`ExecutionQueries`] (`queries.rs`),
//! [`Catalog`] for every [`Document`](crate::catalog::Document) kind (`catalog.rs`:
//! workflows and templates, named by [`Workflows`](crate::Workflows) and
//! [`Templates`](crate::Templates)), [`Tokens`] (`tokens.rs`), [`TriggerStates`] (`triggers.rs`),
//! [`Deliveries`] (`deliveries.rs`), [`Timers`] (`timers.rs`),
//! [`Inbox`] (`inbox.rs`), [`Idempotency`] (`idempotency.rs`), [`Nodes`] (`nodes.rs`)
//! and [`Analytics`]
//! (`analytics.rs`). `Store` is then
//! implemented for it: there is nothing else to write, and nothing to implement by hand.
//! The shared suite (`suite`) checks every role on every backend.
//!
//! Methods are those of the roles, so a caller brings them into scope with
//! `use harmonia_storage::prelude::*`.

use crate::catalog::{Catalog, TemplateDoc, WorkflowDoc};
use crate::{
    Analytics, Deliveries, ExecutionLog, ExecutionQueries, Idempotency, Inbox, Nodes, Timers,
    Tokens, TriggerStates,
};

/// Durable storage: every role.
pub trait Store:
    ExecutionLog
    + ExecutionQueries
    + Catalog<WorkflowDoc>
    + Catalog<TemplateDoc>
    + Tokens
    + TriggerStates
    + Deliveries
    + Timers
    + Inbox
    + Idempotency
    + Nodes
    + Analytics
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: ExecutionLog
        + ExecutionQueries
        + Catalog<WorkflowDoc>
        + Catalog<TemplateDoc>
        + Tokens
        + TriggerStates
        + Deliveries
        + Timers
        + Inbox
        + Idempotency
        + Nodes
        + Analytics
        + Send
        + Sync
        + 'static
        + ?Sized
{
}
