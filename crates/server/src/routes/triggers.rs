//! `/api/triggers`: the triggers of every workflow, read, paused and resumed.
//!
//! Adapters over `harmonia_app::Triggers`. A trigger's id is its workflow's name and
//! its position in `triggers:` (`fulfil.0`). Viewers may read; operators and above may
//! pause and resume.

use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use crate::views::triggers::{TriggerListView, TriggerView};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(pause))
        .routes(routes!(resume))
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
