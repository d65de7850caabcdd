//! `/api/assist`: the assistant. Adapters over `harmonia_app::Assist`: a workflow
//! drafted from plain language, a failed execution's diagnosis and applying its
//! patch, a workflow's optimization report, and a chat about an execution or a
//! workflow (JSON, or Server-Sent Events with `Accept: text/event-stream`).
//!
//! Without a model, drafting and chat answer `503 llm_not_configured` saying how to
//! configure one; diagnosis and optimization answer their deterministic part.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use harmonia_app::assist::{ChatAbout, DraftRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::VersionQuery;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Query, execution_id};
use crate::state::AppState;
use crate::views::assist::{
    AppliedView, ApplyBody, AssistStatus, ChatBody, ChatReplyView, DiagnosisView, DraftBody,
    DraftView, OptimizationView,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(draft))
        .routes(routes!(diagnose))
        .routes(routes!(apply))
        .routes(routes!(optimize))
        .routes(routes!(chat))
}

/// Whether a language model is configured, and which.
#[utoipa::path(get, path = "/assist", tag = "assist",
    responses((status = 200, description = "The assistant's model", body = AssistStatus)))]
async fn status(State(state): State<AppState>) -> Json<AssistStatus> {
    Json(AssistStatus::of(state.app().assist()))
}

/// Drafts a workflow from plain language: the model drafts, the server validates,
/// the model repairs from the diagnostics, up to `max_rounds` drafts. Stores nothing.
#[utoipa::path(post, path = "/assist/workflows", tag = "assist",
    request_body(content((DraftBody = "application/json"), (DraftBody = "application/yaml"))),
    responses(
        (status = 200, description = "The draft: valid, or the last one with its diagnostics", body = DraftView),
        (status = 400, description = "Empty or too long description, bad `max_rounds` or `inputs_example`", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 502, description = "The model failed", body = ErrorBody),
        (status = 503, description = "No model is configured (`llm_not_configured`, saying how)", body = ErrorBody),
    ))]
async fn draft(
    State(state): State<AppState>,
    Body(body): Body<DraftBody>,
) -> ApiResult<Json<DraftView>> {
    let request = DraftRequest {
        description: body.description,
        inputs_example: body.inputs_example,
        max_rounds: body.max_rounds,
    };
    Ok(Json(state.app().assist().draft(&request).await?.into()))
}

/// Diagnoses a failed execution: summary, cause, evidence (events by `seq`),
/// suggestions, and a patch that validates when the rules have one.
#[utoipa::path(post, path = "/assist/executions/{id}/diagnose", tag = "assist",
    params(("id" = String, Path, description = "The execution's id")),
    responses(
        (status = 200, description = "The diagnosis", body = DiagnosisView),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "The execution did not fail", body = ErrorBody),
        (status = 502, description = "The model failed", body = ErrorBody),
    ))]
async fn diagnose(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DiagnosisView>> {
    let id = execution_id(&id)?;
    Ok(Json(state.app().assist().diagnose(id).await?.into()))
}

/// Stores a diagnosis's patch as a new version of the workflow and retries the
/// execution from its failure on it (with `preview`, says what would run; stores
/// nothing).
#[utoipa::path(post, path = "/assist/executions/{id}/diagnose/apply", tag = "assist",
    params(("id" = String, Path, description = "The execution's id")),
    request_body(content((ApplyBody = "application/json"), (ApplyBody = "application/yaml"))),
    responses(
        (status = 200, description = "Preview: what the retry would run", body = AppliedView),
        (status = 201, description = "Stored and retried", body = AppliedView),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "Nothing to retry", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "The patch does not validate, or renames the workflow", body = ErrorBody),
    ))]
async fn apply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<ApplyBody>,
) -> ApiResult<(StatusCode, Json<AppliedView>)> {
    let id = execution_id(&id)?;
    let applied = state
        .app()
        .assist()
        .apply(id, &body.yaml, body.preview)
        .await?;
    let status = if body.preview {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(applied.into())))
}

/// A stored workflow's optimization report: the critical path and findings (from the
/// definition and its last succeeded executions' timings), explained and ranked by
/// the model when one is configured.
#[utoipa::path(post, path = "/assist/workflows/{id}/optimize", tag = "assist",
    params(("id" = String, Path, description = "The workflow's name or id"), VersionQuery),
    responses(
        (status = 200, description = "The report", body = OptimizationView),
        (status = 400, description = "A bad `version`", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
        (status = 502, description = "The model failed", body = ErrorBody),
    ))]
async fn optimize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<OptimizationView>> {
    Ok(Json(
        state.app().assist().optimize(&id, q.version).await?.into(),
    ))
}

/// Answers a conversation about an execution or a workflow, their facts as context.
/// With `Accept: text/event-stream`, the answer comes as Server-Sent Events as the
/// model writes it: `message` events with `{delta}`, then `done` with the whole reply
/// (or `error` with the error's body when the model fails midway).
#[utoipa::path(post, path = "/assist/chat", tag = "assist",
    request_body(content((ChatBody = "application/json"), (ChatBody = "application/yaml"))),
    responses(
        (status = 200, description = "The answer (JSON, or an event stream)", body = ChatReplyView),
        (status = 400, description = "No message, too many or too long, a bad role, or the last one not the user's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 404, description = "No such execution or workflow", body = ErrorBody),
        (status = 502, description = "The model failed", body = ErrorBody),
        (status = 503, description = "No model is configured", body = ErrorBody),
    ))]
async fn chat(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body<ChatBody>,
) -> ApiResult<Response> {
    let about = ChatAbout {
        execution: body.execution_id.as_deref().map(execution_id).transpose()?,
        workflow: body.workflow,
    };
    let turns: Vec<_> = body.messages.into_iter().map(Into::into).collect();
    // Every error of the request is an HTTP error, before any answer is sent.
    let call = state.app().assist().prepare_chat(&turns, &about).await?;
    let stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !stream {
        let reply: ChatReplyView = call.run(None).await?.into();
        return Ok(Json(reply).into_response());
    }
    // The text as the model writes it (`message` events), then `done` with the whole
    // reply, or `error` when the model fails midway.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    tokio::spawn(async move {
        let pieces = tx.clone();
        let on_text = move |piece: &str| {
            let _ = pieces.send(
                Event::default()
                    .event("message")
                    .json_data(serde_json::json!({"delta": piece}))
                    .unwrap_or_default(),
            );
        };
        let last = match call.run(Some(&on_text)).await {
            Ok(reply) => Event::default()
                .event("done")
                .json_data(ChatReplyView::from(reply)),
            Err(e) => Event::default()
                .event("error")
                .json_data(crate::error::ApiError::from(e).body()),
        };
        let _ = tx.send(last.unwrap_or_else(|_| {
            Event::default()
                .event("error")
                .data("could not encode the answer")
        }));
    });
    let events = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<Event, Infallible>(e), rx))
    });
    Ok(Sse::new(events).into_response())
}
