//! Operations: `/health` (liveness, version, and this node: its id, lease, what it
//! owns, renewals and takeovers), `/ready` (the store answers and recovery is done),
//! `/metrics` (Prometheus text, with the same node figures).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use harmonia_storage::prelude::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Code, ErrorBody};
use crate::state::AppState;
use crate::views::nodes::NodeHealth;
use crate::views::{Health, HermesStanding, Ready};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

/// Liveness: the process answers; with Tekton's fields (`component`, `port`, and
/// whether Harmonia is `registered` with Hermes).
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Alive", body = Health)))]
async fn health(State(state): State<AppState>) -> Json<Health> {
    let config = &state.0.config;
    let hermes = config.hermes.as_ref().map(|p| (p.hermes_url(), p.status()));
    let nodes = state.app().nodes();
    let node = NodeHealth::from_status(&nodes.this(), nodes.owned().await.ok());
    Json(Health {
        node,
        status: "ok".into(),
        component: "harmonia".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        port: config.port,
        registered: hermes.as_ref().is_some_and(|(_, s)| s.registered),
        hermes: hermes.map(|(url, s)| HermesStanding {
            url,
            component_id: s.component_id,
            last_contact: s.last_contact.map(|t| t.to_string()),
            last_error: s.last_error,
            registrations: s.registrations,
        }),
    })
}

/// Readiness: the store answers and recovery has finished.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Not ready", body = Ready),
    )
)]
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Ready>) {
    let store = state
        .0
        .store
        .workflow("__readiness_probe__", None)
        .await
        .is_ok();
    let ready = store && state.0.ready.load(std::sync::atomic::Ordering::SeqCst);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Ready { ready, store }))
}

/// Metrics in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus metrics", content_type = "text/plain", body = String),
        (status = 503, description = "Metrics are not collected by this server", body = ErrorBody),
    )
)]
async fn metrics(State(state): State<AppState>) -> Response {
    match &state.0.metrics {
        Some(handle) => {
            metrics::gauge!("harmonia_websocket_clients")
                .set(state.0.ws_clients.load(std::sync::atomic::Ordering::SeqCst) as f64);
            let nodes = state.app().nodes();
            let node = nodes.this();
            if let Ok(owned) = nodes.owned().await {
                metrics::gauge!("harmonia_node_owned_executions", "node" => node.id.clone())
                    .set(owned as f64);
            }
            metrics::counter!("harmonia_node_lease_renewals_total", "node" => node.id.clone())
                .absolute(node.renewals);
            metrics::counter!("harmonia_node_late_renewals_total", "node" => node.id.clone())
                .absolute(node.late_renewals);
            metrics::counter!("harmonia_node_takeovers_total", "node" => node.id.clone())
                .absolute(node.takeovers);
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                handle.render(),
            )
                .into_response()
        }
        None => ApiError::new(
            Code::Unavailable,
            "metrics are not collected by this server",
        )
        .into_response(),
    }
}
