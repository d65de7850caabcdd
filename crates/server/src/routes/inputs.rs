//! `/api/executions/{id}/tasks/{task}/inputs`: a task's inputs after evaluation, its
//! `with:` as its attempt saw it (the URL actually called, the body actually sent).
//!
//! An adapter over `harmonia_app::Executions::task_inputs` (whose module doc holds the
//! rules): evaluated again from what the execution recorded, never from secrets (every
//! value computed from `$secrets` is `***`). A read, so a `viewer` may ask. Errors: `404`
//! for an unknown execution or task; `400` for an `item` given to a task without
//! `for_each`, missing for one with it, or out of its range; `409 not_started` for a
//! task that has not started, naming the task upstream without an output yet; `422
//! evaluation_failed` with the expression's error.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Query, execution_id};
use crate::state::AppState;
use crate::views::inputs::TaskInputsView;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inputs))
}

/// Which fan-out item.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ItemQuery {
    /// The fan-out item, from 0: required for a task with `for_each`, refused for any
    /// other.
    #[param(minimum = 0)]
    item: Option<u32>,
}

/// Read a task's inputs after evaluation: its `with:` evaluated against the
/// execution's recorded inputs, params, `$execution` and the outputs of the tasks
/// upstream (with `$item` and `$index` of fan-out item `item`), as its attempt saw it.
/// Every value computed by an expression that reads `$secrets` is `"***"`: secrets are
/// never read for this.
#[utoipa::path(
    get,
    path = "/executions/{id}/tasks/{task}/inputs",
    tag = "executions",
    params(
        ("id" = String, Path, description = "The execution's id"),
        ("task" = String, Path, description = "The task's name"),
        ItemQuery,
    ),
    responses(
        (status = 200, description = "The task's `with:`, evaluated", body = TaskInputsView),
        (status = 400, description = "`item` given to a task without `for_each`, missing for one with it, or out of its range", body = ErrorBody),
        (status = 404, description = "No such execution, or no such task in it", body = ErrorBody),
        (status = 409, description = "The task has not started (`not_started`; `details.upstream` names the task upstream without an output yet)", body = ErrorBody),
        (status = 422, description = "Evaluating `with:` failed (`evaluation_failed`, with the expression's error)", body = ErrorBody),
    )
)]
async fn inputs(
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
    Query(q): Query<ItemQuery>,
) -> ApiResult<Json<TaskInputsView>> {
    let evaluated = state
        .app()
        .executions()
        .task_inputs(execution_id(&id)?, &task, q.item)
        .await?;
    Ok(Json(TaskInputsView::from_evaluated(evaluated)))
}
