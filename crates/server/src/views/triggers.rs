//! The bodies of `/api/triggers`: a trigger as its workflow defines it, and its state.

use harmonia_app::triggers::TriggerInfo;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A trigger: what starts a workflow without a person.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "fulfil.0", "workflow": "fulfil", "version": 3, "position": 0, "kind": "event", "definition": {"type": "order.paid", "filter": "${ $event.data.total > 100 }", "inputs": {"order": "${ $event.data.order }"}}, "paused": false, "paused_since": null, "links": {"self": "/api/triggers/fulfil.0", "workflow": "/api/workflows/fulfil", "pause": "/api/triggers/fulfil.0/pause", "resume": "/api/triggers/fulfil.0/resume"}}))]
pub struct TriggerView {
    /// `<workflow>.<position>`.
    pub id: String,
    /// The workflow it starts.
    pub workflow: String,
    /// The version of the workflow that defines it (the latest).
    pub version: u32,
    /// Its position in the workflow's `triggers:`, from 0.
    pub position: usize,
    /// Its kind: `event`.
    pub kind: String,
    /// Its definition, as written (the fields of its kind).
    pub definition: Value,
    /// Whether it is paused (then it starts nothing).
    pub paused: bool,
    /// Since when it is paused.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paused_since: Option<String>,
    /// Related routes.
    pub links: TriggerLinks,
}

/// Routes about a trigger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriggerLinks {
    #[serde(rename = "self")]
    #[schema(rename = "self")]
    /// This trigger.
    pub this: String,
    /// Its workflow.
    pub workflow: String,
    /// Pause it.
    pub pause: String,
    /// Resume it.
    pub resume: String,
}

impl TriggerView {
    /// The view of a trigger.
    pub fn from_info(t: &TriggerInfo) -> TriggerView {
        let this = format!("/api/triggers/{}", t.id);
        TriggerView {
            id: t.id.clone(),
            workflow: t.workflow.clone(),
            version: t.version,
            position: t.position,
            kind: t.kind.to_string(),
            definition: t.definition.clone(),
            paused: t.paused_since.is_some(),
            paused_since: t.paused_since.map(|at| at.to_string()),
            links: TriggerLinks {
                workflow: format!("/api/workflows/{}", t.workflow),
                pause: format!("{this}/pause"),
                resume: format!("{this}/resume"),
                this,
            },
        }
    }
}

/// Every trigger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriggerListView {
    /// By workflow name, then position.
    pub triggers: Vec<TriggerView>,
}
