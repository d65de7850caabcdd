//! `/api/nodes`: the `harmonia serve` nodes sharing this server's store, with their
//! leases and what each owns. An adapter over `harmonia_app::nodes::Nodes`.

use axum::Json;
use axum::extract::State;
use harmonia_storage::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::Query;
use crate::state::AppState;
use crate::views::nodes::{NodeList, NodeView};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Which nodes to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct NodesQuery {
    /// Also the nodes whose lease has expired (killed or stalled), still in the store.
    #[serde(default)]
    all: bool,
}

/// The live nodes (their lease holds), by id, each with how many unfinished executions
/// it owns; `?all=true` adds those whose lease expired.
#[utoipa::path(
    get,
    path = "/nodes",
    tag = "operations",
    params(NodesQuery),
    responses(
        (status = 200, description = "The nodes", body = NodeList),
        (status = 400, description = "`all` is not `true` or `false`", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    Query(q): Query<NodesQuery>,
) -> ApiResult<Json<NodeList>> {
    let nodes = state.app().nodes();
    let this = nodes.this().id;
    let now = Timestamp::now();
    let listed = nodes.list(q.all).await?;
    Ok(Json(NodeList {
        nodes: listed
            .iter()
            .map(|n| NodeView::from_record(n, &this, now))
            .collect(),
    }))
}
