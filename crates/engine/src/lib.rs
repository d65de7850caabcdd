//! The durable execution core of Harmonia.
//!
//! What other crates use: [`Engine::builder`] wires and starts an engine (store,
//! settings, task kinds, plans), the same for every command, and its [`Handle`] is how
//! the rest of Harmonia talks to it (start, signal, cancel, pause, resume, wait,
//! retry, history, subscribe); [`StartRequest`]; the task-kind trait and the built-in
//! kinds ([`kinds`]); the facts of an execution's log ([`event::Event`], with
//! [`event::Event::describe`]); [`Plans`] (validated workflow versions). Everything
//! else is private:
//!
//! - `machine`: the pure state machine, `apply(state, event, env) -> effects`, with
//!   `evolve` split by event family;
//! - `scheduler`: the tokio service that drives executions, with group commit;
//! - `eval`: where expressions run: in the scheduler's turn when quick, on the
//!   blocking pool when not, so that no execution holds the others;
//! - `plans`: validated workflow versions from the store;
//! - `retry`: retry from failure, reusing what succeeded;
//! - `inputs`: a task's `with:` evaluated again from the log, secrets masked
//!   ([`Handle::evaluated_with`]).
//!
//! Durability: the event log of an execution is its checkpoint. "Checkpoint and
//! resume" is replaying that log after a restart, then resuming: tasks whose success
//! was recorded keep their outputs and do not run again; attempts that were in flight
//! run again as `recovered`; timers and waits resume with their remaining time; a
//! paused execution stays paused.
//!
//! The engine sees storage only through `harmonia_storage::Store`. It expects to run on
//! threads with large stacks (the `harmonia` binary gives its runtime's threads 64 MiB):
//! elsewhere each evaluation maps a stack segment of its own (see `harmonia_expr`),
//! which works, but costs microseconds.

mod builder;
mod config;
mod describe;
mod error;
mod eval;
pub mod event;
mod inputs;
pub mod kinds;
mod machine;
mod plans;
mod retry;
mod scheduler;

pub use builder::{Builder, Engine};
pub use config::EngineConfig;
pub use error::{Error, Result};
pub use inputs::{EvaluatedWith, MASK};
pub use plans::{DefinitionSource, Plans, RegisterError, Workflow};
pub use retry::{RetryOptions, RetryPlan};
pub use scheduler::{
    Delivery, Handle, Idempotency, LoggedEvent, NodeStatus, StartRequest, Started, Stats, spawn,
};
