//! The API's routes, one module per resource. Each handler is an adapter: it parses
//! the request (`crate::extract`), calls one use case of `harmonia_app`, and renders
//! its value as a view (`crate::views`) or its error as an `ApiError`. No handler
//! calls another module's handlers, the engine or the store.

use serde::Deserialize;
use utoipa::IntoParams;

pub(crate) mod analytics;
pub(crate) mod approvals;
pub(crate) mod assist;
pub(crate) mod components;
pub(crate) mod deliveries;
pub(crate) mod discovery;
pub(crate) mod events;
pub(crate) mod executions;
pub(crate) mod held;
pub(crate) mod hooks;
pub(crate) mod inputs;
pub(crate) mod nodes;
pub(crate) mod ops;
pub(crate) mod task_types;
pub(crate) mod templates;
pub(crate) mod triggers;
pub(crate) mod workers;
pub(crate) mod workflows;

/// Which version to read (of a workflow or a template).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VersionQuery {
    /// A version number (default: the latest).
    #[param(minimum = 1)]
    pub(crate) version: Option<u32>,
}
