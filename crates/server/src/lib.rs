//! Harmonia's HTTP server: the REST and WebSocket API on one port, an MCP server at
//! `/mcp`, its OpenAPI description, auth, and operations endpoints.
//!
//! [`app`] builds the router on an [`AppState`] (the use cases of `harmonia_app` over
//! an engine, and settings); [`serve`] runs it on a listener until a shutdown signal,
//! then lets in-flight requests finish. The binary wires in the store and the engine;
//! this crate is adapters only: it knows neither SQL nor how executions run, and asks
//! the use cases for everything but tokens and readiness (the store trait).
//!
//! Layout: `routes/` (one module per resource, handlers that parse, call a use case
//! and render), `ws` (WebSockets, over the same use cases), `extract` (bodies, queries
//! and path ids with the API's error shape), `mcp` (the same use cases as MCP tools
//! and resources, behind the same guards), `error` (that shape, and the one table
//! from the use cases' errors), `auth` and `middleware` (tokens and roles, and keeping
//! other web pages out), `views` (what goes over the wire), `openapi`, `wire` (the
//! connections under hyper, so that its own error answers have the shape too), `ui`
//! (the web console's embedded assets at `/`).

pub mod auth;
pub mod error;
mod extract;
mod mcp;
mod middleware;
mod openapi;
mod request_span;
mod routes;
mod state;
mod ui;
pub mod views;
mod wire;
mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use auth::{Access, Role, create_token, hash_token};
pub use error::{ApiError, Code};
pub use state::{ApiConfig, AppState};
pub use views::{TaskView, tasks_view};

use crate::error::ApiError as Error;

/// The API routes (relative to `/api`), with their OpenAPI description.
fn api() -> OpenApiRouter<AppState> {
    routes::workflows::router()
        .merge(routes::executions::router())
        .merge(routes::approvals::router())
        .merge(routes::held::router())
        .merge(routes::inputs::router())
        .merge(routes::events::router())
        .merge(routes::triggers::router())
        .merge(routes::deliveries::router())
        .merge(routes::templates::router())
        .merge(routes::components::router())
        .merge(routes::workers::router())
        .merge(routes::discovery::router())
        .merge(routes::analytics::router())
        .merge(routes::task_types::router())
        .merge(routes::nodes::router())
        .merge(routes::assist::router())
}

/// The OpenAPI description of the whole server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    description().1
}

fn description() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api", api())
        .merge(routes::ops::router())
        .merge(routes::hooks::router())
        .routes(routes!(ws::execution))
        .routes(routes!(ws::workflows))
        .split_for_parts()
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Error {
    Error::new(
        Code::MethodNotAllowed,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// The whole server: API, WebSockets, operations, OpenAPI and docs.
pub fn app(state: AppState) -> Router {
    let (router, openapi) = description();
    let (v1, _) = api().split_for_parts();
    let mut app = router
        .nest("/api/v1", v1)
        .route(
            "/mcp",
            axum::routing::any(mcp::handle).with_state(mcp::service(state.clone())),
        )
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .route(
            "/ui/hephaestus/harmonia-component.html",
            axum::routing::get(ui::hephaestus),
        )
        .fallback(ui::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.0.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authorize,
        ))
        // Before auth: a page of another origin learns nothing, not even "401".
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::browsers,
        ));
    let origins: Vec<HeaderValue> = state
        .0
        .config
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if !origins.is_empty() {
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::CONTENT_TYPE,
                ]),
        );
    }
    // Every request and its status and latency, at debug level
    // (`RUST_LOG=tower_http=debug`), credentials in the query redacted.
    // Outside everything but tracing: every error response gets the API's shape.
    app = app.layer(axum::middleware::from_fn(error::shape));
    let trace = TraceLayer::new_for_http()
        .make_span_with(request_span::make)
        .on_response(DefaultOnResponse::new().level(tracing::Level::DEBUG));
    app.layer(trace).with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting and lets
/// requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The connections give hyper's own error answers (a head it cannot read) the
    // API's error shape.
    axum::serve(wire::Listener(listener), app)
        .with_graceful_shutdown(shutdown)
        .await
}
