//! `/api/executions/{id}/tasks/{task}/approve` and `/reject`: a person answers an
//! `approval` task.
//!
//! Adapters over `harmonia_app::Executions::answer`. The caller is the request's
//! token (its name and role; without auth, `local` with no role); the task's kind
//! checks the inputs against its `form` (`422 invalid_inputs`, every violation in
//! `details`) and the caller's role against its `approvers` (`403 forbidden`), and
//! nothing changes on a refusal. A task that does not wait for an approval is `409
//! not_waiting`.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use harmonia_app::executions::Decision;
use harmonia_engine::kinds::Actor;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, execution_id};
use crate::state::AppState;
use crate::views::approvals::{AnswerRequest, AnswerResponse};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(approve))
        .routes(routes!(reject))
}

async fn answer(
    state: &AppState,
    caller: Option<Caller>,
    id: &str,
    task: &str,
    decision: Decision,
    request: AnswerRequest,
) -> ApiResult<Json<AnswerResponse>> {
    let by = Some(match caller {
        Some(c) => Actor {
            name: c.name,
            role: Some(c.role.as_str().to_string()),
        },
        None => Actor {
            name: "local".into(),
            role: None,
        },
    });
    let answered = state
        .app()
        .executions()
        .answer(
            execution_id(id)?,
            task,
            request.item,
            decision,
            serde_json::Value::Object(request.inputs),
            by,
        )
        .await?;
    Ok(Json(AnswerResponse::from_answered(&answered)))
}

/// Approve an `approval` task: its inputs are checked against the task's `form`; the
/// task succeeds with `{decision: approved, by, at, inputs}`.
#[utoipa::path(
    post,
    path = "/executions/{id}/tasks/{task}/approve",
    tag = "executions",
    params(
        ("id" = String, Path, description = "The execution's id"),
        ("task" = String, Path, description = "The approval task's name"),
    ),
    request_body(content((Option<AnswerRequest> = "application/json"), (Option<AnswerRequest> = "application/yaml"))),
    responses(
        (status = 200, description = "Approved: the task's result", body = AnswerResponse),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 403, description = "The caller's role is below the task's `approvers`", body = ErrorBody),
        (status = 404, description = "No such execution or task", body = ErrorBody),
        (status = 409, description = "The task does not wait for an approval", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "The inputs do not match the task's form: every violation", body = ErrorBody),
    )
)]
async fn approve(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path((id, task)): Path<(String, String)>,
    Body(request): Body<AnswerRequest>,
) -> ApiResult<Json<AnswerResponse>> {
    let caller = caller.map(|Extension(c)| c);
    answer(&state, caller, &id, &task, Decision::Approve, request).await
}

/// Reject an `approval` task: its inputs are checked against the task's `form`; the
/// task fails with the class `rejected` (or, with `on_reject: continue`, succeeds with
/// `{decision: rejected, ...}`).
#[utoipa::path(
    post,
    path = "/executions/{id}/tasks/{task}/reject",
    tag = "executions",
    params(
        ("id" = String, Path, description = "The execution's id"),
        ("task" = String, Path, description = "The approval task's name"),
    ),
    request_body(content((Option<AnswerRequest> = "application/json"), (Option<AnswerRequest> = "application/yaml"))),
    responses(
        (status = 200, description = "Rejected: the task's result", body = AnswerResponse),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 403, description = "The caller's role is below the task's `approvers`", body = ErrorBody),
        (status = 404, description = "No such execution or task", body = ErrorBody),
        (status = 409, description = "The task does not wait for an approval", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "The inputs do not match the task's form: every violation", body = ErrorBody),
    )
)]
async fn reject(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path((id, task)): Path<(String, String)>,
    Body(request): Body<AnswerRequest>,
) -> ApiResult<Json<AnswerResponse>> {
    let caller = caller.map(|Extension(c)| c);
    answer(&state, caller, &id, &task, Decision::Reject, request).await
}
