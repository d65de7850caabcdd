//! The bodies of `/api/triggers`: a trigger as its workflow defines it, and its state.

use harmonia_app::schedules::{Fire, FireOutcome, rfc3339};
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
    /// Its kind: `event`, `webhook` or `schedule`.
    pub kind: String,
    /// Its definition, as written (the fields of its kind).
    pub definition: Value,
    /// Whether it is paused (then it starts nothing).
    pub paused: bool,
    /// Since when it is paused.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paused_since: Option<String>,
    /// For a `schedule`: where it is, and when it fires next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleView>,
    /// Related routes.
    pub links: TriggerLinks,
}

/// Where a schedule is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduleView {
    /// Fires up to this time are handled (started, skipped, or passed by `catchup`);
    /// null until the scheduler first sees the schedule.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub fired_through: Option<String>,
    /// The next fire times (UTC), soonest first.
    #[schema(value_type = Vec<String>)]
    pub next_fires: Vec<String>,
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
    /// Its deliveries (a `webhook`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveries: Option<String>,
    /// Backfill it (a `schedule`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backfill: Option<String>,
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
            schedule: t.schedule.as_ref().map(|s| ScheduleView {
                fired_through: s.fired_through.map(|at| at.to_string()),
                next_fires: s.next.iter().map(|at| at.to_string()).collect(),
            }),
            links: TriggerLinks {
                workflow: format!("/api/workflows/{}", t.workflow),
                pause: format!("{this}/pause"),
                resume: format!("{this}/resume"),
                deliveries: (t.kind == "webhook").then(|| format!("{this}/deliveries")),
                backfill: (t.kind == "schedule").then(|| format!("{this}/backfill")),
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

/// What a backfill started.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BackfillView {
    /// One per fire time in the window, oldest first.
    pub fires: Vec<FireView>,
}

/// One fire of a schedule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FireView {
    /// The time it was scheduled for (UTC).
    #[schema(format = DateTime)]
    pub scheduled_at: String,
    /// The execution it started (or had started).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub execution_id: Option<String>,
    /// Whether that execution existed already (the fire had run).
    pub existing: bool,
    /// Why it started nothing.
    pub error: Option<String>,
}

impl BackfillView {
    /// The view of the fires of a backfill.
    pub fn from_fires(fires: &[Fire]) -> BackfillView {
        BackfillView {
            fires: fires
                .iter()
                .map(|f| {
                    let (execution_id, existing, error) = match &f.outcome {
                        FireOutcome::Started {
                            execution,
                            existing,
                        } => (Some(execution.to_string()), *existing, None),
                        FireOutcome::Failed(m) => (None, false, Some(m.clone())),
                        other => (None, false, Some(format!("{other:?}"))),
                    };
                    FireView {
                        scheduled_at: rfc3339(f.scheduled_at),
                        execution_id,
                        existing,
                        error,
                    }
                })
                .collect(),
        }
    }
}
