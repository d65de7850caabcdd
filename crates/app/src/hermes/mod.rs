//! Hermes, the registry Tekton's components find each other through: Harmonia's own
//! registration ([`Presence`]) and discovery of other components ([`Client::query`],
//! which the component directory uses).
//!
//! The wire format is Hermes' (see the client's methods); everything here is optional:
//! without `HERMES_URL` nothing of it runs, and with it, a Hermes that is down or slow
//! only delays what depends on it, never start-up or a request.

mod client;
mod presence;

pub use client::{Client, Discovered, HermesError, Registered, TIMEOUT};
pub use presence::{
    CAPABILITIES, FIRST_BACKOFF, MAX_BACKOFF, Presence, Status, UNREGISTER_TIMEOUT, payload,
};
