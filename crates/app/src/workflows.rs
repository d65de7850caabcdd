//! Workflows: create, update (a new version), check (validate, storing nothing), read
//! any version, list, versions, diff two versions, delete, graph, and register.
//!
//! A workflow is named by its id or its name wherever one is looked up. Definitions
//! come as a [`Source`] (text, format, and the name diagnostics use) and are answered,
//! when invalid, with every diagnostic ([`Error::InvalidDefinition`]). Storing a text
//! identical to the latest version's keeps that version.
//!
//! A definition that is stored is answered with its warnings: what works but is
//! probably not meant (an input its schema does not declare, ...), and each `type:
//! workflow` task naming a workflow (or version) that is not stored. That one is a
//! warning, not an error: workflows may be created in any order, two may run each
//! other, and one can be deleted after another that runs it was stored, so only a run
//! can tell; it fails that task with the reason.
//!
//! Deleting a workflow that has unfinished executions is refused ([`Error::Running`],
//! with their ids) unless the caller says they may run on ([`OnUnfinished::RunOn`]):
//! then the workflow only is deleted, and its executions run to their end on the
//! version they pinned (versions stay readable by number), because cancelling
//! someone's running work is a separate, explicit act.
//!
//! Every change (created, updated, deleted) is announced on [`crate::Changes`] after it
//! is stored: this module is the only place that writes workflows.

use harmonia_engine::Workflow;
use harmonia_model::graph::{GraphFormat, render};
use harmonia_model::{Diagnostic, Format, Loaded, Plan, Source};
use harmonia_storage::prelude::*;
use harmonia_storage::{Store, WorkflowId, WorkflowRecord};

use crate::{Change, Ctx, Error, Kind, Page, Result, limit, present};

/// Workflows (see the module doc).
#[derive(Clone)]
pub struct Workflows(pub(crate) Ctx);

/// A version that was stored (or kept), with the warnings about its definition.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The version now current.
    pub record: WorkflowRecord,
    /// The warnings, in source order (the model's, and the sub-workflows not stored).
    pub warnings: Vec<Diagnostic>,
}

/// A definition that validates, checked without storing it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Its compiled plan.
    pub plan: Plan,
    /// The warnings, in source order (the model's, and the sub-workflows not stored).
    pub warnings: Vec<Diagnostic>,
}

impl Checked {
    /// Its task graph drawn in `format` (as [`Workflows::graph`] draws a stored one).
    pub fn graph(&self, format: GraphFormat) -> String {
        render(&self.plan, format)
    }
}

/// A stored version with its definition.
#[derive(Debug, Clone)]
pub struct Detail {
    /// The version.
    pub record: WorkflowRecord,
    /// Its definition as read back (absent if it no longer reads).
    pub definition: Option<harmonia_model::Workflow>,
}

/// The structural difference between two versions of a workflow.
#[derive(Debug, Clone)]
pub struct Diff {
    /// The workflow.
    pub name: String,
    /// The older version.
    pub from: u32,
    /// The newer version.
    pub to: u32,
    /// Each change, a JSON pointer into the definition's JSON form, in a stable order
    /// (see `harmonia_model::template::diff_values`).
    pub changes: Vec<harmonia_model::template::Change>,
}

/// What registering a definition did to its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new workflow (or one stored again under a deleted workflow's name).
    Created,
    /// A new version of a workflow.
    Updated,
    /// Nothing: the latest version had this text already.
    Unchanged,
}

impl Outcome {
    /// `created`, `updated` or `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
        }
    }
}

/// A registered version, compiled, and what registering did.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The version now current, ready to run.
    pub workflow: Workflow,
    /// What happened.
    pub outcome: Outcome,
}

/// What to do about a workflow's unfinished executions when deleting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnfinished {
    /// Refuse to delete ([`Error::Running`]).
    Refuse,
    /// Delete; they run on to their end on the version they pinned.
    RunOn,
}

/// Which workflows to list.
#[derive(Debug, Clone, Default)]
pub struct WorkflowFilter {
    /// Only workflows whose name contains this (empty: all).
    pub search: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

/// The stored version `version` (the latest when `None`) of workflow `id` (an id or a
/// name).
pub(crate) async fn record(
    store: &dyn Store,
    id: &str,
    version: Option<u32>,
) -> Result<WorkflowRecord> {
    let found = match id.parse::<WorkflowId>() {
        Ok(uuid) => store.workflow_by_id(uuid, version).await?,
        Err(_) => store.workflow(id, version).await?,
    };
    found.ok_or_else(|| match version {
        Some(v) => Error::NotFound(format!("no workflow `{id}` version {v}")),
        None => Error::NotFound(format!("no workflow `{id}`")),
    })
}

impl Workflows {
    /// The stored version `version` (the latest when `None`) of workflow `id` (an id or
    /// a name).
    pub async fn record(&self, id: &str, version: Option<u32>) -> Result<WorkflowRecord> {
        record(self.0.store().as_ref(), id, version).await
    }

    /// Version `version` (the latest when `None`) of workflow `id`, with its definition.
    pub async fn get(&self, id: &str, version: Option<u32>) -> Result<Detail> {
        let record = self.record(id, version).await?;
        let format = if record.format == "json" {
            Format::Json
        } else {
            Format::Yaml
        };
        let definition =
            harmonia_model::read(&Source::new("stored", record.source.clone(), format)).ok();
        Ok(Detail { record, definition })
    }

    /// The changes from version `from` (default: the one before `to`) to version `to`
    /// (default: the latest) of workflow `id`, comparing the definitions as JSON.
    pub async fn diff(&self, id: &str, from: Option<u32>, to: Option<u32>) -> Result<Diff> {
        let latest = self.record(id, None).await?;
        let (from, to) = crate::diff_versions("workflow", &latest.name, latest.version, from, to)?;
        let a = self.get(&latest.name, Some(from)).await?;
        let b = self.get(&latest.name, Some(to)).await?;
        let json = |d: &Detail| {
            d.definition
                .as_ref()
                .and_then(|w| serde_json::to_value(w).ok())
                .unwrap_or(serde_json::Value::Null)
        };
        Ok(Diff {
            changes: harmonia_model::template::diff_values(&json(&a), &json(&b)),
            name: latest.name,
            from,
            to,
        })
    }

    /// Validates a definition; every problem is in the error.
    fn validate(&self, source: &Source) -> Result<Loaded> {
        harmonia_model::load(source, self.0.plans().types())
            .map_err(|e| Error::invalid(source.name(), &e))
    }

    /// The warnings about a valid definition: the model's, one for each sub-workflow
    /// (or version of one) that the store does not hold, and one for each component
    /// the directory does not know (yet).
    async fn warnings(&self, source: &Source, loaded: &Loaded) -> Result<Vec<Diagnostic>> {
        let mut found = loaded.warnings.clone();
        for sub in harmonia_model::sub_workflows(loaded, source) {
            let name = harmonia_model::clip(&sub.name);
            let task = &sub.task;
            let stored = self.0.store().workflow(&sub.name, None).await?;
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
        for c in harmonia_model::components(loaded, source) {
            if !self.0.components.knows(&c.name).await {
                let name = harmonia_model::clip(&c.name);
                let task = &c.task;
                let message = if self.0.components.discovers() {
                    format!(
                        "no component `{name}` is declared or registered with Hermes yet: task `{task}` fails when it runs unless `{name}` registers first"
                    )
                } else {
                    format!(
                        "no component `{name}` is declared: task `{task}` fails when it runs unless `{name}` is declared under [[components]] in the server's config"
                    )
                };
                found.push(c.warning(message));
            }
        }
        found.sort_by_key(|d| d.position);
        Ok(found)
    }

    /// Checks a definition and stores nothing: when it is valid, its plan and its
    /// warnings (those [`Workflows::create`] would answer: sub-workflows are looked
    /// up in the store); when it is not, every problem ([`Error::InvalidDefinition`]).
    /// What `harmonia validate` checks, with the server's task types.
    pub async fn check(&self, source: &Source) -> Result<Checked> {
        let loaded = self.validate(source)?;
        let warnings = self.warnings(source, &loaded).await?;
        Ok(Checked {
            plan: loaded.plan,
            warnings,
        })
    }

    /// Creates a workflow from a definition; refused when one by its name exists.
    pub async fn create(&self, source: &Source) -> Result<Saved> {
        let loaded = self.validate(source)?;
        let warnings = self.warnings(source, &loaded).await?;
        let name = loaded.plan.workflow.name.clone();
        if self.0.store().workflow(&name, None).await?.is_some() {
            return Err(Error::Exists {
                kind: Kind::Workflow,
                name,
            });
        }
        let registered = self.save(&name, source, loaded.plan).await?;
        Ok(Saved {
            record: registered.workflow.record,
            warnings,
        })
    }

    /// Stores a new version of workflow `id` (unchanged when the text is the latest
    /// version's). The definition must keep the workflow's name.
    pub async fn update(&self, id: &str, source: &Source) -> Result<Saved> {
        let current = self.record(id, None).await?;
        let loaded = self.validate(source)?;
        if loaded.plan.workflow.name != current.name {
            return Err(Error::InvalidName(format!(
                "the definition is named `{}`, but this is workflow `{}`; names do not change",
                loaded.plan.workflow.name, current.name
            )));
        }
        let warnings = self.warnings(source, &loaded).await?;
        let registered = self.save(&current.name, source, loaded.plan).await?;
        Ok(Saved {
            record: registered.workflow.record,
            warnings,
        })
    }

    /// Stores a definition as it is: a new workflow, a new version of one, or nothing
    /// new when the latest version has this text. What `harmonia run` does with its
    /// file.
    pub async fn register(&self, source: &Source) -> Result<Registered> {
        let loaded = harmonia_model::load(source, self.0.plans().types());
        self.register_loaded(source, loaded).await
    }

    /// [`Workflows::register`] of a definition its caller has loaded already, with
    /// the engine's task types ([`harmonia_engine::Plans::types`], or the same
    /// kinds' [`harmonia_engine::kinds::Kinds::task_types`]): `harmonia run` reads its
    /// file while the store opens and the engine starts.
    pub async fn register_loaded(
        &self,
        source: &Source,
        loaded: std::result::Result<Loaded, harmonia_model::Error>,
    ) -> Result<Registered> {
        let loaded = loaded.map_err(|e| Error::invalid(source.name(), &e))?;
        let name = loaded.plan.workflow.name.clone();
        self.save(&name, source, loaded.plan).await
    }

    /// Registers `source`, whose loaded `plan` the caller has (validated with the
    /// engine's task types), as workflow `name`, and announces what changed.
    pub(crate) async fn save(&self, name: &str, source: &Source, plan: Plan) -> Result<Registered> {
        let before = self.0.store().workflow(name, None).await?;
        let workflow = self
            .0
            .plans()
            .register_plan(source, plan)
            .await
            .map_err(|e| match e {
                harmonia_engine::RegisterError::Invalid(e) => Error::invalid(source.name(), &e),
                harmonia_engine::RegisterError::Storage(e) => e.into(),
            })?;
        let version = workflow.record.version;
        // The store answers the latest version when the text is the same.
        let outcome = match before {
            None => Outcome::Created,
            Some(b) if b.version == version => Outcome::Unchanged,
            Some(_) => Outcome::Updated,
        };
        let name = workflow.record.name.clone();
        match outcome {
            Outcome::Created => self
                .0
                .changes
                .announce(Change::WorkflowCreated { name, version }),
            Outcome::Updated => self
                .0
                .changes
                .announce(Change::WorkflowUpdated { name, version }),
            Outcome::Unchanged => {}
        }
        Ok(Registered { workflow, outcome })
    }

    /// A page of workflows (their latest versions), by name.
    pub async fn list(&self, filter: WorkflowFilter) -> Result<Page<WorkflowRecord>> {
        let limit = limit(filter.limit, 100, 1000)?;
        let search = present(filter.search);
        let cursor = present(filter.cursor);
        let mut all: Vec<WorkflowRecord> = self
            .0
            .store()
            .workflows()
            .await?
            .into_iter()
            .filter(|w| search.as_ref().is_none_or(|s| w.name.contains(s.as_str())))
            .filter(|w| cursor.as_ref().is_none_or(|c| w.name.as_str() > c.as_str()))
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all.truncate(limit + 1);
        Ok(Page::of(all, limit, |w| w.name.clone()))
    }

    /// Every version of workflow `id`, oldest first, and its name.
    pub async fn versions(&self, id: &str) -> Result<(String, Vec<WorkflowRecord>)> {
        let record = self.record(id, None).await?;
        let versions = self.0.store().workflow_versions(&record.name).await?;
        Ok((record.name, versions))
    }

    /// Deletes workflow `id` (see the module doc for its unfinished executions).
    pub async fn delete(&self, id: &str, unfinished: OnUnfinished) -> Result<()> {
        let record = self.record(id, None).await?;
        let running: Vec<_> = self
            .0
            .store()
            .unfinished()
            .await?
            .into_iter()
            .filter(|x| x.workflow == record.name)
            .map(|x| x.id)
            .collect();
        if !running.is_empty() && unfinished == OnUnfinished::Refuse {
            return Err(Error::Running {
                workflow: record.name,
                executions: running,
            });
        }
        self.0.store().delete_workflow(&record.name).await?;
        self.0
            .changes
            .announce(Change::WorkflowDeleted { name: record.name });
        Ok(())
    }

    /// Version `version` (the latest when `None`) of workflow `id`, compiled.
    pub async fn plan(&self, id: &str, version: Option<u32>) -> Result<Workflow> {
        let record = self.record(id, version).await?;
        Ok(self
            .0
            .plans()
            .get(&record.name, Some(record.version))
            .await?)
    }

    /// The task graph of version `version` (the latest when `None`) of workflow `id`,
    /// drawn in `format`.
    pub async fn graph(
        &self,
        id: &str,
        version: Option<u32>,
        format: GraphFormat,
    ) -> Result<String> {
        let workflow = self.plan(id, version).await?;
        Ok(render(&workflow.plan, format))
    }
}
