//! Views of the integration routes: components, external workers' leases and queues,
//! and the discovery document Tekton components publish.

use harmonia_app::components::Known;
use harmonia_app::workers::{Heartbeat, Lease, QueueStats};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A component `component` tasks may call.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"name": "rhetor", "endpoint": "http://127.0.0.1:8003", "mcp_prefix": "/api/mcp/v2", "capabilities": ["llm"], "source": "hermes", "healthy": true, "authenticated": false}))]
pub struct ComponentView {
    /// Its name (`with.component`).
    pub name: String,
    /// Its base URL.
    pub endpoint: String,
    /// The path of its MCP-style API under `endpoint`.
    pub mcp_prefix: String,
    /// What it can do.
    pub capabilities: Vec<String>,
    /// Where Harmonia learned of it: `config` or `hermes`.
    pub source: String,
    /// Whether Hermes thinks it is alive (absent for declared components).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
    /// Whether calls carry a token (never shown).
    pub authenticated: bool,
}

impl ComponentView {
    /// The view of a known component.
    pub fn from_known(k: &Known) -> ComponentView {
        ComponentView {
            name: k.endpoint.name.clone(),
            endpoint: k.endpoint.url.as_str().trim_end_matches('/').to_string(),
            mcp_prefix: k.endpoint.mcp_prefix.clone(),
            capabilities: k.capabilities.clone(),
            source: k.source.name().into(),
            healthy: k.healthy,
            authenticated: k.endpoint.token.is_some(),
        }
    }
}

/// Every component.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComponentList {
    /// The components: declared ones first, then Hermes'.
    pub components: Vec<ComponentView>,
    /// Why Hermes' part may be stale (its last refresh failed), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hermes_error: Option<String>,
}

impl ComponentList {
    /// The view of the directory's listing.
    pub fn from_listing(listing: &harmonia_app::components::Listing) -> ComponentList {
        ComponentList {
            components: listing
                .components
                .iter()
                .map(ComponentView::from_known)
                .collect(),
            hermes_error: listing.hermes_error.clone(),
        }
    }
}

/// A component's tools, as it lists them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolList {
    /// The component.
    pub component: String,
    /// Its tools (typically `{name, description, input_schema}`).
    pub tools: Vec<Value>,
}

/// A leased attempt: what a worker does, and until when it holds it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"lease_id": "ls_019ad1c2e4f07b2c9a41d3b8e6f0a2c4", "execution_id": "019ad1c2-e4f0-7b2c-9a41-d3b8e6f0a2c4", "workflow": "thumbnails", "task": "resize", "item": 3, "attempt": 1, "queue": "images", "input": {"url": "https://example.com/a.png"}, "heartbeat_timeout_ms": 30000, "expires_at": "2026-11-30T10:00:30.000Z", "enqueued_at": "2026-11-30T10:00:00.000Z", "leased_at": "2026-11-30T10:00:00.004Z"}))]
pub struct LeaseView {
    /// The lease: heartbeat, complete or fail it by this id.
    pub lease_id: String,
    /// The execution.
    pub execution_id: String,
    /// Its workflow.
    pub workflow: String,
    /// The task.
    pub task: String,
    /// The fan-out item, in a fan-out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    /// The attempt, from 1: `(execution_id, task, item, attempt)` names it.
    pub attempt: u32,
    /// The queue.
    pub queue: String,
    /// The task's `with.input`.
    pub input: Value,
    /// Heartbeat more often than this, in milliseconds.
    pub heartbeat_timeout_ms: u64,
    /// When the lease expires without a heartbeat.
    pub expires_at: String,
    /// When the attempt began waiting for a worker.
    pub enqueued_at: String,
    /// When it was leased.
    pub leased_at: String,
}

impl LeaseView {
    /// The view of a lease.
    pub fn from_lease(l: &Lease) -> LeaseView {
        let key = &l.ready.key;
        LeaseView {
            lease_id: l.id.clone(),
            execution_id: key.execution.to_string(),
            workflow: l.ready.workflow.clone(),
            task: key.task.clone(),
            item: key.item,
            attempt: key.attempt,
            queue: l.ready.queue.clone(),
            input: l.ready.input.clone(),
            heartbeat_timeout_ms: u64::try_from(l.ready.heartbeat.as_millis()).unwrap_or(u64::MAX),
            expires_at: l.expires_at.to_string(),
            enqueued_at: l.ready.enqueued_at.to_string(),
            leased_at: l.leased_at.to_string(),
        }
    }
}

/// What a poll got (empty when `wait` passed with nothing ready).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PollResponse {
    /// The leases.
    pub leases: Vec<LeaseView>,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"lease_id": "ls_019ad1c2e4f07b2c9a41d3b8e6f0a2c4", "expires_at": "2026-11-30T10:01:00.000Z", "cancel_requested": false}))]
pub struct HeartbeatResponse {
    /// The lease.
    pub lease_id: String,
    /// When it now expires.
    pub expires_at: String,
    /// The attempt was cancelled: stop the work and do not report it (the lease has
    /// ended).
    pub cancel_requested: bool,
}

impl HeartbeatResponse {
    /// The view of a heartbeat's answer.
    pub fn from_heartbeat(h: Heartbeat) -> HeartbeatResponse {
        HeartbeatResponse {
            lease_id: h.lease_id,
            expires_at: h.expires_at.to_string(),
            cancel_requested: h.cancel_requested,
        }
    }
}

/// A lease answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"lease_id": "ls_019ad1c2e4f07b2c9a41d3b8e6f0a2c4", "status": "completed"}))]
pub struct AnsweredResponse {
    /// The lease.
    pub lease_id: String,
    /// `completed` or `failed`: recorded.
    pub status: String,
}

/// How one queue stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueView {
    /// The queue.
    pub queue: String,
    /// Attempts waiting for a worker.
    pub ready: usize,
    /// Attempts held by workers.
    pub leased: usize,
}

/// Every queue with work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueList {
    /// The queues, by name.
    pub queues: Vec<QueueView>,
}

impl QueueList {
    /// The view of the queues' stats.
    pub fn from_stats(stats: Vec<QueueStats>) -> QueueList {
        QueueList {
            queues: stats
                .into_iter()
                .map(|s| QueueView {
                    queue: s.queue,
                    ready: s.ready,
                    leased: s.leased,
                })
                .collect(),
        }
    }
}

/// One route of the API, in the discovery document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiscoveredEndpoint {
    /// Its path (under the server's base URL).
    pub path: String,
    /// Its method.
    pub method: String,
    /// What it does.
    pub description: String,
}

/// What this component is and offers, as Tekton components describe themselves.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Discovery {
    /// `harmonia`.
    pub name: String,
    /// The version.
    pub version: String,
    /// What it does.
    pub description: String,
    /// The capabilities it registers with Hermes.
    pub capabilities: Vec<String>,
    /// Its routes, from its OpenAPI description.
    pub endpoints: Vec<DiscoveredEndpoint>,
    /// Where to find more: the OpenAPI document, the MCP endpoint, health.
    pub metadata: Value,
}
