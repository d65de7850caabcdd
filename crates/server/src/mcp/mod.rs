//! Harmonia as an MCP server at `/mcp`: its workflows, executions, templates and
//! components as tools, and workflow definitions and execution histories as
//! resources, for agents and for Tekton's MCP hub.
//!
//! The transport is MCP's Streamable HTTP (the `rmcp` SDK), stateless: every `POST
//! /mcp` is answered on its own, as one JSON body (`json_response`), with no session to
//! keep; `initialize` and `server/discover` both work, so clients of the handshake
//! revisions and of 2026-07-28 alike are served. A client must accept both
//! `application/json` and `text/event-stream`, as the transport says.
//!
//! Layout: `tools` (the table: each tool's name, description, input schema and least
//! role), `args` (reading a tool's arguments by name and type), `calls` (what each
//! tool does: one use case of `harmonia_app` each, rendered with the REST API's views),
//! `resources` (`harmonia://workflows/{name}`, `harmonia://executions/{id}/history`),
//! `handler` (the SDK's `ServerHandler` over those).
//!
//! Invariants:
//! - the tools call the same use cases as the REST routes and answer the same views,
//!   so a tool's result has the shape of its route's body;
//! - `/mcp` sits behind the same guards as the API (`middleware::browsers`, then
//!   `middleware::authorize`, where `/mcp` needs `Read`): when a token is needed, the
//!   request must carry one of any role but `worker` (401 without, 403 for a worker's);
//!   then each tool checks the caller's role against its least role, the same as its
//!   route's (`auth::Need::of`), and answers a tool error naming the role it needs;
//! - a use case's error is a tool error (`isError: true`) whose text is `code:
//!   message` from the server's one error table (`ApiError`), its details following
//!   when it has any (every diagnostic of an invalid definition), and whose structured
//!   content is the API's error body; a bad argument is an `invalid_request` tool
//!   error naming the argument. Unknown tools and resources are JSON-RPC errors, as MCP
//!   says;
//! - the SDK's own `Host` check is off: the server's guard in front decides which hosts
//!   are served (loopback names only while no token is needed on a loopback server), so
//!   a server on a LAN address with tokens works. A request without `Host` (not a
//!   browser's) is given one, as the guard lets it pass. The transport's plain-text
//!   refusals (406, 415, 405) get the API's error shape, their text as the message.

mod args;
mod calls;
mod handler;
mod resources;
mod tools;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) use handler::Mcp;

/// The MCP transport over `state`'s use cases.
pub(crate) type Service = StreamableHttpService<Mcp, NeverSessionManager>;

/// The Streamable HTTP service of `/mcp` (stateless, JSON answers, no `Host` check of
/// its own: see the module doc).
pub(crate) fn service(state: AppState) -> Service {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(state.0.config.max_body_bytes)
        .disable_allowed_hosts()
        .disable_allowed_origins();
    StreamableHttpService::new(
        move || Ok(Mcp::new(state.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    )
}

/// `/mcp`: the request (already past the guards) to the transport, and its plain-text
/// refusals into the API's error shape.
pub(crate) async fn handle(State(service): State<Service>, mut req: Request) -> Response {
    if !req.headers().contains_key(HOST) && req.uri().authority().is_none() {
        req.headers_mut()
            .insert(HOST, HeaderValue::from_static("localhost"));
    }
    shaped(service.handle(req).await.into_response()).await
}

/// The largest refusal text read back from the transport.
const MAX_REFUSAL_BYTES: usize = 16 * 1024;

/// An error answer of the transport that is not JSON (a JSON-RPC error is, and stays
/// as it is) in the API's error shape, its text as the message (5xx: logged, and the
/// message generic), its status and other headers kept.
async fn shaped(response: Response) -> Response {
    let status = response.status();
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_REFUSAL_BYTES)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let mut error = ApiError::for_status(status, Some("/mcp"));
    if status.is_server_error() {
        tracing::error!(status = %status, detail = %text, "the MCP transport failed");
    } else if !text.is_empty() {
        error.message = text;
    }
    let body = serde_json::to_vec(&error.body()).unwrap_or_default();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, axum::body::Body::from(body))
}
