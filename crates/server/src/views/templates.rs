//! What the template routes send and receive.

use std::collections::BTreeMap;

use harmonia_app::Page;
use harmonia_app::templates::{Checked, Detail, Diff, Imported};
use harmonia_model::template::Change;
use harmonia_model::template::tekton::Issue;
use harmonia_storage::{PutOutcome, TemplatePut, TemplateRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{Links, Started, Warning, WorkflowSummary};

/// A template (one version of it).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "01a20b95-3770-719e-8ae1-f9888c382918", "name": "etl", "version": 2, "description": "Fetch, transform, load", "tags": ["http", "etl"], "category": "data", "note": "paginate", "created_at": "2026-11-24T10:00:00.000Z", "links": {"self": "/api/templates/etl", "instantiate": "/api/templates/etl/instantiate", "versions": "/api/templates/etl/versions"}}))]
pub struct TemplateSummary {
    /// The template's id (the same for all its versions).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Its name.
    pub name: String,
    /// This version.
    pub version: u32,
    /// Its description.
    pub description: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its category.
    pub category: Option<String>,
    /// This version's change note.
    pub note: Option<String>,
    /// When this version was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    /// Links.
    pub links: Links,
}

impl TemplateSummary {
    /// The summary of a stored version.
    pub fn from_record(r: &TemplateRecord) -> TemplateSummary {
        let base = format!("/api/templates/{}", r.name);
        TemplateSummary {
            id: r.id.to_string(),
            name: r.name.clone(),
            version: r.version,
            description: r.description.clone(),
            tags: r.tags.clone(),
            category: r.category.clone(),
            note: r.note.clone(),
            created_at: r.created_at.to_string(),
            links: Links {
                this: base.clone(),
                more: BTreeMap::from([
                    ("instantiate".into(), format!("{base}/instantiate")),
                    ("versions".into(), format!("{base}/versions")),
                    ("diff".into(), format!("{base}/diff")),
                ]),
            },
        }
    }
}

/// A page of templates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateList {
    /// The latest version of each, by name.
    pub templates: Vec<TemplateSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

impl TemplateList {
    /// The view of a page.
    pub fn from_page(page: &Page<TemplateRecord>) -> TemplateList {
        TemplateList {
            templates: page
                .items
                .iter()
                .map(TemplateSummary::from_record)
                .collect(),
            next_cursor: page.next_cursor.clone(),
        }
    }
}

/// A template version in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateDetail {
    /// Its summary.
    #[serde(flatten)]
    pub summary: TemplateSummary,
    /// The JSON Schema of its parameters.
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Value>,
    /// The whole template: name, description, tags, category, parameters, workflow.
    #[schema(value_type = Object)]
    pub template: Value,
    /// The text as it was sent.
    pub source: String,
    /// The format of `source`: `yaml` or `json`.
    pub format: String,
}

impl TemplateDetail {
    /// The view of a version read.
    pub fn from_detail(d: Detail) -> TemplateDetail {
        TemplateDetail {
            summary: TemplateSummary::from_record(&d.record),
            parameters: d.template.parameters.clone(),
            template: d.template.to_value(),
            source: d.record.source,
            format: d.record.format,
        }
    }
}

/// What storing a template did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateSaved {
    /// The version now current.
    pub template: TemplateSummary,
    /// `created` (a new version) or `unchanged` (the content was the latest version's).
    pub outcome: String,
    /// For a template converted from the original Tekton format: what could not be
    /// carried over exactly (each with its line and column in the file sent).
    #[schema(value_type = Option<Vec<Object>>)]
    pub conversion: Option<Vec<Issue>>,
    /// What works but is probably not meant (such as `$params.x` where the parameters
    /// schema declares no `x`), each with its line and column in the template's text;
    /// empty when there is nothing to say.
    pub warnings: Vec<Warning>,
}

impl TemplateSaved {
    /// The view of a version stored (or kept), from the template as checked.
    pub fn from_put(put: &TemplatePut, checked: Checked) -> TemplateSaved {
        TemplateSaved {
            template: TemplateSummary::from_record(&put.record),
            outcome: match put.outcome {
                PutOutcome::Created => "created",
                PutOutcome::Unchanged => "unchanged",
            }
            .to_string(),
            conversion: checked.conversion,
            warnings: Warning::all(&checked.warnings),
        }
    }
}

/// A template checked (and converted) but not stored: `?dry_run=true`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplatePreview {
    /// The template as it would be stored.
    #[schema(value_type = Object)]
    pub template: Value,
    /// Its text in our format (for a Tekton file: the converted form).
    pub source: String,
    /// What a conversion could not carry over exactly (Tekton files only).
    #[schema(value_type = Option<Vec<Object>>)]
    pub conversion: Option<Vec<Issue>>,
    /// What works but is probably not meant, each with its line and column in
    /// `source`.
    pub warnings: Vec<Warning>,
}

impl TemplatePreview {
    /// The view of a template checked, not stored.
    pub fn from_checked(c: Checked) -> TemplatePreview {
        TemplatePreview {
            template: c.template.to_value(),
            source: c.source,
            conversion: c.conversion,
            warnings: Warning::all(&c.warnings),
        }
    }
}

/// One version in a template's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateVersionInfo {
    /// The version.
    pub version: u32,
    /// Its change note.
    pub note: Option<String>,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
}

/// A template's versions, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateVersionList {
    /// The template.
    pub name: String,
    /// Its versions.
    pub versions: Vec<TemplateVersionInfo>,
}

impl TemplateVersionList {
    /// The versions of template `name`.
    pub fn new(name: String, versions: &[TemplateRecord]) -> TemplateVersionList {
        TemplateVersionList {
            name,
            versions: versions
                .iter()
                .map(|r| TemplateVersionInfo {
                    version: r.version,
                    note: r.note.clone(),
                    created_at: r.created_at.to_string(),
                })
                .collect(),
        }
    }
}

/// The structural difference between two versions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateDiff {
    /// The template.
    pub name: String,
    /// The older version.
    pub from: u32,
    /// The newer version.
    pub to: u32,
    /// Each change: a JSON pointer into the template, `added`, `removed` or
    /// `changed`, and the values before and after.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<Change>,
}

impl TemplateDiff {
    /// The view of a diff.
    pub fn from_diff(d: Diff) -> TemplateDiff {
        TemplateDiff {
            name: d.name,
            from: d.from,
            to: d.to,
            changes: d.changes,
        }
    }
}

/// How to instantiate a template.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"params": {"source_url": "http://127.0.0.1:9000/orders"}, "name": "orders-etl", "execute": true}))]
pub struct InstantiateRequest {
    /// The template version (default: the latest).
    #[schema(minimum = 1)]
    pub version: Option<u32>,
    /// The workflow's name (default: derived from the template's name and the values,
    /// so the same values make the same workflow).
    pub name: Option<String>,
    /// The parameter values; defaults fill in the rest.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    /// Start an execution of the new workflow at once.
    #[serde(default)]
    pub execute: bool,
    /// The execution's inputs, with `execute`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: Map<String, Value>,
}

impl InstantiateRequest {
    /// The instantiation asked for.
    pub fn into_instantiate(self) -> harmonia_app::templates::Instantiate {
        harmonia_app::templates::Instantiate {
            version: self.version,
            name: self.name,
            params: self.params,
            execute: self.execute.then_some(self.inputs),
        }
    }
}

/// The template a workflow was made from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateRef {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: u32,
}

/// A workflow made from a template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Instantiated {
    /// What happened to the workflow: `created` (a new workflow), `updated` (a new
    /// version of one made from this template) or `unchanged` (its latest version had
    /// this definition already).
    pub outcome: String,
    /// The workflow (a new one, or a new version of one made from the same template).
    pub workflow: WorkflowSummary,
    /// The template and version it came from.
    pub template: TemplateRef,
    /// The parameter values with defaults applied (what `$params` reads).
    #[schema(value_type = Object)]
    pub params: Value,
    /// The execution started, with `execute`.
    pub execution: Option<Started>,
}

impl TemplateRef {
    /// The template version of a record.
    pub fn of(r: &TemplateRecord) -> TemplateRef {
        TemplateRef {
            name: r.name.clone(),
            version: r.version,
        }
    }
}

impl Instantiated {
    /// The view of an instantiation.
    pub fn from_instantiated(i: harmonia_app::templates::Instantiated) -> Instantiated {
        Instantiated {
            outcome: i.outcome.as_str().to_string(),
            workflow: WorkflowSummary::from_record(&i.workflow),
            template: TemplateRef::of(&i.template),
            params: i.params,
            execution: i.execution.as_ref().map(Started::from_started),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportResult {
    /// Versions stored.
    pub created: Vec<TemplateRef>,
    /// Versions whose content was already stored.
    pub unchanged: Vec<TemplateRef>,
}

impl ImportResult {
    /// The view of an import.
    pub fn from_imported(i: &Imported) -> ImportResult {
        ImportResult {
            created: i.created.iter().map(TemplateRef::of).collect(),
            unchanged: i.unchanged.iter().map(TemplateRef::of).collect(),
        }
    }
}
