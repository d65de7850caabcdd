//! WebSockets: watch one execution, or everything that happens to workflows.
//!
//! `/ws/executions/{id}` sends, as JSON text messages:
//! 1. `{"type": "snapshot", "execution": <the execution, as GET /api/executions/{id}>,
//!    "last_seq": N}`;
//! 2. every later event in order: `{"type": "event", "seq", "at", "kind", "summary",
//!    "event"}` (`summary`: the line `harmonia history` prints for it);
//! 3. when it ends: `{"type": "finished", "execution": ...}`, then the socket closes.
//!
//! `/ws/workflows` sends `workflow_created`, `workflow_updated`, `workflow_deleted`
//! (every change the use cases announce, `harmonia_app::Changes`: through the API, a
//! template's instantiation, or another adapter sharing the same `App`),
//! `execution_started` and `execution_finished` messages.
//!
//! Both read through the use cases (`harmonia_app::Executions`), never the routes.
//!
//! A slow client never slows the engine: events reach sockets through a bounded
//! broadcast channel. A socket that falls behind gets `{"type": "resync", "execution":
//! ..., "last_seq": N}` and continues from there (on `/ws/workflows`: a `resync`
//! message without state, since the lists are read over REST); a client that does not
//! take a message within 10 seconds is closed with the reason "client too slow". The
//! server pings every 20 seconds.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use harmonia_app::Change;
use harmonia_engine::LoggedEvent;
use harmonia_engine::event::Event;
use harmonia_storage::ExecutionId;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::error::{ApiError, ApiResult, Code};
use crate::extract::execution_id;
use crate::state::AppState;
use crate::views::ExecutionDetail;

const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(20);

fn upgrade(
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<WebSocketUpgrade> {
    ws.map_err(|e| {
        ApiError::new(
            Code::InvalidRequest,
            format!("this route is a WebSocket: {e}"),
        )
    })
}

/// Counts a connected client for the metrics while it lives.
struct Client(AppState);

impl Client {
    fn new(state: &AppState) -> Client {
        state.0.ws_clients.fetch_add(1, Ordering::SeqCst);
        Client(state.clone())
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.0.0.ws_clients.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn send(socket: &mut WebSocket, value: &Value) -> bool {
    let text = Utf8Bytes::from(value.to_string());
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await,
        Ok(Ok(()))
    )
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.to_string()),
    };
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}

/// Watch one execution: a snapshot, every event in order, then its end.
#[utoipa::path(
    get,
    path = "/ws/executions/{id}",
    tag = "websockets",
    params(("id" = String, Path, description = "The execution's id")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol (see the module documentation for the messages)"),
        (status = 400, description = "Not a WebSocket request", body = crate::error::ErrorBody),
        (status = 404, description = "No such execution", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn execution(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let id = match execution_id(&id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = state.app().executions().record(id).await {
        return ApiError::from(e).into_response();
    }
    match upgrade(ws) {
        Ok(ws) => ws
            .on_upgrade(move |socket| watch(socket, state, id))
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// The snapshot message and the sequence number it is current to.
async fn snapshot(state: &AppState, id: ExecutionId, kind: &str) -> Option<(Value, u64, bool)> {
    let s = state.app().executions().snapshot(id).await.ok()?;
    let finished = s.execution.record.status.is_terminal();
    let detail = ExecutionDetail::from_execution(&s.execution);
    Some((
        json!({"type": kind, "execution": detail, "last_seq": s.last_seq}),
        s.last_seq,
        finished,
    ))
}

async fn finish(socket: &mut WebSocket, state: &AppState, id: ExecutionId) {
    if let Ok(x) = state.app().executions().get(id).await {
        let detail = ExecutionDetail::from_execution(&x);
        send(socket, &json!({"type": "finished", "execution": detail})).await;
    }
    close(socket, close_code::NORMAL, "the execution ended").await;
}

async fn watch(mut socket: WebSocket, state: AppState, id: ExecutionId) {
    let _client = Client::new(&state);
    // Subscribe first, so that nothing falls between the snapshot and the stream.
    let mut events = state.app().executions().subscribe();
    let Some((message, mut last_seq, finished)) = snapshot(&state, id, "snapshot").await else {
        close(&mut socket, close_code::ERROR, "cannot read the execution").await;
        return;
    };
    if !send(&mut socket, &message).await {
        return;
    }
    if finished {
        finish(&mut socket, &state, id).await;
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(e) if e.execution == id && e.seq > last_seq => {
                    last_seq = e.seq;
                    let message = json!({
                        "type": "event",
                        "seq": e.seq,
                        "at": e.at,
                        "kind": e.event.kind(),
                        "summary": e.event.describe(),
                        "event": e.event,
                    });
                    if !send(&mut socket, &message).await {
                        close(&mut socket, close_code::POLICY, "client too slow").await;
                        return;
                    }
                    if matches!(e.event, Event::ExecutionSucceeded { .. } | Event::ExecutionFailed { .. } | Event::ExecutionCancelled) {
                        finish(&mut socket, &state, id).await;
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    let Some((message, seq, finished)) = snapshot(&state, id, "resync").await else { return };
                    last_seq = seq;
                    if !send(&mut socket, &message).await {
                        return;
                    }
                    if finished {
                        finish(&mut socket, &state, id).await;
                        return;
                    }
                }
                Err(RecvError::Closed) => {
                    close(&mut socket, close_code::AWAY, "the server is stopping").await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Default::default()))).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Watch workflows: created, updated, deleted; executions started and finished.
#[utoipa::path(
    get,
    path = "/ws/workflows",
    tag = "websockets",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol (see the module documentation for the messages)"),
        (status = 400, description = "Not a WebSocket request", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn workflows(
    State(state): State<AppState>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    match upgrade(ws) {
        Ok(ws) => {
            // Subscribed before the upgrade is answered: a change the client causes once
            // it has its socket is never missed.
            let hub = state.app().changes().subscribe();
            let events = state.app().executions().subscribe();
            ws.on_upgrade(move |socket| feed(socket, state, hub, events))
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn feed(
    mut socket: WebSocket,
    state: AppState,
    mut hub: broadcast::Receiver<Change>,
    mut events: broadcast::Receiver<Arc<LoggedEvent>>,
) {
    let _client = Client::new(&state);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            received = hub.recv() => match received {
                Ok(e) => serde_json::to_value(&e).unwrap_or(Value::Null),
                Err(RecvError::Lagged(_)) => json!({"type": "resync"}),
                Err(RecvError::Closed) => return,
            },
            received = events.recv() => match received {
                Ok(e) => match &e.event {
                    Event::ExecutionStarted { workflow, version, origin, .. } => json!({
                        "type": "execution_started",
                        "execution_id": e.execution,
                        "workflow": workflow,
                        "version": version,
                        "origin": origin.as_ref().map(crate::views::OriginView::from_origin),
                        "at": e.at,
                    }),
                    Event::ExecutionSucceeded { .. } | Event::ExecutionFailed { .. } | Event::ExecutionCancelled => {
                        let status = match &e.event {
                            Event::ExecutionSucceeded { .. } => "succeeded",
                            Event::ExecutionFailed { .. } => "failed",
                            _ => "cancelled",
                        };
                        json!({"type": "execution_finished", "execution_id": e.execution, "status": status, "at": e.at})
                    }
                    _ => continue,
                },
                Err(RecvError::Lagged(_)) => json!({"type": "resync"}),
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
            _ = ping.tick() => {
                if tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Default::default()))).await.is_err() {
                    return;
                }
                continue;
            }
        };
        if !send(&mut socket, &message).await {
            close(&mut socket, close_code::POLICY, "client too slow").await;
            return;
        }
    }
}
