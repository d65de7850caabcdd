//! The durable execution core of Harmonia.
//!
//! - [`Engine::builder`]: how an engine is wired and started (store, settings, task
//!   types with their executors, plans), the same for every command.
//! - [`machine`]: the pure state machine, `apply(state, event, env) -> effects`.
//! - [`event`]: the facts of an execution's log.
//! - [`scheduler`]: the tokio service that drives executions, with group commit; its
//!   [`Handle`] is how the rest of Harmonia talks to it.
//! - [`executors`]: one file per task type.
//! - [`eval`]: where expressions run: in the scheduler's turn when quick, on the
//!   blocking pool when not, so that no execution holds the others.
//! - [`plans`]: validated workflow versions from the store.
//! - [`retry`]: retry from failure, reusing what succeeded.
//!
//! Durability: the event log of an execution is its checkpoint. "Checkpoint and
//! resume" is replaying that log after a restart ([`machine::replay`], then
//! [`machine::resume`]): tasks whose success was recorded keep their outputs and do not
//! run again; attempts that were in flight run again as `recovered`; timers resume
//! with their remaining time; a paused execution stays paused.
//!
//! The engine sees storage only through `harmonia_storage::Store`. It expects to run on
//! threads with large stacks (the `harmonia` binary gives its runtime's threads 64 MiB):
//! elsewhere each evaluation maps a stack segment of its own (see `harmonia_expr`),
//! which works, but costs microseconds.

mod builder;
mod config;
mod error;
pub mod eval;
pub mod event;
pub mod executors;
pub mod machine;
pub mod plans;
pub mod retry;
pub mod scheduler;

pub use builder::{Builder, Engine};
pub use config::EngineConfig;
pub use error::{Error, Result};
pub use plans::{DefinitionSource, Plans, RegisterError, Workflow};
pub use retry::{RetryOptions, RetryPlan};
pub use scheduler::{Handle, LoggedEvent, StartRequest, spawn};
