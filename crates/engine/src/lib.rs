//! The durable execution core of Harmonia.
//!
//! - [`machine`]: the pure state machine, `apply(state, event, env) -> effects`.
//! - [`event`]: the facts of an execution's log.
//!
//! The engine sees storage only through `harmonia_storage::Store`.

pub mod event;
pub mod machine;
