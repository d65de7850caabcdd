//! Webhook deliveries: a trigger's, listed (`GET /api/triggers/{id}/deliveries`), one
//! read (`GET /api/deliveries/{id}`), and one replayed
//! (`POST /api/deliveries/{id}/replay`). Adapters over `harmonia_app::Webhooks`.
//!
//! Viewers read; operators and above replay. A replay maps the stored request again
//! and starts anew (no `dedup`); only a delivery that passed verification is replayed.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::routes::hooks::HookReceiptView;
use crate::state::AppState;
use crate::views::deliveries::{DeliveryPageView, DeliveryView};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(replay))
}

/// Paging of delivery lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// At most this many (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9_007_199_254_740_991_u64)]
    cursor: Option<String>,
}

/// List a webhook trigger's deliveries, newest first, with their verdicts (bodies
/// left out: read one delivery for its body).
#[utoipa::path(
    get,
    path = "/triggers/{id}/deliveries",
    tag = "triggers",
    params(("id" = String, Path, description = "`<workflow>.<position>`, such as `deploy.0`"), ListQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPageView),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "No such trigger", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<DeliveryPageView>> {
    let page = state
        .app()
        .webhooks()
        .deliveries(&id, q.limit, q.cursor)
        .await?;
    Ok(Json(DeliveryPageView::from_page(&page)))
}

/// Read a delivery, with its body.
#[utoipa::path(
    get,
    path = "/deliveries/{id}",
    tag = "triggers",
    params(("id" = u64, Path, description = "The delivery's number")),
    responses(
        (status = 200, description = "The delivery", body = DeliveryView),
        (status = 400, description = "Not a delivery number", body = ErrorBody),
        (status = 404, description = "No such delivery", body = ErrorBody),
    )
)]
async fn get(State(state): State<AppState>, Path(id): Path<u64>) -> ApiResult<Json<DeliveryView>> {
    let d = state.app().webhooks().delivery(id).await?;
    Ok(Json(DeliveryView::from_record(&d, true)))
}

/// Replay a delivery: map the stored request again under the hook's current definition
/// and start anew (recorded as a new delivery, `replay_of` this one).
#[utoipa::path(
    post,
    path = "/deliveries/{id}/replay",
    tag = "triggers",
    params(("id" = u64, Path, description = "The delivery's number")),
    responses(
        (status = 202, description = "Started anew", body = HookReceiptView),
        (status = 400, description = "The mapping failed on the stored request", body = ErrorBody),
        (status = 404, description = "No such delivery, or its hook is gone", body = ErrorBody),
        (status = 409, description = "The delivery never passed verification, or the trigger is paused", body = ErrorBody),
        (status = 422, description = "The mapped inputs do not match the workflow's schema", body = ErrorBody),
    )
)]
async fn replay(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> ApiResult<(StatusCode, Json<HookReceiptView>)> {
    let receipt = state.app().webhooks().replay(id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(HookReceiptView::from_receipt(&receipt)),
    ))
}
