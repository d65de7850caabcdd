//! The triggers role: which triggers are paused, and when each schedule last fired.
//! Triggers themselves are part of their workflow's definition (an id is the workflow's
//! name and the trigger's position, `fulfil.0`); only their state lives here, so that
//! it outlives a restart and a new version of the workflow.
//!
//! Contract, checked for every backend by the shared suite (`suite::triggers`):
//! - `set_trigger_paused(id, true, at)` pauses a trigger; pausing one that is paused
//!   keeps its first `since`; `set_trigger_paused(id, false, _)` resumes it (resuming
//!   one that is not paused changes nothing);
//! - `paused_triggers` lists the paused ones, each with when it was paused, ordered by
//!   id.
//! - `mark_fired(id, at)` records that schedule `id` fired for the time `at`; a mark
//!   earlier than the stored one changes nothing (marks only move forward);
//!   `fire_marks` lists the latest mark of every schedule, ordered by id.

use async_trait::async_trait;

use crate::Result;
use crate::Timestamp;

/// The pause state of triggers.
#[async_trait]
pub trait TriggerStates: Send + Sync {
    /// Pauses (`paused`) or resumes trigger `id` (see the module doc).
    async fn set_trigger_paused(&self, id: &str, paused: bool, at: Timestamp) -> Result<()>;

    /// The paused triggers, with when each was paused, by id.
    async fn paused_triggers(&self) -> Result<Vec<(String, Timestamp)>>;

    /// Records that schedule `id` fired for `at` (see the module doc).
    async fn mark_fired(&self, id: &str, at: Timestamp) -> Result<()>;

    /// The latest fire time of every schedule, by id.
    async fn fire_marks(&self) -> Result<Vec<(String, Timestamp)>>;
}
