//! The hub of workflow changes: every way a workflow is created, gets a version or is
//! deleted goes through [`crate::Workflows`], which announces it here once it is stored.
//!
//! Adapters subscribe ([`Changes::subscribe`]): the server's `/ws/workflows` sends each
//! [`Change`] as it is serialized here (`{"type": "workflow_created", "name",
//! "version"}`). A workflow made by instantiating a template is announced like any
//! other, since instantiation registers it through the same use case.
//!
//! One write bypasses this crate: the engine's `Plans` stores a sub-workflow it finds
//! beside a file that `harmonia run` runs (a `DefinitionSource`), unannounced; no
//! server runs with such a source.
//!
//! Invariants: a change is announced only after the store has it, and only when
//! something changed (storing a definition identical to the latest version announces
//! nothing). Announcing never waits: the channel is bounded, and a subscriber that
//! falls behind gets `Lagged` and reads the lists again.

use serde::Serialize;
use tokio::sync::broadcast;

/// How many changes a subscriber may fall behind before it lags.
const CAPACITY: usize = 1024;

/// A change to the stored workflows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// A workflow was created (or stored again under a deleted workflow's name).
    WorkflowCreated {
        /// Its name.
        name: String,
        /// Its version.
        version: u32,
    },
    /// A workflow got a new version.
    WorkflowUpdated {
        /// Its name.
        name: String,
        /// The new version.
        version: u32,
    },
    /// A workflow was deleted.
    WorkflowDeleted {
        /// Its name.
        name: String,
    },
}

/// The hub: cheap to clone; every clone announces to the same subscribers.
#[derive(Debug, Clone)]
pub struct Changes {
    tx: broadcast::Sender<Change>,
}

impl Changes {
    pub(crate) fn new() -> Changes {
        let (tx, _) = broadcast::channel(CAPACITY);
        Changes { tx }
    }

    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }

    pub(crate) fn announce(&self, change: Change) {
        tracing::debug!(?change, "workflow change");
        // No subscriber is not an error: nobody is watching.
        let _ = self.tx.send(change);
    }
}
