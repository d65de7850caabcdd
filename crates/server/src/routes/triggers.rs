//! `/api/triggers`: the triggers of every workflow, read, paused and resumed.
//!
//! Adapters over `harmonia_app::Triggers`. A trigger's id is its workflow's name and
//! its position in `triggers:` (`fulfil.0`). Viewers may read; operators and above may
//! pause, resume and backfill a schedule.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::Body;
use crate::state::AppState;
use crate::views::triggers::{BackfillView, TriggerListView, TriggerView};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(backfill))
}

/// List every trigger of every workflow, with whether it is paused.
#[utoipa::path(
    get,
    path = "/triggers",
    tag = "triggers",
    responses((status = 200, description = "Every trigger", body = TriggerListView))
)]
async fn list(State(state): State<AppState>) -> ApiResult<Json<TriggerListView>> {
    let triggers = state.app().triggers().list().await?;
    Ok(Json(TriggerListView {
        triggers: triggers.iter().map(TriggerView::from_info).collect(),
    }))
}

/// Read a trigger.
#[utoipa::path(
    get,
    path = "/triggers/{id}",
    tag = "triggers",
    params(("id" = String, Path, description = "`<workflow>.<position>`, such as `fulfil.0`")),
    responses(
        (status = 200, description = "The trigger", body = TriggerView),
        (status = 404, description = "No such trigger", body = ErrorBody),
    )
)]
async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<TriggerView>> {
    let t = state.app().triggers().get(&id).await?;
    Ok(Json(TriggerView::from_info(&t)))
}

/// Pause a trigger: it starts nothing until it is resumed (pausing a paused trigger
/// keeps the time it was first paused).
#[utoipa::path(
    post,
    path = "/triggers/{id}/pause",
    tag = "triggers",
    params(("id" = String, Path, description = "`<workflow>.<position>`, such as `fulfil.0`")),
    responses(
        (status = 200, description = "The trigger, paused", body = TriggerView),
        (status = 404, description = "No such trigger", body = ErrorBody),
    )
)]
async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<TriggerView>> {
    let t = state.app().triggers().pause(&id).await?;
    Ok(Json(TriggerView::from_info(&t)))
}

/// Resume a paused trigger.
#[utoipa::path(
    post,
    path = "/triggers/{id}/resume",
    tag = "triggers",
    params(("id" = String, Path, description = "`<workflow>.<position>`, such as `fulfil.0`")),
    responses(
        (status = 200, description = "The trigger, active", body = TriggerView),
        (status = 404, description = "No such trigger", body = ErrorBody),
    )
)]
async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<TriggerView>> {
    let t = state.app().triggers().resume(&id).await?;
    Ok(Json(TriggerView::from_info(&t)))
}

/// A window of past time to backfill.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from": "2026-11-29T00:00:00Z", "to": "2026-11-29T06:00:00Z"}))]
pub(crate) struct BackfillBody {
    /// The window's start (RFC 3339), included.
    #[schema(format = DateTime)]
    from: String,
    /// The window's end (RFC 3339), included; not in the future.
    #[schema(format = DateTime)]
    to: String,
}

/// Start the runs a schedule would have started in a past window: one execution per
/// fire time (at most 100), oldest first, each with `$trigger.scheduled_at`. A fire
/// that ran already answers its execution (`existing: true`) and starts nothing.
#[utoipa::path(
    post,
    path = "/triggers/{id}/backfill",
    tag = "triggers",
    params(("id" = String, Path, description = "`<workflow>.<position>` of a `schedule` trigger")),
    request_body(content((BackfillBody = "application/json"), (BackfillBody = "application/yaml"))),
    responses(
        (status = 200, description = "The fires, with what each started", body = BackfillView),
        (status = 400, description = "A bad window (unparsable, reversed, in the future, over 100 fires)", body = ErrorBody),
        (status = 404, description = "No such schedule trigger", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
    )
)]
async fn backfill(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<BackfillBody>,
) -> ApiResult<Json<BackfillView>> {
    let time = |field: &str, text: &str| {
        text.parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|e| {
                harmonia_app::Error::InvalidRequest(format!(
                    "`{field}` is not an RFC 3339 time such as `2026-11-29T00:00:00Z`: {e}"
                ))
            })
    };
    let (from, to) = (time("from", &body.from)?, time("to", &body.to)?);
    let fires = state.app().schedules().backfill(&id, from, to).await?;
    Ok(Json(BackfillView::from_fires(&fires)))
}
