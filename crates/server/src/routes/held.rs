//! `/api/executions/{id}/tasks/{task}/retry`, `/skip` and `/fail`: a person decides
//! what becomes of a task held by `on_error: pause` (its execution paused there), or
//! of a failed task of a paused execution when nothing after it has run (the tasks
//! skipped because of it are pending again; the execution stays paused until resumed).
//!
//! Adapters over `harmonia_app::Executions::decide_held`. `retry` runs the task's
//! failed attempts (or items) again; `skip` takes `{output}` as its result (it succeeds
//! and its dependents run); `fail` lets it fail as under `on_error: fail`. The
//! execution goes on once no task is held. Any other task is `409 not_waiting`, with
//! the reason, and nothing changes.

use axum::Json;
use axum::extract::{Path, State};
use harmonia_engine::event::Decision;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, execution_id};
use crate::state::AppState;
use crate::views::ControlResponse;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(retry))
        .routes(routes!(skip))
        .routes(routes!(fail))
}

/// The output a skipped task stands in with.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"output": {"status": "skipped by hand"}}))]
pub(crate) struct SkipRequest {
    /// The task's result from now on (null when absent).
    #[serde(default)]
    output: Value,
}

async fn decide(
    state: &AppState,
    id: &str,
    task: &str,
    decision: Decision,
) -> ApiResult<Json<ControlResponse>> {
    let status = state
        .app()
        .executions()
        .decide_held(execution_id(id)?, task, decision)
        .await?;
    Ok(Json(ControlResponse::new(id, status)))
}

/// Run a held task again: its failed attempts (or items) start anew.
#[utoipa::path(
    post,
    path = "/executions/{id}/tasks/{task}/retry",
    tag = "executions",
    params(
        ("id" = String, Path, description = "The execution's id"),
        ("task" = String, Path, description = "The held task's name"),
    ),
    responses(
        (status = 200, description = "The execution's status now", body = ControlResponse),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "The task is not held (or the execution has ended)", body = ErrorBody),
    )
)]
async fn retry(
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
) -> ApiResult<Json<ControlResponse>> {
    decide(&state, &id, &task, Decision::Retry).await
}

/// Skip a held task with an output: it succeeds with that output, and its dependents
/// run.
#[utoipa::path(
    post,
    path = "/executions/{id}/tasks/{task}/skip",
    tag = "executions",
    params(
        ("id" = String, Path, description = "The execution's id"),
        ("task" = String, Path, description = "The held task's name"),
    ),
    request_body(content((Option<SkipRequest> = "application/json"), (Option<SkipRequest> = "application/yaml"))),
    responses(
        (status = 200, description = "The execution's status now", body = ControlResponse),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "The task is not held (or the execution has ended)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
    )
)]
async fn skip(
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
    Body(request): Body<SkipRequest>,
) -> ApiResult<Json<ControlResponse>> {
    let output = request.output;
    decide(&state, &id, &task, Decision::Skip { output }).await
}

/// Fail a held task: the execution fails as under `on_error: fail`.
#[utoipa::path(
    post,
    path = "/executions/{id}/tasks/{task}/fail",
    tag = "executions",
    params(
        ("id" = String, Path, description = "The execution's id"),
        ("task" = String, Path, description = "The held task's name"),
    ),
    responses(
        (status = 200, description = "The execution's status now", body = ControlResponse),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "The task is not held (or the execution has ended)", body = ErrorBody),
    )
)]
async fn fail(
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
) -> ApiResult<Json<ControlResponse>> {
    decide(&state, &id, &task, Decision::Fail).await
}
