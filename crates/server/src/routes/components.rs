//! `/api/components`: the components `component` tasks may call (declared in the
//! config, or registered with Hermes), and each one's tools. Adapters over
//! `harmonia_app::Components`.

use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use crate::views::integration::{ComponentList, ComponentView, ToolList};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(tools))
}

/// Every component: declared ones first, then Hermes' (cached; refreshed when stale).
#[utoipa::path(
    get,
    path = "/components",
    tag = "components",
    responses((status = 200, description = "The components", body = ComponentList))
)]
async fn list(State(state): State<AppState>) -> Json<ComponentList> {
    Json(ComponentList::from_listing(
        &state.app().components().list().await,
    ))
}

/// One component.
#[utoipa::path(
    get,
    path = "/components/{name}",
    tag = "components",
    params(("name" = String, Path, description = "The component's name")),
    responses(
        (status = 200, description = "The component", body = ComponentView),
        (status = 404, description = "No such component", body = ErrorBody),
    )
)]
async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<ComponentView>> {
    let known = state.app().components().get(&name).await?;
    Ok(Json(ComponentView::from_known(&known)))
}

/// A component's tools, fetched from `{endpoint}{mcp_prefix}/tools`.
#[utoipa::path(
    get,
    path = "/components/{name}/tools",
    tag = "components",
    params(("name" = String, Path, description = "The component's name")),
    responses(
        (status = 200, description = "Its tools, as it lists them", body = ToolList),
        (status = 404, description = "No such component", body = ErrorBody),
        (status = 502, description = "The component did not answer with a list of tools", body = ErrorBody),
    )
)]
async fn tools(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<ToolList>> {
    let tools = state.app().components().tools(&name).await?;
    Ok(Json(ToolList {
        component: name,
        tools,
    }))
}
