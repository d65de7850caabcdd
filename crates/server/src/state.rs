//! What every handler shares: the engine's handle, the store, the definitions, auth,
//! the hub of workflow notifications, and the metrics exporter.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use harmonia_engine::{Handle, Plans};
use harmonia_storage::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::auth::{Access, Auth};

/// A notification for `/ws/workflows` subscribers.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubEvent {
    /// A workflow was created.
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

/// Settings the handlers need.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Origins allowed to call the API from a browser, as browsers send them in
    /// `Origin` (`scheme://host[:port]`); empty: the server's own origin only.
    pub cors_origins: Vec<String>,
    /// Who may use the API without a token (from where the server listens).
    pub access: Access,
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            max_body_bytes: 10 * 1024 * 1024,
            cors_origins: Vec::new(),
            access: Access::default(),
        }
    }
}

/// The state shared by every handler (cheap to clone).
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) handle: Handle,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) plans: Arc<Plans>,
    pub(crate) auth: Auth,
    pub(crate) hub: broadcast::Sender<HubEvent>,
    pub(crate) metrics: Option<PrometheusHandle>,
    pub(crate) config: ApiConfig,
    pub(crate) ready: AtomicBool,
    pub(crate) ws_clients: AtomicI64,
}

impl AppState {
    /// State for a server on `handle`. `metrics` renders `/metrics` when given.
    pub fn new(handle: Handle, config: ApiConfig, metrics: Option<PrometheusHandle>) -> AppState {
        let store = handle.store().clone();
        let plans = handle.plans().clone();
        let (hub, _) = broadcast::channel(1024);
        AppState(Arc::new(Inner {
            auth: Auth::new(store.clone(), config.access),
            handle,
            store,
            plans,
            hub,
            metrics,
            config,
            ready: AtomicBool::new(true),
            ws_clients: AtomicI64::new(0),
        }))
    }

    /// Marks the server as (not) ready for `/ready`.
    pub fn set_ready(&self, ready: bool) {
        self.0.ready.store(ready, Ordering::SeqCst);
    }

    pub(crate) fn notify(&self, event: HubEvent) {
        let _ = self.0.hub.send(event);
    }
}
