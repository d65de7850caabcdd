//! The server-wide failure notification: a JSON summary of every failed top-level
//! execution, posted to one URL from the server's config, so that nobody has to
//! remember an `on_failure` in each workflow.
//!
//! The body is Slack incoming-webhook compatible (`text` is the message a channel
//! shows), with the structured fields beside it for any other receiver: `execution_id`,
//! `workflow`, `version`, `status`, `error` (`task`, `class`, `message`), `started_at`,
//! `ended_at` and `link` (the API path of the execution).
//!
//! Delivery is best effort: up to [`ATTEMPTS`] tries with a growing pause, each within
//! [`TIMEOUT`]; a failure is logged, without the URL (a webhook URL is a secret). A
//! notification not yet sent when the process stops is not sent.

use std::time::Duration;

use harmonia_engine::event::Event;
use harmonia_storage::{ExecutionId, ExecutionRecord};
use serde_json::{Value, json};

use crate::{Ctx, Result};

/// How many times a notification is tried.
pub const ATTEMPTS: u32 = 3;
/// How long one try may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Failure notifications (see the module doc).
#[derive(Clone)]
pub struct Notifier {
    ctx: Ctx,
    url: reqwest::Url,
    client: reqwest::Client,
}

impl Notifier {
    pub(crate) fn new(ctx: Ctx, url: reqwest::Url, client: reqwest::Client) -> Notifier {
        Notifier { ctx, url, client }
    }

    /// Posts a summary of each top-level execution that fails, until `stop`.
    pub async fn run(&self, stop: tokio_util::sync::CancellationToken) {
        let mut events = self.ctx.handle.subscribe();
        loop {
            let failed = tokio::select! {
                () = stop.cancelled() => return,
                e = events.recv() => match e {
                    Ok(e) if matches!(e.event, Event::ExecutionFailed { .. }) => e.execution,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "failure notifications fell behind; some failures were not notified");
                        continue;
                    }
                    Err(_) => return,
                },
            };
            let this = self.clone();
            tokio::spawn(async move {
                if let Err(e) = this.notify(failed).await {
                    tracing::warn!(execution = %failed, error = %e, "a failure notification was not sent");
                }
            });
        }
    }

    /// Sends the notification of failed execution `id` (nothing for a sub-workflow:
    /// its parent's failure says it).
    pub async fn notify(&self, id: ExecutionId) -> Result<bool> {
        let Some(record) = self.ctx.store().execution(id).await? else {
            return Ok(false);
        };
        if record.parent.is_some() {
            return Ok(false);
        }
        let body = summary(&record);
        let mut pause = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let sent = self
                .client
                .post(self.url.clone())
                .timeout(TIMEOUT)
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return Ok(true),
                Ok(r) => {
                    tracing::warn!(execution = %id, attempt, status = %r.status(), "the failure notification was refused")
                }
                Err(e) => {
                    tracing::warn!(execution = %id, attempt, error = %e.without_url(), "the failure notification was not delivered")
                }
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
        Err(crate::Error::Internal(format!(
            "the failure notification of {id} was not accepted after {ATTEMPTS} tries"
        )))
    }
}

/// The JSON summary of a failed execution (see the module doc).
pub fn summary(r: &ExecutionRecord) -> Value {
    let error = r.error.clone().unwrap_or(Value::Null);
    let message = error["message"].as_str().unwrap_or("no error recorded");
    let class = error["class"].as_str().unwrap_or("unknown");
    let text = format!(
        "Harmonia: `{}` (version {}) failed: {message} [{class}] (execution {})",
        r.workflow, r.version, r.id
    );
    json!({
        "text": text,
        "execution_id": r.id.to_string(),
        "workflow": r.workflow,
        "version": r.version,
        "status": r.status.as_str(),
        "error": {"task": error["task"], "class": error["class"], "message": error["message"]},
        "started_at": r.started_at.map(|t| t.to_string()),
        "ended_at": r.ended_at.map(|t| t.to_string()),
        "link": format!("/api/executions/{}", r.id),
    })
}
