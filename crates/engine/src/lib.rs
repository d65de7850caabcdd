//! The durable execution core of Harmonia.
//!
//! - [`machine`]: the pure state machine, `apply(state, event, env) -> effects`.
//! - [`event`]: the facts of an execution's log.
//! - [`scheduler`]: the tokio service that drives executions, with group commit; its
//!   [`Handle`] is how the rest of Harmonia talks to it.
//! - [`executors`]: one file per task type.
//! - [`plans`]: validated workflow versions from the store.
//!
//! The engine sees storage only through `harmonia_storage::Store`.

mod config;
mod error;
pub mod event;
pub mod executors;
pub mod machine;
pub mod plans;
pub mod scheduler;

pub use config::EngineConfig;
pub use error::{Error, Result};
pub use plans::{DefinitionSource, Plans, RegisterError, Workflow};
pub use scheduler::{Handle, LoggedEvent, StartRequest, spawn};
