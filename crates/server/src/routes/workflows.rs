//! `/api/workflows`: create, list, read, update (a new version), delete, execute, draw.
//!
//! `{id}` is a workflow's id or its name. Definitions are sent as YAML or JSON (by
//! `Content-Type`; sniffed when absent) and answered, when invalid, with every
//! diagnostic (`422 invalid_definition`, `details`: the list, each with its line and
//! column). Updating makes a new version; an identical text keeps the current one.
//!
//! A definition that is stored is answered with its `warnings`: what works but is
//! probably not meant (an input its schema does not declare, ...), and each
//! `type: workflow` task naming a workflow (or version) that is not stored. That one
//! is a warning, not an error: workflows may be created in any order, two may run
//! each other, and one can be deleted after another that runs it was stored, so only
//! a run can tell; it fails that task with the reason.
//!
//! Deleting a workflow that has unfinished executions is refused (`409`, `details`:
//! their ids) unless `?force=true`. Forcing deletes the workflow only: its unfinished
//! executions run to their end on the version they pinned (versions stay readable by
//! number), because cancelling someone's running work is a separate, explicit act.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use harmonia_engine::{RegisterError, StartRequest};
use harmonia_model::graph::{GraphFormat, render};
use harmonia_model::{Format, Source};
use harmonia_storage::prelude::*;
use harmonia_storage::{WorkflowId, WorkflowRecord};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::extract::{Body, DefinitionBody, Query};
use crate::state::{AppState, HubEvent};
use crate::views::{
    ExecuteRequest, Started, VersionInfo, VersionList, Warning, WorkflowDetail, WorkflowList,
    WorkflowSaved, WorkflowSummary, execution_links,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(versions))
        .routes(routes!(execute))
        .routes(routes!(graph))
}

/// The stored version `version` (the latest when `None`) of workflow `id` (an id or a
/// name).
pub(crate) async fn resolve(
    state: &AppState,
    id: &str,
    version: Option<u32>,
) -> ApiResult<WorkflowRecord> {
    let store = &state.0.store;
    let found = match id.parse::<WorkflowId>() {
        Ok(uuid) => store.workflow_by_id(uuid, version).await?,
        Err(_) => store.workflow(id, version).await?,
    };
    found.ok_or_else(|| match version {
        Some(v) => ApiError::not_found(format!("no workflow `{id}` version {v}")),
        None => ApiError::not_found(format!("no workflow `{id}`")),
    })
}

pub(crate) fn invalid(name: &str, e: &harmonia_model::Error) -> ApiError {
    let n = e
        .diagnostics()
        .iter()
        .filter(|d| d.severity == harmonia_model::Severity::Error)
        .count();
    let details = serde_json::to_value(e.diagnostics()).unwrap_or(Value::Null);
    ApiError::new(
        Code::InvalidDefinition,
        format!(
            "the definition has {n} problem{} ({name})",
            if n == 1 { "" } else { "s" }
        ),
    )
    .with_details(details)
}

/// Validates a definition; every problem is in the error.
fn validate(
    state: &AppState,
    body: &DefinitionBody,
) -> ApiResult<(Source, harmonia_model::Loaded)> {
    let source = Source::new("request", body.text.clone(), body.format);
    let loaded =
        harmonia_model::load(&source, state.0.plans.types()).map_err(|e| invalid("request", &e))?;
    Ok((source, loaded))
}

/// The warnings about a valid definition: the model's, and one for each sub-workflow
/// (or version of one) that the store does not hold.
async fn warnings(
    state: &AppState,
    source: &Source,
    loaded: &harmonia_model::Loaded,
) -> ApiResult<Vec<Warning>> {
    let mut found = loaded.warnings.clone();
    for sub in harmonia_model::sub_workflows(loaded, source) {
        let name = harmonia_model::clip(&sub.name);
        let task = &sub.task;
        let stored = state.0.store.workflow(&sub.name, None).await?;
        let message = match (stored, sub.version) {
            (None, _) => format!(
                "no workflow `{name}` is stored yet: task `{task}` fails when it runs unless `{name}` is created first"
            ),
            (Some(latest), Some(v)) if v > latest.version => format!(
                "workflow `{name}` has no version {v} (its latest is {}): task `{task}` fails when it runs unless that version is stored first",
                latest.version
            ),
            _ => continue,
        };
        found.push(sub.warning(message));
    }
    found.sort_by_key(|d| d.position);
    Ok(Warning::all(&found))
}

pub(crate) async fn register(state: &AppState, source: &Source) -> ApiResult<WorkflowRecord> {
    match state.0.plans.register(source).await {
        Ok(w) => Ok(w.record),
        Err(RegisterError::Invalid(e)) => Err(invalid("request", &e)),
        Err(RegisterError::Storage(e)) => Err(e.into()),
    }
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
    let (source, loaded) = validate(&state, &body)?;
    let warnings = warnings(&state, &source, &loaded).await?;
    let name = loaded.plan.workflow.name.clone();
    if state.0.store.workflow(&name, None).await?.is_some() {
        return Err(ApiError::new(
            Code::Conflict,
            format!("workflow `{name}` already exists; PUT /api/workflows/{name} adds a version"),
        ));
    }
    let record = register(&state, &source).await?;
    state.notify(HubEvent::WorkflowCreated {
        name: record.name.clone(),
        version: record.version,
    });
    Ok((
        StatusCode::CREATED,
        Json(WorkflowSaved {
            summary: WorkflowSummary::from_record(&record),
            warnings,
        }),
    ))
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
    let limit = crate::extract::limit(q.limit, 100, 1000)?;
    let q = ListQuery {
        q: crate::extract::present(q.q),
        cursor: crate::extract::present(q.cursor),
        ..q
    };
    let mut all: Vec<WorkflowRecord> = state
        .0
        .store
        .workflows()
        .await?
        .into_iter()
        .filter(|w| q.q.as_ref().is_none_or(|s| w.name.contains(s.as_str())))
        .filter(|w| {
            q.cursor
                .as_ref()
                .is_none_or(|c| w.name.as_str() > c.as_str())
        })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let more = all.len() > limit;
    all.truncate(limit);
    let next_cursor = more.then(|| all.last().map(|w| w.name.clone())).flatten();
    Ok(Json(WorkflowList {
        workflows: all.iter().map(WorkflowSummary::from_record).collect(),
        next_cursor,
    }))
}

/// Which version to read (of a workflow or a template).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VersionQuery {
    /// A version number (default: the latest).
    #[param(minimum = 1)]
    pub(crate) version: Option<u32>,
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
    let record = resolve(&state, &id, q.version).await?;
    let format = if record.format == "json" {
        Format::Json
    } else {
        Format::Yaml
    };
    let definition = harmonia_model::read(&Source::new("stored", record.source.clone(), format))
        .ok()
        .and_then(|w| serde_json::to_value(w).ok())
        .unwrap_or(Value::Null);
    Ok(Json(WorkflowDetail {
        summary: WorkflowSummary::from_record(&record),
        format: record.format.clone(),
        source: record.source,
        definition,
    }))
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
    let current = resolve(&state, &id, None).await?;
    let (source, loaded) = validate(&state, &body)?;
    if loaded.plan.workflow.name != current.name {
        return Err(ApiError::new(
            Code::InvalidDefinition,
            format!(
                "the definition is named `{}`, but this is workflow `{}`; names do not change",
                loaded.plan.workflow.name, current.name
            ),
        ));
    }
    let warnings = warnings(&state, &source, &loaded).await?;
    let record = register(&state, &source).await?;
    if record.version != current.version {
        state.notify(HubEvent::WorkflowUpdated {
            name: record.name.clone(),
            version: record.version,
        });
    }
    Ok(Json(WorkflowSaved {
        summary: WorkflowSummary::from_record(&record),
        warnings,
    }))
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
    let record = resolve(&state, &id, None).await?;
    let running: Vec<String> = state
        .0
        .store
        .unfinished()
        .await?
        .into_iter()
        .filter(|x| x.workflow == record.name)
        .map(|x| x.id.to_string())
        .collect();
    if !running.is_empty() && q.force != Some(true) {
        return Err(ApiError::new(
            Code::Conflict,
            format!(
                "workflow `{}` has {} unfinished execution{}; cancel them, or delete with ?force=true (they then run on to their end)",
                record.name,
                running.len(),
                if running.len() == 1 { "" } else { "s" }
            ),
        )
        .with_details(json!({"executions": running})));
    }
    state.0.store.delete_workflow(&record.name).await?;
    state.notify(HubEvent::WorkflowDeleted { name: record.name });
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
    let record = resolve(&state, &id, None).await?;
    let versions = state.0.store.workflow_versions(&record.name).await?;
    Ok(Json(VersionList {
        name: record.name,
        versions: versions
            .iter()
            .map(|v| VersionInfo {
                version: v.version,
                created_at: v.created_at.to_string(),
                description: v.description.clone(),
            })
            .collect(),
    }))
}

/// Execute a workflow.
#[utoipa::path(
    post,
    path = "/workflows/{id}/execute",
    tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id or name")),
    request_body(content((Option<ExecuteRequest> = "application/json"), (Option<ExecuteRequest> = "application/yaml"))),
    responses(
        (status = 201, description = "Started (durably): the new execution", body = Started),
        (status = 400, description = "Unreadable body, or no such version", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
        (status = 409, description = "The workflow cannot run here (a disabled task type)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid inputs: `details` lists every violation with its path and keyword", body = ErrorBody),
    )
)]
async fn execute(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(request): Body<ExecuteRequest>,
) -> ApiResult<(StatusCode, Json<Started>)> {
    let record = resolve(&state, &id, None).await?;
    let record = match request.version {
        Some(v) if v != record.version => state
            .0
            .store
            .workflow(&record.name, Some(v))
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "workflow `{}` has no version {v} (its latest is {})",
                    record.name, record.version
                ))
            })?,
        _ => record,
    };
    let workflow = state
        .0
        .plans
        .get(&record.name, Some(record.version))
        .await?;
    let started = start(&state, workflow, request.inputs).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

/// Starts an execution of `workflow` on `inputs` (durably) and describes it.
pub(crate) async fn start(
    state: &AppState,
    workflow: harmonia_engine::Workflow,
    inputs: serde_json::Map<String, Value>,
) -> ApiResult<Started> {
    let name = workflow.record.name.clone();
    let version = workflow.record.version;
    let (execution, status) = state
        .0
        .handle
        .start_with_status(StartRequest::new(workflow, Value::Object(inputs)))
        .await?;
    let id = execution.to_string();
    Ok(Started {
        links: execution_links(&id),
        execution_id: id,
        status: status.to_string(),
        workflow: name,
        version,
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
    let record = resolve(&state, &id, q.version).await?;
    let workflow = state
        .0
        .plans
        .get(&record.name, Some(record.version))
        .await?;
    let format = q.format.unwrap_or(GraphFormatParam::Mermaid);
    Ok(match format {
        GraphFormatParam::Json => {
            let text = render(&workflow.plan, GraphFormat::Json);
            let value: Value = serde_json::from_str(&text).map_err(ApiError::internal)?;
            Json(value).into_response()
        }
        GraphFormatParam::Mermaid | GraphFormatParam::Dot => {
            let f = if matches!(format, GraphFormatParam::Dot) {
                GraphFormat::Dot
            } else {
                GraphFormat::Mermaid
            };
            (
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                render(&workflow.plan, f),
            )
                .into_response()
        }
    })
}
