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
//! An execution that another node runs (several servers on one PostgreSQL database) is
//! followed by reading its log every 250 ms, from the last event sent; which node runs
//! it is checked again every 2 seconds (it may move here, or away).
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
/// How often a watcher reads the log of an execution another node runs.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// Every how many polls a watcher checks again which node runs the execution.
const OWNER_EVERY: u32 = 8;

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
    // Another node's events are not broadcast here: while the execution runs
    // elsewhere, its log is read as it grows.
    let executions = state.app().executions();
    let mut elsewhere = executions.runs_elsewhere(id).await.unwrap_or(false);
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut polls = 0u32;
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(e) if e.execution == id && e.seq > last_seq => {
                    match forward(&mut socket, &state, id, &e, &mut last_seq).await {
                        Forwarded::Sent => {}
                        Forwarded::Done => return,
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
            _ = poll.tick() => {
                polls = polls.wrapping_add(1);
                if polls.is_multiple_of(OWNER_EVERY) {
                    elsewhere = executions.runs_elsewhere(id).await.unwrap_or(elsewhere);
                }
                if !elsewhere {
                    continue;
                }
                let Ok(read) = executions.events_after(id, last_seq).await else { continue };
                for e in &read {
                    match forward(&mut socket, &state, id, e, &mut last_seq).await {
                        Forwarded::Sent => {}
                        Forwarded::Done => return,
                    }
                }
            }
        }
    }
}

/// What became of an event sent to a watcher.
enum Forwarded {
    /// Sent; the watch goes on.
    Sent,
    /// The socket is closed: the execution ended, or the client is too slow.
    Done,
}

/// Sends event `e` of execution `id` (its `seq` past `last_seq`, which moves to it),
/// and, when it ends the execution, the `finished` message.
async fn forward(
    socket: &mut WebSocket,
    state: &AppState,
    id: ExecutionId,
    e: &LoggedEvent,
    last_seq: &mut u64,
) -> Forwarded {
    if e.seq <= *last_seq {
        return Forwarded::Sent;
    }
    *last_seq = e.seq;
    let message = json!({
        "type": "event",
        "seq": e.seq,
        "at": e.at,
        "kind": e.event.kind(),
        "summary": e.event.describe(),
        "event": e.event,
    });
    if !send(socket, &message).await {
        close(socket, close_code::POLICY, "client too slow").await;
        return Forwarded::Done;
    }
    if matches!(
        e.event,
        Event::ExecutionSucceeded { .. }
            | Event::ExecutionFailed { .. }
            | Event::ExecutionCancelled
    ) {
        finish(socket, state, id).await;
        return Forwarded::Done;
    }
    Forwarded::Sent
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
