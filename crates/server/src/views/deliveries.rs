//! The bodies of webhook deliveries (`/api/triggers/{id}/deliveries`,
//! `/api/deliveries/{id}`): what a hook received and what it did with it.
//!
//! A listing leaves the bodies out (a page of large payloads would be megabytes); one
//! delivery read by its id has its body, as text when it is UTF-8, else base64.

use harmonia_storage::{DeliveryRecord, Page};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A webhook delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "trigger": "deploy.0", "hook": "github-push", "received_at": "2026-11-30T10:00:00Z", "verdict": "started", "reason": null, "verified": true, "execution_id": "01a20b95-3770-719e-8ae1-f9888c382918", "method": "POST", "headers": {"content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": "[redacted]"}, "query": {}, "body_bytes": 2, "body": "{}", "body_base64": null, "replay_of": null, "links": {"self": "/api/deliveries/12", "replay": "/api/deliveries/12/replay", "trigger": "/api/triggers/deploy.0"}}))]
pub struct DeliveryView {
    /// Its number (increasing).
    pub id: u64,
    /// The trigger that took it.
    pub trigger: String,
    /// The hook's name.
    pub hook: String,
    /// When it arrived.
    #[schema(value_type = String, format = DateTime)]
    pub received_at: String,
    /// `started`, `duplicate`, `rejected` (bad signature), `forbidden`, `paused`,
    /// `invalid` (the mapping or the inputs failed) or `failed`.
    pub verdict: String,
    /// Why it was refused.
    pub reason: Option<String>,
    /// Whether it proved its sender (its signature checked): only a verified delivery
    /// can be replayed.
    pub verified: bool,
    /// The execution it started (the first one, for a duplicate).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub execution_id: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// The headers, names lower-cased, credentials `[redacted]`.
    pub headers: Value,
    /// The query parameters.
    pub query: Value,
    /// The body's size in bytes.
    pub body_bytes: usize,
    /// The body as text (read alone, and UTF-8).
    pub body: Option<String>,
    /// The body in base64 (read alone, and not UTF-8).
    pub body_base64: Option<String>,
    /// The delivery this one replays.
    pub replay_of: Option<u64>,
    /// Related routes.
    pub links: DeliveryLinks,
}

/// Routes about a delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryLinks {
    #[serde(rename = "self")]
    #[schema(rename = "self")]
    /// This delivery.
    pub this: String,
    /// Replay it.
    pub replay: String,
    /// Its trigger.
    pub trigger: String,
}

impl DeliveryView {
    /// The view of a delivery, with its body when `body` is set.
    pub fn from_record(r: &DeliveryRecord, body: bool) -> DeliveryView {
        use base64::Engine as _;
        let d = &r.delivery;
        let this = format!("/api/deliveries/{}", r.seq);
        let text = std::str::from_utf8(&d.body).ok();
        DeliveryView {
            id: r.seq,
            trigger: d.trigger.clone(),
            hook: d.hook.clone(),
            received_at: d.received_at.to_string(),
            verdict: d.verdict.clone(),
            reason: d.reason.clone(),
            verified: d.verified,
            execution_id: d.execution.map(|e| e.to_string()),
            method: d.method.clone(),
            headers: d.headers.clone(),
            query: d.query.clone(),
            body_bytes: d.body.len(),
            body: text.filter(|_| body).map(str::to_string),
            body_base64: (body && text.is_none())
                .then(|| base64::engine::general_purpose::STANDARD.encode(&d.body)),
            replay_of: d.replay_of,
            links: DeliveryLinks {
                replay: format!("{this}/replay"),
                trigger: format!("/api/triggers/{}", d.trigger),
                this,
            },
        }
    }
}

/// A page of a trigger's deliveries, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryPageView {
    /// The deliveries, without their bodies.
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `cursor` to get the next page (null on the last).
    pub next_cursor: Option<String>,
}

impl DeliveryPageView {
    /// The view of a page.
    pub fn from_page(p: &Page<DeliveryRecord>) -> DeliveryPageView {
        DeliveryPageView {
            deliveries: p
                .items
                .iter()
                .map(|d| DeliveryView::from_record(d, false))
                .collect(),
            next_cursor: p.next.map(|n| n.to_string()),
        }
    }
}
