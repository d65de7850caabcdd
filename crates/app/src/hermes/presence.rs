//! Harmonia's presence in Hermes: register, heart-beat, register again when the
//! registration expired, unregister on the way out.
//!
//! [`Presence::run`] is the loop `serve` spawns. Hermes is never needed: a failure is
//! logged and retried (registration with a backoff from 1 s doubling to 60 s; heartbeats
//! at their interval), never fatal, and nothing waits for it: start-up and requests go
//! on whatever Hermes does, and neither does a shutdown (a call in flight is dropped,
//! and the unregistration has [`UNREGISTER_TIMEOUT`]). A heartbeat answered 401 or 404 (the token expired, or
//! Hermes restarted and forgot) registers again at once. [`Presence::status`] is what
//! `/health` shows.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use harmonia_storage::Timestamp;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::client::{Client, HermesError, Registered};

/// The first pause after a failed registration; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest pause between registration tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long the unregistration on the way out may take.
pub const UNREGISTER_TIMEOUT: Duration = Duration::from_secs(2);
/// What Harmonia tells Hermes it can do.
pub const CAPABILITIES: [&str; 8] = [
    "workflow_orchestration",
    "workflow_execution",
    "template_management",
    "state_management",
    "external_workers",
    "webhooks",
    "event_triggers",
    "scheduling",
];

/// Where Harmonia stands with Hermes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Whether the last registration or heartbeat succeeded.
    pub registered: bool,
    /// The id Hermes gave, once registered.
    pub component_id: Option<String>,
    /// When the last heartbeat (or registration) succeeded.
    pub last_contact: Option<Timestamp>,
    /// Why the last call failed, when it did.
    pub last_error: Option<String>,
    /// How many times Harmonia registered (more than one: it registered again).
    pub registrations: u64,
}

/// The registration loop and its status (cheap to clone).
#[derive(Clone)]
pub struct Presence {
    client: Client,
    payload: Value,
    interval: Duration,
    status: Arc<Mutex<Status>>,
}

impl std::fmt::Debug for Presence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presence")
            .field("hermes", &self.client.base().as_str())
            .finish_non_exhaustive()
    }
}

/// The registration payload of a Harmonia reachable at `endpoint` (its base URL).
pub fn payload(endpoint: &str) -> Value {
    let base = endpoint.trim_end_matches('/');
    json!({
        "name": "harmonia",
        "version": env!("CARGO_PKG_VERSION"),
        "type": "harmonia",
        "endpoint": base,
        "capabilities": CAPABILITIES,
        "metadata": {
            "description": "Workflow orchestration: durable workflows, templates, triggers and external workers",
            "api_base": format!("{base}/api/v1"),
            "ui_url": format!("{base}/"),
            "mcp_endpoint": format!("{base}/mcp"),
            "health": format!("{base}/health"),
            "discovery": format!("{base}/api/v1/discovery"),
            "version": env!("CARGO_PKG_VERSION"),
        }
    })
}

impl Presence {
    /// Registers `payload` with the Hermes of `client`, heart-beating every `interval`.
    pub fn new(client: Client, payload: Value, interval: Duration) -> Presence {
        Presence {
            client,
            payload,
            interval,
            status: Arc::default(),
        }
    }

    /// Hermes' base URL.
    pub fn hermes_url(&self) -> String {
        self.client
            .base()
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }

    /// Where Harmonia stands with Hermes now.
    pub fn status(&self) -> Status {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn update(&self, f: impl FnOnce(&mut Status)) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s);
    }

    /// Registers and heart-beats until `stop`, then unregisters (within
    /// [`UNREGISTER_TIMEOUT`]). A call in flight when `stop` comes is dropped: a Hermes
    /// that hangs never holds up a shutdown.
    pub async fn run(&self, stop: CancellationToken) {
        let mut registration: Option<Registered> = None;
        let mut backoff = FIRST_BACKOFF;
        loop {
            let pause = tokio::select! {
                () = stop.cancelled() => break,
                pause = self.step(&mut registration, &mut backoff) => pause,
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        if let Some(r) = registration {
            match tokio::time::timeout(UNREGISTER_TIMEOUT, self.client.unregister(&r)).await {
                Ok(Ok(())) => tracing::info!("unregistered from Hermes"),
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot unregister from Hermes"),
                Err(_) => tracing::warn!(
                    "Hermes did not answer the unregistration within {UNREGISTER_TIMEOUT:?}"
                ),
            }
            self.update(|s| s.registered = false);
        }
    }

    /// One registration or heartbeat; returns how long to pause before the next.
    async fn step(
        &self,
        registration: &mut Option<Registered>,
        backoff: &mut Duration,
    ) -> Duration {
        match registration {
            None => match self.client.register(&self.payload).await {
                Ok(r) => {
                    tracing::info!(hermes = %self.client.base(), component_id = %r.component_id, "registered with Hermes");
                    self.update(|s| {
                        s.registered = true;
                        s.component_id = Some(r.component_id.clone());
                        s.last_contact = Some(Timestamp::now());
                        s.last_error = None;
                        s.registrations += 1;
                    });
                    *registration = Some(r);
                    *backoff = FIRST_BACKOFF;
                    self.interval
                }
                Err(e) => {
                    tracing::warn!(hermes = %self.client.base(), error = %e, retry_in = ?*backoff, "cannot register with Hermes");
                    self.update(|s| {
                        s.registered = false;
                        s.last_error = Some(e.to_string());
                    });
                    let pause = *backoff;
                    *backoff = (*backoff * 2).min(MAX_BACKOFF);
                    pause
                }
            },
            Some(r) => match self.client.heartbeat(r, "healthy").await {
                Ok(()) => {
                    self.update(|s| {
                        s.registered = true;
                        s.last_contact = Some(Timestamp::now());
                        s.last_error = None;
                    });
                    self.interval
                }
                Err(HermesError::Expired(status)) => {
                    tracing::info!(
                        status,
                        "Hermes no longer knows this registration; registering again"
                    );
                    self.update(|s| {
                        s.registered = false;
                        s.last_error = Some(HermesError::Expired(status).to_string());
                    });
                    *registration = None;
                    Duration::ZERO
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a heartbeat to Hermes failed");
                    self.update(|s| {
                        s.registered = false;
                        s.last_error = Some(e.to_string());
                    });
                    self.interval.min(MAX_BACKOFF)
                }
            },
        }
    }
}
