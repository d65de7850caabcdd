//! `/api/analytics/...`: what fails most, what is slow, and what the server uses.
//!
//! Read-only adapters over `harmonia_app::Analytics` (whose module doc, and the
//! store's `Analytics` contract, say what is counted). Every route but `resources`
//! takes a window of creation times, `since` (included) and `until` (excluded), RFC
//! 3339, by default the 24 hours before now, and an optional `workflow` (a name).
//! A parameter that does not parse, or a window that is empty, is `400
//! invalid_request` naming the parameter and what was expected. Viewers may read.

use axum::Json;
use axum::extract::State;
use harmonia_app::analytics::Range;
use harmonia_storage::Timestamp;
use harmonia_storage::analytics::GroupBy;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::state::AppState;
use crate::views::analytics::{
    DurationsListView, ErrorsView, ResourcesView, SummaryView, TimeseriesView,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(timeseries))
        .routes(routes!(durations))
        .routes(routes!(errors))
        .routes(routes!(resources))
}

/// `since`, `until` and `workflow` as a range: a time that is not RFC 3339 is `400`.
fn range(
    since: &Option<String>,
    until: &Option<String>,
    workflow: &Option<String>,
) -> ApiResult<Range> {
    let time = |name: &str, value: &Option<String>| -> ApiResult<Option<Timestamp>> {
        value
            .as_deref()
            .map(|v| {
                Timestamp::parse(v).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "`{name}` must be an RFC 3339 time such as 2026-11-24T10:00:00Z, found `{}`",
                        harmonia_expr::clip(v)
                    ))
                })
            })
            .transpose()
    };
    Ok(Range {
        since: time("since", since)?,
        until: time("until", until)?,
        workflow: workflow.clone(),
    })
}

/// The window of an analytics request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct WindowQuery {
    /// Executions created at or after this time (RFC 3339; default: 24 hours before
    /// `until`).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Executions created before this time (RFC 3339; default: now).
    #[param(format = DateTime)]
    until: Option<String>,
    /// Only executions of this workflow (by name).
    workflow: Option<String>,
}

/// A summary of the executions created in a window: how many by status (as they are
/// now), the success rate (succeeded / ended), throughput (ended per minute of the
/// window passed so far), duration percentiles (p50, p95, p99, max) of those that
/// ended, and how many executions are open now.
#[utoipa::path(
    get,
    path = "/analytics/summary",
    tag = "analytics",
    params(WindowQuery),
    responses(
        (status = 200, description = "The window in numbers", body = SummaryView),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
    )
)]
async fn summary(
    State(state): State<AppState>,
    Query(q): Query<WindowQuery>,
) -> ApiResult<Json<SummaryView>> {
    let range = range(&q.since, &q.until, &q.workflow)?;
    let s = state.app().analytics().summary(&range).await?;
    Ok(Json(SummaryView::from_summary(&s)))
}

/// A window and a bucket size.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SeriesQuery {
    /// Executions created at or after this time (RFC 3339; default: 24 hours before
    /// `until`).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Executions created before this time (RFC 3339; default: now).
    #[param(format = DateTime)]
    until: Option<String>,
    /// Only executions of this workflow (by name).
    workflow: Option<String>,
    /// The bucket, in whole seconds (default: a round size that gives about 60
    /// buckets, such as 1800 for a day). At most 1,000 buckets.
    #[param(minimum = 1, example = 300)]
    bucket: Option<u64>,
}

/// Executions over time: every bucket of the window (oldest first, empty ones
/// included) with the executions created in it, by status.
#[utoipa::path(
    get,
    path = "/analytics/timeseries",
    tag = "analytics",
    params(SeriesQuery),
    responses(
        (status = 200, description = "The buckets", body = TimeseriesView),
        (status = 400, description = "A bad parameter, or more than 1,000 buckets", body = ErrorBody),
    )
)]
async fn timeseries(
    State(state): State<AppState>,
    Query(q): Query<SeriesQuery>,
) -> ApiResult<Json<TimeseriesView>> {
    let range = range(&q.since, &q.until, &q.workflow)?;
    let s = state.app().analytics().timeseries(&range, q.bucket).await?;
    Ok(Json(TimeseriesView::from_series(&s)))
}

/// A window, a grouping and a limit.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DurationsQuery {
    /// Executions created at or after this time (RFC 3339; default: 24 hours before
    /// `until`).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Executions created before this time (RFC 3339; default: now).
    #[param(format = DateTime)]
    until: Option<String>,
    /// Only executions of this workflow (by name).
    workflow: Option<String>,
    /// `workflow` (executions' durations; the default) or `task` (task runs').
    #[param(pattern = "^(workflow|task)$", example = "task")]
    by: Option<String>,
    /// At most this many groups (1 to 500, default 20).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// What is slow: per workflow, or per workflow and task, how many ended and their
/// duration percentiles (p50, p95, p99, max, in ms), slowest first (by p95). A task's
/// duration is from when it became ready to when it ended (waiting for a slot, retries
/// and their delays included); per task also its attempts, and its queue wait: the
/// time from becoming ready to its first attempt starting, measured on the newest
/// 1,000 executions of the window.
#[utoipa::path(
    get,
    path = "/analytics/durations",
    tag = "analytics",
    params(DurationsQuery),
    responses(
        (status = 200, description = "The groups, slowest first", body = DurationsListView),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
    )
)]
async fn durations(
    State(state): State<AppState>,
    Query(q): Query<DurationsQuery>,
) -> ApiResult<Json<DurationsListView>> {
    let range = range(&q.since, &q.until, &q.workflow)?;
    let by = match q.by.as_deref() {
        None | Some("workflow") => GroupBy::Workflow,
        Some("task") => GroupBy::Task,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`by` must be `workflow` or `task`, found `{}`",
                harmonia_expr::clip(other)
            )));
        }
    };
    let d = state
        .app()
        .analytics()
        .durations(&range, by, q.limit)
        .await?;
    Ok(Json(DurationsListView::from_durations(&d)))
}

/// A window and a limit.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ErrorsQuery {
    /// Executions created at or after this time (RFC 3339; default: 24 hours before
    /// `until`).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Executions created before this time (RFC 3339; default: now).
    #[param(format = DateTime)]
    until: Option<String>,
    /// Only executions of this workflow (by name).
    workflow: Option<String>,
    /// At most this many entries per list (1 to 500, default 20).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// What fails most: the failed executions and failed task runs of the window grouped
/// by error class (the `class` of the error), by task, by workflow (with its failure
/// rate), and by message, with what varies in messages (numbers, UUIDs, times, hex
/// strings) taken out; each with counts and the newest execution as an example.
#[utoipa::path(
    get,
    path = "/analytics/errors",
    tag = "analytics",
    params(ErrorsQuery),
    responses(
        (status = 200, description = "The failures, grouped", body = ErrorsView),
        (status = 400, description = "A bad parameter (named in the message)", body = ErrorBody),
    )
)]
async fn errors(
    State(state): State<AppState>,
    Query(q): Query<ErrorsQuery>,
) -> ApiResult<Json<ErrorsView>> {
    let range = range(&q.since, &q.until, &q.workflow)?;
    let e = state.app().analytics().errors(&range, q.limit).await?;
    Ok(Json(ErrorsView::from_errors(&e)))
}

/// What the server uses now: the process's CPU time (user and system) and resident
/// memory (Linux; null elsewhere), the database's size, the open executions, and the
/// task runs waiting for a free slot or for an external worker.
#[utoipa::path(
    get,
    path = "/analytics/resources",
    tag = "analytics",
    responses((status = 200, description = "Resources now", body = ResourcesView))
)]
async fn resources(State(state): State<AppState>) -> ApiResult<Json<ResourcesView>> {
    let r = state.app().analytics().resources().await?;
    Ok(Json(ResourcesView::from_resources(&r)))
}
