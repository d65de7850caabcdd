//! What every handler shares: the application's use cases (`harmonia_app::App`), the
//! store (for auth and readiness only: everything else goes through the use cases),
//! auth, the metrics exporter, and the settings.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use harmonia_app::App;
use harmonia_engine::Handle;
use harmonia_storage::Store;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::{Access, Auth};

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
    /// The port the server listens on, for `/health`.
    pub port: Option<u16>,
    /// Harmonia's registration with Hermes, for `/health`, when Hermes is configured.
    pub hermes: Option<harmonia_app::hermes::Presence>,
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            max_body_bytes: 10 * 1024 * 1024,
            cors_origins: Vec::new(),
            access: Access::default(),
            port: None,
            hermes: None,
        }
    }
}

/// The state shared by every handler (cheap to clone).
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) app: App,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) auth: Auth,
    pub(crate) metrics: Option<PrometheusHandle>,
    pub(crate) config: ApiConfig,
    pub(crate) ready: AtomicBool,
    pub(crate) ws_clients: AtomicI64,
}

impl AppState {
    /// State for a server on `handle`, with use cases of its own. `metrics` renders
    /// `/metrics` when given.
    pub fn new(handle: Handle, config: ApiConfig, metrics: Option<PrometheusHandle>) -> AppState {
        AppState::with_app(App::new(handle), config, metrics)
    }

    /// State for a server over `app`'s use cases (shared with other adapters, which
    /// then see the same changes). `metrics` renders `/metrics` when given.
    pub fn with_app(app: App, config: ApiConfig, metrics: Option<PrometheusHandle>) -> AppState {
        let store = app.store().clone();
        AppState(Arc::new(Inner {
            auth: Auth::new(store.clone(), config.access),
            app,
            store,
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

    /// The use cases.
    pub(crate) fn app(&self) -> &App {
        &self.0.app
    }
}
