//! `/api/executions`: list, read, history, cancel, pause, resume, retry.
//!
//! Control operations answer with the execution's status after the operation, or `409
//! conflict` when it does not apply (pausing a paused execution, cancelling one that
//! succeeded). Cancelling a cancelled execution is a no-op that answers its status.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use harmonia_engine::RetryOptions;
use harmonia_storage::{ExecutionId, ExecutionQuery, ExecutionRecord, ExecutionStatus, Timestamp};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, Query};
use crate::state::AppState;
use crate::views::{
    ControlRequest, ControlResponse, EventList, EventView, ExecutionDetail, ExecutionList,
    ExecutionSummary, RetryRequest, RetryResponse, tasks_view,
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

pub(crate) fn parse_id(id: &str) -> ApiResult<ExecutionId> {
    id.parse()
        .map_err(|_| ApiError::not_found(format!("no execution `{id}`")))
}

pub(crate) async fn record(state: &AppState, id: ExecutionId) -> ApiResult<ExecutionRecord> {
    state
        .0
        .store
        .execution(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no execution {id}")))
}

/// An execution with its tasks, as the API shows it.
pub(crate) async fn detail(state: &AppState, x: ExecutionRecord) -> ApiResult<ExecutionDetail> {
    let workflow = state.0.plans.get(&x.workflow, Some(x.version)).await?;
    let runs = state.0.store.task_runs(x.id).await?;
    Ok(ExecutionDetail {
        inputs: serde_json::Value::clone(&x.inputs),
        outputs: x.outputs.clone().unwrap_or(serde_json::Value::Null),
        tasks: tasks_view(&workflow.plan, &runs),
        summary: ExecutionSummary::from_record(&x),
    })
}

/// Filters and paging of execution lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only executions of this workflow (by name).
    workflow: Option<String>,
    /// Only executions with this status.
    #[param(inline)]
    status: Option<StatusParam>,
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

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum StatusParam {
    Pending,
    Running,
    Paused,
    Succeeded,
    Failed,
    Cancelled,
}

impl From<StatusParam> for ExecutionStatus {
    fn from(s: StatusParam) -> ExecutionStatus {
        match s {
            StatusParam::Pending => ExecutionStatus::Pending,
            StatusParam::Running => ExecutionStatus::Running,
            StatusParam::Paused => ExecutionStatus::Paused,
            StatusParam::Succeeded => ExecutionStatus::Succeeded,
            StatusParam::Failed => ExecutionStatus::Failed,
            StatusParam::Cancelled => ExecutionStatus::Cancelled,
        }
    }
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
    let limit = crate::extract::limit(q.limit, 50, 500)?;
    let q = ListQuery {
        workflow: crate::extract::present(q.workflow),
        ..q
    };
    let after = q
        .cursor
        .as_ref()
        .map(|c| c.parse::<ExecutionId>().map_err(|_| ApiError::bad_request(format!("`cursor` must be the `next_cursor` of a previous page (an execution id), found `{c}`"))))
        .transpose()?;
    let query = ExecutionQuery {
        workflow: q.workflow.clone(),
        status: q.status.map(Into::into),
        since: time("since", &q.since)?,
        until: time("until", &q.until)?,
        after,
        limit: limit + 1,
    };
    let mut found = state.0.store.executions(&query).await?;
    let more = found.len() > limit;
    found.truncate(limit);
    Ok(Json(ExecutionList {
        next_cursor: more
            .then(|| found.last().map(|x| x.id.to_string()))
            .flatten(),
        executions: found.iter().map(ExecutionSummary::from_record).collect(),
    }))
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
    let x = record(&state, parse_id(&id)?).await?;
    Ok(Json(detail(&state, x).await?))
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
    let id = parse_id(&id)?;
    let events = state.0.store.events(id).await?;
    if events.is_empty() {
        record(&state, id).await?;
    }
    Ok(Json(EventList {
        execution_id: id.to_string(),
        events: events
            .into_iter()
            .map(|e| EventView {
                seq: e.seq,
                at: e.at.to_string(),
                kind: e.kind,
                event: e.data,
            })
            .collect(),
    }))
}

async fn control(
    id: &str,
    op: impl std::future::Future<Output = harmonia_engine::Result<ExecutionStatus>>,
) -> ApiResult<Json<ControlResponse>> {
    let status = op.await?;
    Ok(Json(ControlResponse {
        execution_id: id.to_string(),
        status: status.to_string(),
    }))
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
    let x = parse_id(&id)?;
    control(&id, state.0.handle.cancel(x, request.reason)).await
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
    let x = parse_id(&id)?;
    control(&id, state.0.handle.pause(x)).await
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
    let x = parse_id(&id)?;
    control(&id, state.0.handle.resume(x)).await
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
    let x = parse_id(&id)?;
    let options = RetryOptions {
        from: request.from,
        latest_version: request.latest_version,
    };
    let (execution, plan, status) = if request.preview {
        (
            None,
            state.0.handle.retry_preview(x, &options).await?,
            StatusCode::OK,
        )
    } else {
        let (new, plan) = state.0.handle.retry(x, &options).await?;
        (Some(new.to_string()), plan, StatusCode::CREATED)
    };
    Ok((
        status,
        Json(RetryResponse {
            execution_id: execution,
            original: plan.original.to_string(),
            workflow: plan.workflow,
            version: plan.version,
            rerun: plan.rerun,
            reused: plan.reused,
        }),
    ))
}
