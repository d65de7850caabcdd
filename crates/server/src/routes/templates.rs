//! `/api/templates`: create, list, read, update (a new version), delete, versions,
//! diff, instantiate, export and import.
//!
//! Adapters over `harmonia_app::Templates` (whose module doc holds the rules: the
//! Tekton conversion, versions by content, instantiation, reserved names). `{id}` is a
//! template's id or its name. `?dry_run=true` on create and update checks (and
//! converts) without storing. Instantiating answers `200` when the workflow had this
//! definition already and no execution started, `201` otherwise; its `outcome` says
//! what happened to the workflow: `created`, `updated` or `unchanged`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use harmonia_app::templates::{Mode, Saved, TemplateFilter};
use harmonia_app::workflows::Outcome;
use harmonia_model::Format;
use harmonia_storage::OnConflict;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::VersionQuery;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, DefinitionBody, Query};
use crate::state::AppState;
use crate::views::templates::{
    ImportResult, InstantiateRequest, Instantiated, TemplateDetail, TemplateDiff, TemplateList,
    TemplatePreview, TemplateSaved, TemplateVersionList,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(export))
        .routes(routes!(import))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(versions))
        .routes(routes!(diff))
        .routes(routes!(instantiate))
}

/// A template stored (`created` with a new template) or checked only.
fn saved(saved: Saved, created: StatusCode) -> Response {
    match saved.stored {
        Some(put) => {
            let view = TemplateSaved::from_put(&put, saved.checked);
            (created, Json(view)).into_response()
        }
        None => Json(TemplatePreview::from_checked(saved.checked)).into_response(),
    }
}

/// Options of create and update.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SaveQuery {
    /// The change note of the version.
    note: Option<String>,
    /// Check (and convert) only: store nothing, answer the template as it would be.
    dry_run: Option<bool>,
}

impl SaveQuery {
    fn mode(&self) -> Mode {
        if self.dry_run == Some(true) {
            Mode::DryRun
        } else {
            Mode::Store
        }
    }
}

/// Create a template from YAML or JSON (or a Tekton template file, converted).
#[utoipa::path(
    post,
    path = "/templates",
    tag = "templates",
    params(SaveQuery),
    request_body(
        description = "A template in YAML or JSON: name, description, tags, category, parameters (a JSON Schema) and workflow; or an original Tekton Harmonia template file.",
        content(
            (String = "application/yaml", example = "name: greet\nparameters:\n  type: object\n  properties:\n    who: {type: string, default: world}\nworkflow:\n  tasks:\n    hello: {type: set, with: {msg: \"hello ${ $params.who }\"}}\n"),
            (Object = "application/json"),
        )
    ),
    responses(
        (status = 201, description = "Created", body = TemplateSaved),
        (status = 200, description = "With dry_run: the template as it would be stored", body = TemplatePreview),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 409, description = "A template by that name exists", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid template: `details` lists every problem", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    Query(q): Query<SaveQuery>,
    body: DefinitionBody,
) -> ApiResult<Response> {
    let templates = state.app().templates();
    let done = templates
        .create(&body.source(), q.note.as_deref(), q.mode())
        .await?;
    Ok(saved(done, StatusCode::CREATED))
}

/// Filters and paging of template lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only templates with this tag.
    tag: Option<String>,
    /// Only templates in this category.
    category: Option<String>,
    /// Only templates whose name contains this (case-insensitive).
    q: Option<String>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List templates (their latest versions), by name.
#[utoipa::path(
    get,
    path = "/templates",
    tag = "templates",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of templates", body = TemplateList),
        (status = 400, description = "Bad query", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<TemplateList>> {
    let filter = TemplateFilter {
        tag: q.tag,
        category: q.category,
        search: q.q,
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = state.app().templates().list(filter).await?;
    Ok(Json(TemplateList::from_page(&page)))
}

/// Read a template: its summary, parameters, the template itself and its text.
#[utoipa::path(
    get,
    path = "/templates/{id}",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id or name"), VersionQuery),
    responses(
        (status = 200, description = "The template", body = TemplateDetail),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "No such template or version", body = ErrorBody),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<TemplateDetail>> {
    let detail = state.app().templates().get(&id, q.version).await?;
    Ok(Json(TemplateDetail::from_detail(detail)))
}

/// Store a new version of a template.
#[utoipa::path(
    put,
    path = "/templates/{id}",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id or name"), SaveQuery),
    request_body(
        description = "The new template in YAML or JSON; its `name` must be the template's.",
        content((String = "application/yaml"), (Object = "application/json"))
    ),
    responses(
        (status = 200, description = "The version now current (`outcome: unchanged` when the content is the latest's)", body = TemplateSaved),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 404, description = "No such template", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid template", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SaveQuery>,
    body: DefinitionBody,
) -> ApiResult<Response> {
    let templates = state.app().templates();
    let done = templates
        .update(&id, &body.source(), q.note.as_deref(), q.mode())
        .await?;
    Ok(saved(done, StatusCode::OK))
}

/// Delete a template. Workflows made from it keep working; its versions stay readable
/// by number.
#[utoipa::path(
    delete,
    path = "/templates/{id}",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id or name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such template", body = ErrorBody),
    )
)]
async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.app().templates().delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List a template's versions, oldest first.
#[utoipa::path(
    get,
    path = "/templates/{id}/versions",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id or name")),
    responses(
        (status = 200, description = "Its versions", body = TemplateVersionList),
        (status = 404, description = "No such template", body = ErrorBody),
    )
)]
async fn versions(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<TemplateVersionList>> {
    let (name, versions) = state.app().templates().versions(&id).await?;
    Ok(Json(TemplateVersionList::new(name, &versions)))
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

/// Compare two versions of a template, structurally.
#[utoipa::path(
    get,
    path = "/templates/{id}/diff",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id or name"), DiffQuery),
    responses(
        (status = 200, description = "The changes from `from` to `to`", body = TemplateDiff),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "No such template or version", body = ErrorBody),
    )
)]
async fn diff(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<TemplateDiff>> {
    let diff = state.app().templates().diff(&id, q.from, q.to).await?;
    Ok(Json(TemplateDiff::from_diff(diff)))
}

/// Make a workflow from a template: check the parameters, apply defaults, register the
/// workflow, and optionally start it.
#[utoipa::path(
    post,
    path = "/templates/{id}/instantiate",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id or name")),
    request_body(content(
        (InstantiateRequest = "application/json"),
        (InstantiateRequest = "application/yaml"),
    )),
    responses(
        (status = 200, description = "The workflow, which had this definition already (`outcome: unchanged`)", body = Instantiated),
        (status = 201, description = "The workflow (`outcome`: `created`, or `updated` with a new version), or the execution started with `execute`", body = Instantiated),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 404, description = "No such template or version", body = ErrorBody),
        (status = 409, description = "A workflow by that name exists and was not made from this template", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid parameters (`invalid_params`: every violation) or inputs", body = ErrorBody),
    )
)]
async fn instantiate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(request): Body<InstantiateRequest>,
) -> ApiResult<(StatusCode, Json<Instantiated>)> {
    let templates = state.app().templates();
    let done = templates
        .instantiate(&id, request.into_instantiate())
        .await?;
    // Created: a workflow, a version of one, or an execution.
    let status = if done.outcome == Outcome::Unchanged && done.execution.is_none() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(Instantiated::from_instantiated(done))))
}

/// What to export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Read from the raw query (for repeated `name`); here for the docs.
struct ExportQuery {
    /// A template to export (repeat for several; none: every template).
    #[param(style = Form, explode)]
    name: Option<Vec<String>>,
    /// `yaml` (default) or `json`.
    #[param(inline, pattern = "^(yaml|json)$")]
    format: Option<String>,
}

/// Export templates with all their versions as one document (YAML or JSON).
#[utoipa::path(
    get,
    path = "/templates/export",
    tag = "templates",
    params(ExportQuery),
    responses(
        (status = 200, description = "The export document", content(
            (Object = "application/yaml"),
            (Object = "application/json"),
        )),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "A named template does not exist", body = ErrorBody),
    )
)]
async fn export(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let (names, format) = export_query(raw.as_deref().unwrap_or(""))?;
    let doc = state.app().templates().export(&names).await?;
    let content_type = match format {
        Format::Yaml => "application/yaml",
        Format::Json => "application/json",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], doc.render(format)).into_response())
}

/// The names (repeated `name`) and format of an export's query.
fn export_query(raw: &str) -> ApiResult<(Vec<String>, Format)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))?;
    let mut names = Vec::new();
    let mut format = Format::Yaml;
    for (k, v) in pairs {
        match k.as_str() {
            // An empty value is no filter, as everywhere in the API's queries.
            "name" if v.is_empty() => {}
            "name" => names.push(v),
            "format" => {
                format = match v.as_str() {
                    "yaml" => Format::Yaml,
                    "json" => Format::Json,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "`format` must be `yaml` or `json`, found `{other}`"
                        )));
                    }
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{other}`; expected `name` or `format`"
                )));
            }
        }
    }
    Ok((names, format))
}

/// How to import.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// Refuse (409, nothing written) when any template exists with other content,
    /// instead of adding its versions.
    strict: Option<bool>,
}

/// Import an export document (or a single template): same name and content is a no-op;
/// other content becomes new versions, or a 409 with `strict`.
#[utoipa::path(
    post,
    path = "/templates/import",
    tag = "templates",
    params(ImportQuery),
    request_body(
        description = "An export document (`format: harmonia-templates/1`) or one template, in YAML or JSON.",
        content((String = "application/yaml"), (Object = "application/json"))
    ),
    responses(
        (status = 200, description = "What was stored and what was already there", body = ImportResult),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 409, description = "With strict: templates that exist with other content", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid document: `details` lists every problem", body = ErrorBody),
    )
)]
async fn import(
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: DefinitionBody,
) -> ApiResult<Json<ImportResult>> {
    let on_conflict = if q.strict == Some(true) {
        OnConflict::Fail
    } else {
        OnConflict::NewVersion
    };
    let templates = state.app().templates();
    let done = templates.import(&body.source(), on_conflict).await?;
    Ok(Json(ImportResult::from_imported(&done)))
}
