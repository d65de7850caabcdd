//! `/api/templates`: create, list, read, update (a new version), delete, versions,
//! diff, instantiate, export and import.
//!
//! `{id}` is a template's id or its name. Templates are sent as YAML or JSON; a file
//! in the original Tekton Harmonia format (JSON with `workflow_definition`) is
//! converted first, and the answer carries the conversion's report. `?dry_run=true`
//! on create checks (and converts) without storing, to see the converted form.
//!
//! Versions are immutable and compared by canonical content: a PUT whose content is
//! the latest version's stores nothing (`outcome: unchanged`). Instantiating checks
//! the parameters (every violation, `422 invalid_params`), applies defaults, and
//! registers a workflow that records its template and version; it refuses (`409`) to
//! overwrite a workflow of the same name that was not made from this template. Its
//! `outcome` says what happened to the workflow: `created`, `updated` (a new version)
//! or `unchanged` (it had this definition already: `200`, unless an execution started).
//!
//! `export` and `import` are reserved: no template may be named either, since
//! `/api/templates/export` and `/api/templates/import` are routes.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use harmonia_model::template::{self, Document, Template, tekton};
use harmonia_model::{Format, Source};
use harmonia_storage::prelude::*;
use harmonia_storage::{
    OnConflict, PutOutcome, TemplateId, TemplateQuery, TemplateRecord, Timestamp,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::workflows::{VersionQuery, invalid, start};
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::extract::{Body, DefinitionBody, Query};
use crate::state::{AppState, HubEvent};
use crate::templates::{ExportError, export as export_document, import as import_document};
use crate::views::templates::{
    ImportResult, InstantiateRequest, Instantiated, TemplateDetail, TemplateDiff, TemplateList,
    TemplatePreview, TemplateRef, TemplateSaved, TemplateSummary, TemplateVersionInfo,
    TemplateVersionList,
};
use crate::views::{Warning, WorkflowSummary};

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

const RESERVED: [&str; 2] = ["export", "import"];

fn reserved(name: &str) -> ApiResult<()> {
    if RESERVED.contains(&name) {
        return Err(ApiError::new(
            Code::InvalidDefinition,
            format!(
                "`{name}` cannot name a template: /api/templates/{name} is a route; choose another name"
            ),
        ));
    }
    Ok(())
}

/// The stored version `version` (the latest when `None`) of template `id` (an id or a
/// name).
async fn resolve(state: &AppState, id: &str, version: Option<u32>) -> ApiResult<TemplateRecord> {
    let store = &state.0.store;
    let found = match id.parse::<TemplateId>() {
        Ok(uuid) => store.template_by_id(uuid, version).await?,
        Err(_) => store.template(id, version).await?,
    };
    found.ok_or_else(|| match version {
        Some(v) => ApiError::not_found(format!("no template `{id}` version {v}")),
        None => ApiError::not_found(format!("no template `{id}`")),
    })
}

fn stored(r: &TemplateRecord) -> ApiResult<Template> {
    crate::templates::template_of(r).map_err(ApiError::internal)
}

/// A checked template from a request body, converting a Tekton file first.
struct Checked {
    template: Template,
    /// The text to store: the body as sent, or the converted form.
    source: String,
    format: Format,
    conversion: Option<Vec<template::tekton::Issue>>,
    /// Warnings about the template, placed in `source`.
    warnings: Vec<Warning>,
}

fn check(state: &AppState, body: &DefinitionBody) -> ApiResult<Checked> {
    let sent = Source::new("request", body.text.clone(), body.format);
    let (source, conversion) = if tekton::is_tekton(&sent) {
        let c = tekton::convert(&sent).map_err(|e| invalid("request", &e))?;
        (c.source(), Some(c.report))
    } else {
        (sent, None)
    };
    let loaded =
        template::read(&source, state.0.plans.types()).map_err(|e| invalid(source.name(), &e))?;
    reserved(&loaded.template.name)?;
    Ok(Checked {
        template: loaded.template,
        source: source.text().to_string(),
        format: source.format(),
        conversion,
        warnings: Warning::all(&loaded.warnings),
    })
}

async fn save(state: &AppState, c: Checked, note: Option<&str>) -> ApiResult<TemplateSaved> {
    let put = state
        .0
        .store
        .put_template(&crate::templates::new_version(
            &c.template,
            &c.source,
            c.format,
            note,
            Timestamp::now(),
        ))
        .await?;
    Ok(TemplateSaved {
        template: TemplateSummary::from_record(&put.record),
        outcome: outcome(put.outcome).to_string(),
        conversion: c.conversion,
        warnings: c.warnings,
    })
}

fn outcome(o: PutOutcome) -> &'static str {
    match o {
        PutOutcome::Created => "created",
        PutOutcome::Unchanged => "unchanged",
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
    let c = check(&state, &body)?;
    if q.dry_run == Some(true) {
        return Ok(Json(TemplatePreview {
            template: c.template.to_value(),
            source: c.source,
            conversion: c.conversion,
            warnings: c.warnings,
        })
        .into_response());
    }
    let name = c.template.name.clone();
    if state.0.store.template(&name, None).await?.is_some() {
        return Err(ApiError::new(
            Code::Conflict,
            format!("template `{name}` already exists; PUT /api/templates/{name} adds a version"),
        ));
    }
    let saved = save(&state, c, q.note.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
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
    let limit = crate::extract::limit(q.limit, 100, 500)?;
    let present = crate::extract::present;
    let mut found = state
        .0
        .store
        .templates(&TemplateQuery {
            tag: present(q.tag),
            category: present(q.category),
            search: present(q.q),
            after: present(q.cursor),
            limit: limit + 1,
        })
        .await?;
    let more = found.len() > limit;
    found.truncate(limit);
    Ok(Json(TemplateList {
        next_cursor: more.then(|| found.last().map(|t| t.name.clone())).flatten(),
        templates: found.iter().map(TemplateSummary::from_record).collect(),
    }))
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
    let record = resolve(&state, &id, q.version).await?;
    let t = stored(&record)?;
    Ok(Json(TemplateDetail {
        summary: TemplateSummary::from_record(&record),
        parameters: t.parameters.clone(),
        template: t.to_value(),
        source: record.source,
        format: record.format,
    }))
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
    let current = resolve(&state, &id, None).await?;
    let c = check(&state, &body)?;
    if c.template.name != current.name {
        return Err(ApiError::new(
            Code::InvalidDefinition,
            format!(
                "the template is named `{}`, but this is template `{}`; names do not change",
                c.template.name, current.name
            ),
        ));
    }
    if q.dry_run == Some(true) {
        return Ok(Json(TemplatePreview {
            template: c.template.to_value(),
            source: c.source,
            conversion: c.conversion,
            warnings: c.warnings,
        })
        .into_response());
    }
    Ok(Json(save(&state, c, q.note.as_deref()).await?).into_response())
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
    let record = resolve(&state, &id, None).await?;
    state.0.store.delete_template(&record.name).await?;
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
    let record = resolve(&state, &id, None).await?;
    let all = state.0.store.template_versions(&record.name).await?;
    Ok(Json(TemplateVersionList {
        name: record.name,
        versions: all
            .iter()
            .map(|r| TemplateVersionInfo {
                version: r.version,
                note: r.note.clone(),
                created_at: r.created_at.to_string(),
            })
            .collect(),
    }))
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
    let latest = resolve(&state, &id, None).await?;
    let to = q.to.unwrap_or(latest.version);
    let from = match q.from {
        Some(v) => v,
        None if to > 1 => to - 1,
        None => {
            return Err(ApiError::not_found(format!(
                "template `{}` has no version before {to} to compare it with; pass `from`",
                latest.name
            )));
        }
    };
    let a = resolve(&state, &latest.name, Some(from)).await?;
    let b = resolve(&state, &latest.name, Some(to)).await?;
    Ok(Json(TemplateDiff {
        name: latest.name,
        from,
        to,
        changes: template::diff(&stored(&a)?, &stored(&b)?),
    }))
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
    let record = resolve(&state, &id, request.version).await?;
    let t = stored(&record)?;
    let instance = template::instantiate(
        &t,
        record.version,
        request.name.as_deref(),
        Value::Object(request.params),
    )
    .map_err(|e| match &e {
        template::InstantiateError::Params(v) => ApiError::new(
            Code::InvalidParams,
            format!(
                "the parameters do not match template `{}` ({} problem{})",
                record.name,
                v.len(),
                if v.len() == 1 { "" } else { "s" }
            ),
        )
        .with_details(serde_json::to_value(v).unwrap_or(Value::Null)),
        template::InstantiateError::Name(m) => ApiError::bad_request(format!("`name`: {m}")),
        template::InstantiateError::Schema(m) => ApiError::internal(m),
    })?;
    let name = instance.name().to_string();
    if let Some(existing) = state.0.plans.get(&name, None).await.ok()
        && existing
            .plan
            .workflow
            .template
            .as_ref()
            .map(|t| t.name.as_str())
            != Some(record.name.as_str())
    {
        return Err(ApiError::new(
            Code::Conflict,
            format!(
                "workflow `{name}` exists and was not made from template `{}`; choose another `name`",
                record.name
            ),
        ));
    }
    let before = state.0.store.workflow(&name, None).await?;
    let workflow = match state.0.plans.register(&instance.source(Format::Yaml)).await {
        Ok(w) => w,
        Err(harmonia_engine::RegisterError::Invalid(e)) => return Err(invalid(&name, &e)),
        Err(harmonia_engine::RegisterError::Storage(e)) => return Err(e.into()),
    };
    let version = workflow.record.version;
    // The store returns the latest version when the definition is the same.
    let outcome = match before {
        None => "created",
        Some(b) if b.version == version => "unchanged",
        Some(_) => "updated",
    };
    match outcome {
        "created" => state.notify(HubEvent::WorkflowCreated {
            name: name.clone(),
            version,
        }),
        "updated" => state.notify(HubEvent::WorkflowUpdated {
            name: name.clone(),
            version,
        }),
        _ => {}
    }
    let summary = WorkflowSummary::from_record(&workflow.record);
    let params = instance.params().clone();
    let execution = if request.execute {
        Some(start(&state, workflow, request.inputs).await?)
    } else {
        None
    };
    // Created: a workflow, a version of one, or an execution.
    let status = if outcome == "unchanged" && execution.is_none() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(Instantiated {
            outcome: outcome.to_string(),
            workflow: summary,
            template: TemplateRef {
                name: record.name,
                version: record.version,
            },
            params,
            execution,
        }),
    ))
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
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
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
    let doc = export_document(state.0.store.as_ref(), &names)
        .await
        .map_err(|e| match e {
            ExportError::NotFound(name) => ApiError::not_found(format!("no template `{name}`")),
            ExportError::Storage(e) => e.into(),
            e @ ExportError::Unreadable { .. } => ApiError::internal(e),
        })?;
    let content_type = match format {
        Format::Yaml => "application/yaml",
        Format::Json => "application/json",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], doc.render(format)).into_response())
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
    let source = Source::new("request", body.text.clone(), body.format);
    let doc = Document::read(&source, state.0.plans.types()).map_err(|e| invalid("request", &e))?;
    for v in doc.versions() {
        reserved(&v.template.name)?;
    }
    let on_conflict = if q.strict == Some(true) {
        OnConflict::Fail
    } else {
        OnConflict::NewVersion
    };
    let puts = import_document(state.0.store.as_ref(), &doc, body.format, on_conflict).await?;
    let mut result = ImportResult {
        created: Vec::new(),
        unchanged: Vec::new(),
    };
    for put in puts {
        let r = TemplateRef {
            name: put.record.name,
            version: put.record.version,
        };
        match put.outcome {
            PutOutcome::Created => result.created.push(r),
            PutOutcome::Unchanged => result.unchanged.push(r),
        }
    }
    Ok(Json(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_refused_with_the_reason() {
        for name in RESERVED {
            let e = reserved(name).expect_err("reserved");
            assert!(e.message.contains("is a route"), "{}", e.message);
        }
        assert!(reserved("exports").is_ok());
    }
}
