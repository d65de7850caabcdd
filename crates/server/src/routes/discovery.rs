//! `/api/v1/discovery` (and `/api/discovery`): what this component is and offers, as
//! Tekton components describe themselves: name, version, capabilities, and every route
//! (read from the server's own OpenAPI description, so it cannot drift). Public, like
//! `/health`: other components read it before they hold a token.

use std::sync::OnceLock;

use axum::Json;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::views::integration::{DiscoveredEndpoint, Discovery};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(discovery))
}

/// The routes, computed once.
fn endpoints() -> &'static [DiscoveredEndpoint] {
    static ENDPOINTS: OnceLock<Vec<DiscoveredEndpoint>> = OnceLock::new();
    ENDPOINTS.get_or_init(|| {
        let doc = serde_json::to_value(crate::openapi()).unwrap_or_default();
        let mut out = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
            for (path, ops) in paths {
                let Some(ops) = ops.as_object() else { continue };
                for (method, op) in ops {
                    let description = op
                        .get("summary")
                        .or_else(|| op.get("description"))
                        .and_then(|d| d.as_str())
                        .unwrap_or_default();
                    out.push(DiscoveredEndpoint {
                        path: path.clone(),
                        method: method.to_uppercase(),
                        description: description.to_string(),
                    });
                }
            }
        }
        out
    })
}

/// What Harmonia is and offers.
#[utoipa::path(
    get,
    path = "/discovery",
    tag = "operations",
    responses((status = 200, description = "The component's description", body = Discovery))
)]
async fn discovery() -> Json<Discovery> {
    Json(Discovery {
        name: "harmonia".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        description:
            "Workflow orchestration: durable workflows, templates, triggers and external workers"
                .into(),
        capabilities: harmonia_app::hermes::CAPABILITIES
            .iter()
            .map(ToString::to_string)
            .collect(),
        endpoints: endpoints().to_vec(),
        metadata: json!({
            "openapi": "/openapi.json",
            "docs": "/docs",
            "health": "/health",
            "api_base": "/api/v1",
            "mcp": "/mcp",
            "websockets": ["/ws/executions/{id}", "/ws/workflows"],
        }),
    })
}
