//! `/api/workflows`: create, list, read, update (a new version), delete, execute, draw,
//! and validate (check a definition as create does, storing nothing).
//!
//! Adapters over `harmonia_app::Workflows` and `Executions::start` (whose module docs
//! hold the rules: versions, warnings, deleting with unfinished executions). `{id}` is
//! a workflow's id or its name. Definitions are sent as YAML or JSON (by
//! `Content-Type`) and answered, when invalid, with every diagnostic (`422
//! invalid_definition`, `details`: the list, each with its line and column). Deleting
//! a workflow with unfinished executions is `409` (`details`: their ids) unless
//! `?force=true`. `POST /workflows/validate` answers `200` either way, with `valid` and
//! the diagnostics in the body; a workflow named `validate` is still read, updated and
//! deleted at `/workflows/validate` (`named_validate`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use harmonia_app::workflows::{OnUnfinished, WorkflowFilter};
use harmonia_model::graph::GraphFormat;
use harmonia_storage::{Origin, OriginKind};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::VersionQuery;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, DefinitionBody, Query};
use crate::state::AppState;
use crate::views::designer::Validation;
use crate::views::{
    ExecuteRequest, Started, VersionList, WorkflowDetail, WorkflowDiff, WorkflowList, WorkflowSaved,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(validate))
        .route("/workflows/validate", named_validate())
        .routes(routes!(get_one, update, delete))
        .routes(routes!(versions))
        .routes(routes!(diff))
        .routes(routes!(execute))
        .routes(routes!(graph))
}

/// Create a workflow from a YAML or JSON definition.
#[utoipa::path(
    post,
    path = "/workflows",
    tag = "workflows",
    request_body(
        description = "A workflow definition in YAML or JSON (its JSON Schema: `harmonia schema`).",
        content(
            (String = "application/yaml", example = "name: hello\ntasks:\n  greet: {type: set, with: {msg: hi}}\n"),
            (Object = "application/json", example = json!({"name": "hello", "tasks": {"greet": {"type": "set", "with": {"msg": "hi"}}}})),
        )
    ),
    responses(
        (status = 201, description = "Created; `warnings` lists what works but is probably not meant", body = WorkflowSaved),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 409, description = "A workflow by that name exists", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid definition: `details` lists every problem", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    body: DefinitionBody,
) -> ApiResult<(StatusCode, Json<WorkflowSaved>)> {
    let saved = state.app().workflows().create(&body.source()).await?;
    Ok((StatusCode::CREATED, Json(WorkflowSaved::from_saved(&saved))))
}

/// Check a definition as creating it would, and store nothing.
///
/// The same checks as `POST /api/workflows` and `harmonia validate` (the server's task
/// types; `type: workflow` tasks looked up among the stored workflows), answered with
/// `200` whether the definition is valid or not: `valid`, every diagnostic (errors and
/// warnings, each with its line and column in the text sent) and, when it is valid,
/// its task graph (the JSON of `GET /api/workflows/{id}/graph?format=json`). A body
/// that does not parse as YAML or JSON is an invalid definition too (its diagnostic
/// says where); an empty body, or one that is not UTF-8, is `400`, as for create.
#[utoipa::path(
    post,
    path = "/workflows/validate",
    tag = "workflows",
    request_body(
        description = "A workflow definition in YAML or JSON, as `POST /api/workflows` takes it.",
        content(
            (String = "application/yaml", example = "name: hello\ntasks:\n  greet: {type: set, with: {msg: hi}}\n"),
            (Object = "application/json", example = json!({"name": "hello", "tasks": {"greet": {"type": "set", "with": {"msg": "hi"}}}})),
        )
    ),
    responses(
        (status = 200, description = "Checked: `valid`, every diagnostic, and the graph when valid", body = Validation,
            examples(
                ("valid" = (summary = "A valid definition", value = json!({"valid": true, "diagnostics": [], "graph": {"name": "hello", "nodes": [{"id": "greet", "type": "set", "description": null, "needs": [], "if": null, "for_each": null, "concurrency": null, "join": "all", "on_error": "fail"}], "edges": [], "order": ["greet"]}}))),
                ("invalid" = (summary = "An invalid definition: every problem", value = json!({"valid": false, "diagnostics": [
                    {"severity": "error", "path": "tasks.fetch.with", "task": "fetch", "message": "missing required parameter `url` for a `http` task", "line": 3, "column": 10},
                    {"severity": "error", "path": "tasks.shout.neds", "task": "shout", "message": "unknown field `neds` in task `shout` (did you mean `needs`?)", "line": 5, "column": 5}
                ]}))),
            )
        ),
        (status = 400, description = "Unreadable body (empty, not UTF-8)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
    )
)]
async fn validate(
    State(state): State<AppState>,
    body: DefinitionBody,
) -> ApiResult<Json<Validation>> {
    match state.app().workflows().check(&body.source()).await {
        Ok(checked) => {
            let graph: Value = serde_json::from_str(&checked.graph(GraphFormat::Json))
                .map_err(ApiError::internal)?;
            Ok(Json(Validation::valid(&checked.warnings, graph)))
        }
        Err(harmonia_app::Error::InvalidDefinition { diagnostics, .. }) => {
            Ok(Json(Validation::invalid(&diagnostics)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The name a workflow can have whose path is also `POST /workflows/validate`'s.
const VALIDATE: &str = "validate";

/// `GET`, `PUT` and `DELETE /workflows/validate`: a workflow named `validate`, as at
/// `/workflows/{id}` (the router prefers the fixed path of `POST
/// /workflows/validate`, and would otherwise answer `405` for them).
fn named_validate() -> MethodRouter<AppState> {
    let named = || Path(VALIDATE.to_string());
    axum::routing::get(move |s: State<AppState>, q: Query<VersionQuery>| get_one(s, named(), q))
        .put(move |s: State<AppState>, body: DefinitionBody| update(s, named(), body))
        .delete(move |s: State<AppState>, q: Query<DeleteQuery>| delete(s, named(), q))
}

/// Paging of workflow lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only workflows whose name contains this.
    q: Option<String>,
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List workflows (their latest versions), by name.
#[utoipa::path(
    get,
    path = "/workflows",
    tag = "workflows",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of workflows", body = WorkflowList),
        (status = 400, description = "Bad query", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<WorkflowList>> {
    let filter = WorkflowFilter {
        search: q.q,
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = state.app().workflows().list(filter).await?;
    Ok(Json(WorkflowList::from_page(&page)))
}

/// Read a workflow (a version of it) with its definition.
#[utoipa::path(
    get,
    path = "/workflows/{id}",
    tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id or name"), VersionQuery),
    responses(
        (status = 200, description = "The workflow", body = WorkflowDetail),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "No such workflow or version", body = ErrorBody),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<WorkflowDetail>> {
    let detail = state.app().workflows().get(&id, q.version).await?;
    Ok(Json(WorkflowDetail::from_detail(detail)))
}

/// Store a new version of a workflow.
#[utoipa::path(
    put,
    path = "/workflows/{id}",
    tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id or name")),
    request_body(
        description = "The new definition in YAML or JSON; its `name` must be the workflow's.",
        content((String = "application/yaml"), (Object = "application/json"))
    ),
    responses(
        (status = 200, description = "The version now current (unchanged when the text is identical); `warnings` lists what works but is probably not meant", body = WorkflowSaved),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid definition", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: DefinitionBody,
) -> ApiResult<Json<WorkflowSaved>> {
    let saved = state.app().workflows().update(&id, &body.source()).await?;
    Ok(Json(WorkflowSaved::from_saved(&saved)))
}

/// Whether to delete despite unfinished executions.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DeleteQuery {
    /// Delete even if executions of it have not ended (they run on to their end).
    force: Option<bool>,
}

/// Delete a workflow.
#[utoipa::path(
    delete,
    path = "/workflows/{id}",
    tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id or name"), DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
        (status = 409, description = "It has unfinished executions (`details.executions`); use ?force=true", body = ErrorBody),
    )
)]
async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> ApiResult<StatusCode> {
    let unfinished = if q.force == Some(true) {
        OnUnfinished::RunOn
    } else {
        OnUnfinished::Refuse
    };
    state.app().workflows().delete(&id, unfinished).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the versions of a workflow.
#[utoipa::path(
    get,
    path = "/workflows/{id}/versions",
    tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id or name")),
    responses(
        (status = 200, description = "Its versions, oldest first", body = VersionList),
        (status = 404, description = "No such workflow", body = ErrorBody),
    )
)]
async fn versions(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<VersionList>> {
    let (name, versions) = state.app().workflows().versions(&id).await?;
    Ok(Json(VersionList::new(name, &versions)))
}

/// Which versions to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DiffQuery {
    /// The older version (default: the one before `to`).
    #[param(minimum = 1)]
    from: Option<u32>,
    /// The newer version (default: the latest).
    #[param(minimum = 1)]
    to: Option<u32>,
}

/// Compare two versions of a workflow, structurally.
#[utoipa::path(
    get,
    path = "/workflows/{id}/diff",
    tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id or name"), DiffQuery),
    responses(
        (status = 200, description = "The changes from `from` to `to`", body = WorkflowDiff),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "No such workflow or version", body = ErrorBody),
    )
)]
async fn diff(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<WorkflowDiff>> {
    let diff = state.app().workflows().diff(&id, q.from, q.to).await?;
    Ok(Json(WorkflowDiff::from_diff(diff)))
}

/// Execute a workflow.
#[utoipa::path(
    post,
    path = "/workflows/{id}/execute",
    tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id or name")),
    request_body(content((Option<ExecuteRequest> = "application/json"), (Option<ExecuteRequest> = "application/yaml"))),
    responses(
        (status = 200, description = "A repeat of an earlier request with the same `Idempotency-Key`: the execution it started (header `Idempotent-Replayed: true`)", body = Started),
        (status = 201, description = "Started (durably): the new execution", body = Started),
        (status = 400, description = "Unreadable body, or no such version", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
        (status = 409, description = "The workflow cannot run here (a disabled task type)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid inputs (`details` lists every violation with its path and keyword), or an `Idempotency-Key` used for another request (`idempotency_key_reused`)", body = ErrorBody),
    ),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Start at most once: the same key and request within 24 hours answer the first execution (200); the same key with another request is 422. 1 to 255 visible ASCII characters."),
    ),
)]
async fn execute(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Option<axum::Extension<crate::auth::Caller>>,
    headers: axum::http::HeaderMap,
    Body(request): Body<ExecuteRequest>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            crate::error::ApiError::bad_request(
                "`Idempotency-Key` must be visible ASCII characters",
            )
        })?),
    };
    // Recorded with the execution: the token's name, when a token was checked.
    let origin = Origin::new(OriginKind::Api, caller.map(|c| c.0.name));
    let executions = state.app().executions();
    let started = executions
        .start(&id, request.version, request.inputs, key, origin)
        .await?;
    let body = Json(Started::from_started(&started));
    Ok(if started.replayed {
        (StatusCode::OK, [("idempotent-replayed", "true")], body).into_response()
    } else {
        (StatusCode::CREATED, body).into_response()
    })
}

/// How to draw a graph.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct GraphQuery {
    /// `mermaid` (default), `dot` or `json`.
    #[param(inline)]
    format: Option<GraphFormatParam>,
    /// A version number (default: the latest).
    #[param(minimum = 1)]
    version: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum GraphFormatParam {
    Mermaid,
    Dot,
    Json,
}

impl From<GraphFormatParam> for GraphFormat {
    fn from(f: GraphFormatParam) -> GraphFormat {
        match f {
            GraphFormatParam::Mermaid => GraphFormat::Mermaid,
            GraphFormatParam::Dot => GraphFormat::Dot,
            GraphFormatParam::Json => GraphFormat::Json,
        }
    }
}

/// Draw a workflow's task graph.
#[utoipa::path(
    get,
    path = "/workflows/{id}/graph",
    tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id or name"), GraphQuery),
    responses(
        (status = 200, description = "The graph: Mermaid or DOT text, or JSON", content(
            (String = "text/plain"),
            (Object = "application/json"),
        )),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
    )
)]
async fn graph(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<GraphQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or(GraphFormatParam::Mermaid).into();
    let text = state
        .app()
        .workflows()
        .graph(&id, q.version, format)
        .await?;
    if format != GraphFormat::Json {
        return Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response());
    }
    let value: Value = serde_json::from_str(&text).map_err(ApiError::internal)?;
    Ok(Json(value).into_response())
}
