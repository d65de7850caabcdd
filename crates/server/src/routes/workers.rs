//! `/api/workers/...`: external workers poll queues for leases of `worker` tasks,
//! heart-beat, and complete or fail them. Adapters over `harmonia_app::Workers`.
//!
//! The `worker` role may call these (and nothing else); so may `operator` and `admin`.
//! A call about a lease no longer held is `409 lease_lost` with `details.reason`
//! (`expired`, `cancelled`, `completed`, `failed`, `unknown`) and changes nothing.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use harmonia_app::workers::{Failure, Poll};
use harmonia_engine::kinds::Actor;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Body;
use crate::state::AppState;
use crate::views::integration::{
    AnsweredResponse, HeartbeatResponse, LeaseView, PollResponse, QueueList,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(poll))
        .routes(routes!(heartbeat))
        .routes(routes!(complete))
        .routes(routes!(fail))
        .routes(routes!(queues))
}

/// A poll for work.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"worker_id": "resizer-1", "queues": ["images"], "max_tasks": 1, "wait": 20}))]
pub(crate) struct PollRequest {
    /// Who polls: 1 to 128 characters, no control characters; shown in leases and in
    /// errors.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    worker_id: String,
    /// The queues to take work from, in order of preference (1 to 32 names of 1 to 128
    /// letters, digits, `.`, `_` or `-`).
    #[schema(schema_with = queues_schema)]
    queues: Vec<String>,
    /// At most this many leases (1 to 100; default 1).
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 100)]
    max_tasks: Option<f64>,
    /// Seconds to hold the request when nothing is ready (0 to 60; default 20).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 60)]
    wait: Option<f64>,
}

fn queues_schema() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[A-Za-z0-9._-]{1,128}$")),
        )
        .min_items(Some(1))
        .max_items(Some(32))
        .description(Some(
            "The queues to take work from, in order of preference.",
        ))
        .build()
}

/// A lease completed.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"output": {"thumbnail": "https://example.com/a-small.png"}}))]
pub(crate) struct CompleteRequest {
    /// The attempt's output (null when absent).
    #[serde(default)]
    output: Value,
}

/// What failed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailureBody {
    /// A class of the format (`timeout`, `connection`, `validation`, ...) or the
    /// worker's own (recorded as `worker_error`, with this in `details.class`).
    #[serde(default)]
    #[schema(max_length = 128)]
    class: Option<String>,
    /// What happened (at most 65,536 characters).
    #[schema(max_length = 65536)]
    message: String,
    /// More detail.
    #[serde(default)]
    details: Value,
}

/// A lease failed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"error": {"class": "connection", "message": "the image host refused the connection"}, "retryable": true}))]
pub(crate) struct FailRequest {
    /// What failed.
    error: FailureBody,
    /// False: never retried, whatever the retry policy says (default true).
    #[serde(default)]
    retryable: Option<bool>,
}

fn actor(caller: Option<Extension<Caller>>) -> Option<Actor> {
    caller.map(|Extension(c)| Actor {
        name: c.name,
        role: Some(c.role.as_str().into()),
    })
}

/// Lease ready attempts of some queues, waiting up to `wait` seconds for one.
#[utoipa::path(
    post,
    path = "/workers/poll",
    tag = "workers",
    request_body = PollRequest,
    responses(
        (status = 200, description = "The leases (none when `wait` passed with nothing ready)", body = PollResponse),
        (status = 400, description = "A field out of range", body = ErrorBody),
    )
)]
async fn poll(
    State(state): State<AppState>,
    Body(req): Body<PollRequest>,
) -> ApiResult<Json<PollResponse>> {
    let wait = match req.wait {
        None => std::time::Duration::from_secs(20),
        Some(w) if w.is_finite() && (0.0..=60.0).contains(&w) => {
            std::time::Duration::from_secs_f64(w)
        }
        Some(_) => {
            return Err(crate::error::ApiError::bad_request(
                "`wait` must be a number of seconds from 0 to 60",
            ));
        }
    };
    // JSON Schema counts `3.0` as an integer, so it is one here too.
    let max_tasks = match req.max_tasks {
        None => 1,
        Some(n) if n.fract() == 0.0 && (1.0..=100.0).contains(&n) => n as u32,
        Some(_) => {
            return Err(crate::error::ApiError::bad_request(
                "`max_tasks` must be a whole number from 1 to 100",
            ));
        }
    };
    let leases = state
        .app()
        .workers()
        .poll(Poll {
            worker_id: req.worker_id,
            queues: req.queues,
            max_tasks,
            wait,
        })
        .await?;
    Ok(Json(PollResponse {
        leases: leases.iter().map(LeaseView::from_lease).collect(),
    }))
}

/// Extend a lease by its heartbeat timeout; says when its attempt was cancelled.
#[utoipa::path(
    post,
    path = "/workers/leases/{lease}/heartbeat",
    tag = "workers",
    params(("lease" = String, Path, description = "The lease's id")),
    responses(
        (status = 200, description = "Extended, or `cancel_requested`", body = HeartbeatResponse),
        (status = 409, description = "The lease is no longer held (`lease_lost`)", body = ErrorBody),
    )
)]
async fn heartbeat(
    State(state): State<AppState>,
    Path(lease): Path<String>,
) -> ApiResult<Json<HeartbeatResponse>> {
    let h = state.app().workers().heartbeat(&lease).await?;
    Ok(Json(HeartbeatResponse::from_heartbeat(h)))
}

/// Complete a lease with the attempt's output; answered once it is recorded.
#[utoipa::path(
    post,
    path = "/workers/leases/{lease}/complete",
    tag = "workers",
    params(("lease" = String, Path, description = "The lease's id")),
    request_body(content((Option<CompleteRequest> = "application/json"), (Option<CompleteRequest> = "application/yaml"))),
    responses(
        (status = 200, description = "Recorded", body = AnsweredResponse),
        (status = 400, description = "A malformed body", body = ErrorBody),
        (status = 409, description = "The lease is no longer held (`lease_lost`): nothing changed", body = ErrorBody),
        (status = 503, description = "With several nodes: the answer is kept but not applied yet (its execution's node is down or busy); send it again", body = ErrorBody),
    )
)]
async fn complete(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(lease): Path<String>,
    Body(req): Body<CompleteRequest>,
) -> ApiResult<Json<AnsweredResponse>> {
    state
        .app()
        .workers()
        .complete(&lease, req.output, actor(caller))
        .await?;
    Ok(Json(AnsweredResponse {
        lease_id: lease,
        status: "completed".into(),
    }))
}

/// Fail a lease; answered once it is recorded (the task's retry policy then decides).
#[utoipa::path(
    post,
    path = "/workers/leases/{lease}/fail",
    tag = "workers",
    params(("lease" = String, Path, description = "The lease's id")),
    request_body = FailRequest,
    responses(
        (status = 200, description = "Recorded", body = AnsweredResponse),
        (status = 400, description = "A malformed failure", body = ErrorBody),
        (status = 409, description = "The lease is no longer held (`lease_lost`): nothing changed", body = ErrorBody),
        (status = 503, description = "With several nodes: the answer is kept but not applied yet (its execution's node is down or busy); send it again", body = ErrorBody),
    )
)]
async fn fail(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(lease): Path<String>,
    Body(req): Body<FailRequest>,
) -> ApiResult<Json<AnsweredResponse>> {
    let failure = Failure {
        class: req.error.class.unwrap_or_default(),
        message: req.error.message,
        details: req.error.details,
        retryable: req.retryable.unwrap_or(true),
    };
    state
        .app()
        .workers()
        .fail(&lease, failure, actor(caller))
        .await?;
    Ok(Json(AnsweredResponse {
        lease_id: lease,
        status: "failed".into(),
    }))
}

/// How each queue stands: attempts ready and leased.
#[utoipa::path(
    get,
    path = "/workers/queues",
    tag = "workers",
    responses((status = 200, description = "The queues with work", body = QueueList))
)]
async fn queues(State(state): State<AppState>) -> Json<QueueList> {
    Json(QueueList::from_stats(state.app().workers().queues()))
}
