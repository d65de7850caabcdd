//! `/api/events`: receive CloudEvents, and list those received.
//!
//! Adapters over `harmonia_app::Events`. `POST` takes one CloudEvent 1.0 in
//! structured JSON (`application/json` or `application/cloudevents+json`), or in binary
//! mode (`ce-*` headers, the body its data; see `extract::CloudEventRequest`): `202` with
//! where it went when it is new, `200` with `duplicate: true` (and the first receipt)
//! when an event with the same `source` and `id` was received before, `422
//! invalid_event` with every problem otherwise. Operators and above may post; viewers
//! may list.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{CloudEventRequest, Query};
use crate::state::AppState;
use crate::views::events::{CloudEventBody, EventPageView, EventReceipt};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive, list))
}

/// Receive a CloudEvent: stored once by `source` and `id`, then delivered to every
/// `wait_event` task waiting on its `type` whose `filter` it matches.
///
/// Structured mode: the event as a JSON body. Binary mode (the CloudEvents HTTP
/// binding): the attributes as headers, `ce-specversion: 1.0`, `ce-id`, `ce-source`,
/// `ce-type` and any other `ce-<attribute>` (percent-encoded values are decoded), and
/// the body as the event's data, of any content type: JSON is parsed, other text kept
/// as text, anything else kept as `data_base64`.
#[utoipa::path(
    post,
    path = "/events",
    tag = "events",
    request_body(content((CloudEventBody = "application/json"), (CloudEventBody = "application/cloudevents+json")), description = "A CloudEvent 1.0 (structured mode): `specversion`, `id`, `source`, `type`, and `data` or `data_base64`"),
    responses(
        (status = 200, description = "Received before (same `source` and `id`): nothing stored or delivered again", body = EventReceipt),
        (status = 202, description = "Received and delivered", body = EventReceipt),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Not a CloudEvent: `details` lists every problem by attribute", body = ErrorBody),
    )
)]
async fn receive(
    State(state): State<AppState>,
    CloudEventRequest(event): CloudEventRequest,
) -> ApiResult<(StatusCode, Json<EventReceipt>)> {
    let receipt = state.app().events().receive(event).await?;
    let status = if receipt.duplicate {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(EventReceipt::from_receipt(&receipt))))
}

/// Filters and paging of event lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    ty: Option<String>,
    /// At most this many (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9_007_199_254_740_991_u64)]
    cursor: Option<String>,
}

/// List received events, newest first, with where each went.
#[utoipa::path(
    get,
    path = "/events",
    tag = "events",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPageView),
        (status = 400, description = "Bad query", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<EventPageView>> {
    let page = state.app().events().list(q.ty, q.limit, q.cursor).await?;
    Ok(Json(EventPageView::from_page(&page)))
}
