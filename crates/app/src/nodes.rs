//! Nodes: the `harmonia serve` processes that share this store, and this one.
//!
//! A node is listed while its lease holds (see the engine's `scheduler::lease`); one
//! that was killed stays in the store, not live, until its id joins again, and is
//! listed only when asked for every row.

use harmonia_engine::NodeStatus;
use harmonia_storage::{NodeRecord, Timestamp};

use crate::Ctx;
use crate::error::Result;

/// The nodes use case.
#[derive(Clone)]
pub struct Nodes(pub(crate) Ctx);

impl Nodes {
    /// This node: its id, lease, renewals and takeovers.
    pub fn this(&self) -> NodeStatus {
        self.0.handle.node()
    }

    /// The nodes whose lease holds now (with `all`, every stored row), by id, each with
    /// how many unfinished executions it owns.
    pub async fn list(&self, all: bool) -> Result<Vec<NodeRecord>> {
        let now = Timestamp::now();
        let mut nodes = self.0.store().nodes().await?;
        if !all {
            nodes.retain(|n| n.is_live(now));
        }
        Ok(nodes)
    }

    /// How many unfinished executions this node owns.
    pub async fn owned(&self) -> Result<u64> {
        let id = self.this().id;
        Ok(self
            .0
            .store()
            .nodes()
            .await?
            .into_iter()
            .find(|n| n.id == id)
            .map_or(0, |n| n.owned))
    }
}
