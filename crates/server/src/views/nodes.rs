//! The views of nodes: `GET /api/nodes` and the `node` of `/health`.

use harmonia_engine::NodeStatus;
use harmonia_storage::{NodeRecord, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

/// A node sharing the store.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NodeView {
    /// Its id (`--node-id`, or random).
    pub id: String,
    /// Where its API listens, as it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The Harmonia version it runs.
    pub version: String,
    /// When it joined (RFC 3339).
    pub started_at: String,
    /// When it last renewed its lease (RFC 3339).
    pub renewed_at: String,
    /// When its lease expires unless renewed (RFC 3339).
    pub expires_at: String,
    /// Whether its lease holds now.
    pub live: bool,
    /// How many unfinished executions it owns.
    pub owned: u64,
    /// Whether it is the node that answered.
    pub this: bool,
}

impl NodeView {
    pub(crate) fn from_record(n: &NodeRecord, this: &str, now: Timestamp) -> NodeView {
        NodeView {
            id: n.id.clone(),
            address: n.address.clone(),
            version: n.version.clone(),
            started_at: n.started_at.to_string(),
            renewed_at: n.renewed_at.to_string(),
            expires_at: n.expires_at.to_string(),
            live: n.is_live(now),
            owned: n.owned,
            this: n.id == this,
        }
    }
}

/// The nodes sharing the store.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NodeList {
    /// By id.
    pub nodes: Vec<NodeView>,
}

/// This node, in `/health`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NodeHealth {
    /// Its id.
    pub id: String,
    /// Its lease in milliseconds; absent when it shares its store with no other node
    /// (not a member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_ms: Option<u64>,
    /// How many unfinished executions it owns (absent when the store did not answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned: Option<u64>,
    /// Lease renewals that succeeded.
    pub lease_renewals: u64,
    /// Renewals that came after the lease had expired (the node was stalled).
    pub late_renewals: u64,
    /// Executions taken over from nodes that were lost or left.
    pub takeovers: u64,
    /// When the lease was last renewed (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewed_at: Option<String>,
}

impl NodeHealth {
    pub(crate) fn from_status(s: &NodeStatus, owned: Option<u64>) -> NodeHealth {
        NodeHealth {
            id: s.id.clone(),
            lease_ms: s
                .lease
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            owned,
            lease_renewals: s.renewals,
            late_renewals: s.late_renewals,
            takeovers: s.takeovers,
            renewed_at: s.renewed_at.map(|t| t.to_string()),
        }
    }
}
