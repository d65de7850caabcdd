//! `/api/task-types`: the task types a definition may use, each with the JSON Schema
//! of its `with:` and of its output, for editors and the workflow designer. Adapters
//! over `harmonia_app::TaskTypes`, which lists the registry the server validates
//! definitions against, so that what is offered is what validation accepts.

use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use crate::views::designer::{TaskTypeList, TaskTypeView};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
}

/// Every task type the server validates and runs, in its registry's order.
#[utoipa::path(
    get,
    path = "/task-types",
    tag = "task-types",
    responses((status = 200, description = "The task types", body = TaskTypeList))
)]
async fn list(State(state): State<AppState>) -> Json<TaskTypeList> {
    Json(TaskTypeList::from_infos(&state.app().task_types().list()))
}

/// One task type.
#[utoipa::path(
    get,
    path = "/task-types/{name}",
    tag = "task-types",
    params(("name" = String, Path, description = "The task type's name (`http`)")),
    responses(
        (status = 200, description = "The task type", body = TaskTypeView),
        (status = 404, description = "No such task type: the message names the known ones", body = ErrorBody),
    )
)]
async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<TaskTypeView>> {
    let info = state.app().task_types().get(&name)?;
    Ok(Json(TaskTypeView::from_info(&info)))
}
