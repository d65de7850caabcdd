//! `/api/executions`: list, read, history, cancel, pause, resume, retry.
//!
//! Adapters over `harmonia_app::Executions` (whose module doc holds the rules).
//! Control operations answer with the execution's status after the operation, or `409
//! conflict` when it does not apply (pausing a paused execution, cancelling one that
//! succeeded). Cancelling a cancelled execution is a no-op that answers its status.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use harmonia_app::executions::{ExecutionFilter, RetryMode};
use harmonia_storage::{ExecutionStatus, OriginKind, Timestamp};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, Query, execution_id};
use crate::state::AppState;
use crate::views::{
    ControlRequest, ControlResponse, EventList, ExecutionDetail, ExecutionList, RetryRequest,
    RetryResponse,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(events))
        .routes(routes!(cancel))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(retry))
}

/// Filters and paging of execution lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only executions of this workflow (by name).
    workflow: Option<String>,
    /// Only executions with one of these statuses, comma-separated (`failed,cancelled`):
    /// pending, running, paused, succeeded, failed or cancelled.
    #[param(
        example = "failed,cancelled",
        pattern = "^(pending|running|paused|succeeded|failed|cancelled)(,(pending|running|paused|succeeded|failed|cancelled))*$"
    )]
    status: Option<String>,
    /// Only executions whose id starts with this (hex digits and dashes): what a
    /// client resolves a short id with.
    #[param(example = "01a20b95", pattern = "^[0-9a-fA-F-]{1,36}$")]
    id_prefix: Option<String>,
    /// Only executions started by one of these kinds of origin, comma-separated
    /// (`schedule,webhook`): api, mcp, cli, schedule, webhook, event, retry, workflow or
    /// template. Executions recorded before origins were (`origin: null`) match none.
    #[param(
        example = "schedule,webhook",
        pattern = "^(api|mcp|cli|schedule|webhook|event|retry|workflow|template)(,(api|mcp|cli|schedule|webhook|event|retry|workflow|template))*$"
    )]
    origin: Option<String>,
    /// Only executions that this trigger started: its id as `GET /api/triggers` shows
    /// it (`nightly.0`), matched exactly against `origin.by` of the `schedule`,
    /// `webhook` and `event` kinds.
    #[param(example = "nightly.0")]
    trigger: Option<String>,
    /// Only executions whose inputs contain this text: a case-sensitive, literal
    /// substring of the inputs as compact JSON (`"name":"alice"` matches the field, with
    /// its quotes; `alice` any value or key containing it). At most 200 characters.
    /// Each page reads the inputs of the executions it passes over, newest first.
    #[param(example = "alice", max_length = 200)]
    input: Option<String>,
    /// Created at or after this time (RFC 3339).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Created before this time (RFC 3339).
    #[param(format = DateTime)]
    until: Option<String>,
    /// At most this many (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    cursor: Option<String>,
}

/// The statuses of `status=a,b`: each one known, at least one, no spaces (what the
/// documented pattern says).
fn statuses(value: Option<&str>) -> ApiResult<Vec<ExecutionStatus>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(|s| {
            s.parse::<ExecutionStatus>().map_err(|_| {
                ApiError::bad_request(format!(
                    "`status` must be a comma-separated list of pending, running, paused, succeeded, failed or cancelled, found `{s}`"
                ))
            })
        })
        .collect()
}

/// The origin kinds of `origin=a,b`: each one known, at least one, no spaces (what the
/// documented pattern says).
fn origins(value: Option<&str>) -> ApiResult<Vec<OriginKind>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(|s| {
            s.parse::<OriginKind>().map_err(|_| {
                ApiError::bad_request(format!(
                    "`origin` must be a comma-separated list of {}, found `{s}`",
                    OriginKind::listed()
                ))
            })
        })
        .collect()
}

fn time(name: &str, value: &Option<String>) -> ApiResult<Option<Timestamp>> {
    value
        .as_ref()
        .map(|v| {
            Timestamp::parse(v).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`{name}` must be an RFC 3339 time such as 2026-11-24T10:00:00Z, found `{v}`"
                ))
            })
        })
        .transpose()
}

/// List executions, newest first.
#[utoipa::path(
    get,
    path = "/executions",
    tag = "executions",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of executions", body = ExecutionList),
        (status = 400, description = "Bad query", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ExecutionList>> {
    let filter = ExecutionFilter {
        workflow: q.workflow,
        statuses: statuses(q.status.as_deref())?,
        id_prefix: q.id_prefix,
        origins: origins(q.origin.as_deref())?,
        trigger: q.trigger,
        input: q.input,
        since: time("since", &q.since)?,
        until: time("until", &q.until)?,
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = state.app().executions().list(filter).await?;
    Ok(Json(ExecutionList::from_page(&page)))
}

/// Read an execution: status, timings, inputs, outputs, error, and every task.
#[utoipa::path(
    get,
    path = "/executions/{id}",
    tag = "executions",
    params(("id" = String, Path, description = "The execution's id")),
    responses(
        (status = 200, description = "The execution", body = ExecutionDetail),
        (status = 404, description = "No such execution", body = ErrorBody),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExecutionDetail>> {
    let x = state.app().executions().get(execution_id(&id)?).await?;
    Ok(Json(ExecutionDetail::from_execution(&x)))
}

/// Read an execution's history: its event log, in order.
#[utoipa::path(
    get,
    path = "/executions/{id}/events",
    tag = "executions",
    params(("id" = String, Path, description = "The execution's id")),
    responses(
        (status = 200, description = "Its events", body = EventList),
        (status = 404, description = "No such execution", body = ErrorBody),
    )
)]
async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<EventList>> {
    let id = execution_id(&id)?;
    let events = state.app().executions().history(id).await?;
    Ok(Json(EventList::new(id, events)))
}

async fn control(
    id: &str,
    op: impl std::future::Future<Output = harmonia_app::Result<ExecutionStatus>>,
) -> ApiResult<Json<ControlResponse>> {
    Ok(Json(ControlResponse::new(id, op.await?)))
}

/// Cancel an execution: running work is stopped (processes killed, requests dropped,
/// child executions cancelled).
#[utoipa::path(
    post,
    path = "/executions/{id}/cancel",
    tag = "executions",
    params(("id" = String, Path, description = "The execution's id")),
    request_body(content((Option<ControlRequest> = "application/json"), (Option<ControlRequest> = "application/yaml"))),
    responses(
        (status = 200, description = "Its status now", body = ControlResponse),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "It already succeeded or failed", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
    )
)]
async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(request): Body<ControlRequest>,
) -> ApiResult<Json<ControlResponse>> {
    let x = execution_id(&id)?;
    control(&id, state.app().executions().cancel(x, request.reason)).await
}

/// Pause a running execution: no new task starts; running ones finish.
#[utoipa::path(
    post,
    path = "/executions/{id}/pause",
    tag = "executions",
    params(("id" = String, Path, description = "The execution's id")),
    responses(
        (status = 200, description = "Its status now", body = ControlResponse),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "It is not running", body = ErrorBody),
    )
)]
async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ControlResponse>> {
    let x = execution_id(&id)?;
    control(&id, state.app().executions().pause(x)).await
}

/// Resume a paused execution.
#[utoipa::path(
    post,
    path = "/executions/{id}/resume",
    tag = "executions",
    params(("id" = String, Path, description = "The execution's id")),
    responses(
        (status = 200, description = "Its status now", body = ControlResponse),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "It is not paused", body = ErrorBody),
    )
)]
async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ControlResponse>> {
    let x = execution_id(&id)?;
    control(&id, state.app().executions().resume(x)).await
}

/// Retry an execution from its failure, or preview what a retry would do.
#[utoipa::path(
    post,
    path = "/executions/{id}/retry",
    tag = "executions",
    params(("id" = String, Path, description = "The execution's id")),
    request_body(content((Option<RetryRequest> = "application/json"), (Option<RetryRequest> = "application/yaml"))),
    responses(
        (status = 200, description = "Preview: what would run again and what would be reused", body = RetryResponse),
        (status = 201, description = "Started: the new execution and what it reruns", body = RetryResponse),
        (status = 400, description = "Unreadable body, or `from` names no task of the workflow (`details`: `task`, and `tasks`, the ones it has)", body = ErrorBody),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "Nothing to retry, or it has not ended", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Its inputs no longer match the latest version", body = ErrorBody),
    )
)]
async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(request): Body<RetryRequest>,
) -> ApiResult<(StatusCode, Json<RetryResponse>)> {
    let x = execution_id(&id)?;
    let (options, mode) = request.into_options();
    let retried = state.app().executions().retry(x, &options, mode).await?;
    let status = match mode {
        RetryMode::Preview => StatusCode::OK,
        RetryMode::Start => StatusCode::CREATED,
    };
    Ok((status, Json(RetryResponse::from_retried(retried))))
}
