//! Templates: create, read, list, versions, update (a new version), delete, diff,
//! instantiate, export, import, and the built-in library.
//!
//! A template is named by its id or its name wherever one is looked up. Templates
//! come as a [`Source`] in YAML or JSON; a file in the original Tekton Harmonia format
//! (JSON with `workflow_definition`) is converted first, and the result carries the
//! conversion's report. [`Mode::DryRun`] checks (and converts) without storing, to see
//! the converted form.
//!
//! Versions are immutable and compared by canonical content: an update whose content
//! is the latest version's stores nothing (`PutOutcome::Unchanged`). Instantiating
//! checks the parameters (every violation, [`Error::InvalidParams`]), applies
//! defaults, and registers a workflow through [`crate::Workflows`] (so it is announced
//! like any other) that records its template and version; it refuses to overwrite a
//! workflow of the same name that was not made from this template.
//!
//! `export` and `import` are reserved: no template may be named either
//! ([`RESERVED`]), since the API has routes by those names beside templates'.
//!
//! `stored` is the glue between the model's templates and the store (what a version
//! stores, export and import documents, seeding the built-ins); its functions need
//! only a store.

mod stored;

use harmonia_model::template::{self, Change, Document, Template, tekton};
use harmonia_model::{Diagnostic, Format, Source};
use harmonia_storage::prelude::*;
use harmonia_storage::{
    OnConflict, Origin, OriginKind, PutOutcome, TemplateId, TemplatePut, TemplateQuery,
    TemplateRecord, Timestamp,
};
use serde_json::{Map, Value};

pub use stored::{export, format_name, import, new_version, seed_builtins, template_of};

use crate::executions::Started;
use crate::workflows::Outcome;
use crate::{Ctx, Error, Executions, Kind, Page, Result, Workflows, limit, present};

/// Names no template may have.
pub const RESERVED: [&str; 2] = ["export", "import"];

/// Templates (see the module doc).
#[derive(Clone)]
pub struct Templates(pub(crate) Ctx);

/// Whether to store a template or only check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Store it.
    Store,
    /// Check (and convert) only: store nothing, answer the template as it would be.
    DryRun,
}

/// A checked template, converted from a Tekton file when it was one.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The template.
    pub template: Template,
    /// The text to store: the one sent, or the converted form.
    pub source: String,
    /// The format of `source`.
    pub format: Format,
    /// For a Tekton file: what could not be carried over exactly.
    pub conversion: Option<Vec<tekton::Issue>>,
    /// Warnings about the template, placed in `source`.
    pub warnings: Vec<Diagnostic>,
}

/// What creating or updating did: the template checked, and, unless it was a dry
/// run, the version now current.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The template as checked (and converted).
    pub checked: Checked,
    /// [`Mode::Store`]: the version now current, and whether it was created or kept
    /// (the content was the latest's); none for [`Mode::DryRun`].
    pub stored: Option<TemplatePut>,
}

/// A stored version, read.
#[derive(Debug, Clone)]
pub struct Detail {
    /// The version.
    pub record: TemplateRecord,
    /// The template.
    pub template: Template,
}

/// The structural difference between two versions.
#[derive(Debug, Clone)]
pub struct Diff {
    /// The template.
    pub name: String,
    /// The older version.
    pub from: u32,
    /// The newer version.
    pub to: u32,
    /// The changes, in a stable order.
    pub changes: Vec<Change>,
}

/// Which templates to list, by name.
#[derive(Debug, Clone, Default)]
pub struct TemplateFilter {
    /// Only templates with this tag.
    pub tag: Option<String>,
    /// Only templates in this category.
    pub category: Option<String>,
    /// Only templates whose name contains this (case-insensitive).
    pub search: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// At most this many (1 to 500, default 100).
    pub limit: Option<u32>,
}

/// How to instantiate a template.
#[derive(Debug, Clone, Default)]
pub struct Instantiate {
    /// The template version (default: the latest).
    pub version: Option<u32>,
    /// The workflow's name (default: derived from the template's name and the values).
    pub name: Option<String>,
    /// The parameter values; defaults fill in the rest.
    pub params: Map<String, Value>,
    /// Start an execution of the workflow at once, on these inputs.
    pub execute: Option<Map<String, Value>>,
}

/// A workflow made from a template.
#[derive(Debug, Clone)]
pub struct Instantiated {
    /// What happened to the workflow.
    pub outcome: Outcome,
    /// The workflow's version now current.
    pub workflow: harmonia_storage::WorkflowRecord,
    /// The template version it came from.
    pub template: TemplateRecord,
    /// The parameter values with defaults applied (what `$params` reads).
    pub params: Value,
    /// The execution started, when asked.
    pub execution: Option<Started>,
}

/// What an import did, version by version.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// Versions stored.
    pub created: Vec<TemplateRecord>,
    /// Versions whose content was already stored.
    pub unchanged: Vec<TemplateRecord>,
}

/// Refuses a reserved name ([`Error::Reserved`]).
pub fn reserved(name: &str) -> Result<()> {
    if RESERVED.contains(&name) {
        return Err(Error::Reserved(name.to_string()));
    }
    Ok(())
}

impl Templates {
    fn workflows(&self) -> Workflows {
        Workflows(self.0.clone())
    }

    fn executions(&self) -> Executions {
        Executions(self.0.clone())
    }

    /// The stored version `version` (the latest when `None`) of template `id` (an id or
    /// a name).
    pub async fn record(&self, id: &str, version: Option<u32>) -> Result<TemplateRecord> {
        let store = self.0.store();
        let found = match id.parse::<TemplateId>() {
            Ok(uuid) => store.template_by_id(uuid, version).await?,
            Err(_) => store.template(id, version).await?,
        };
        found.ok_or_else(|| match version {
            Some(v) => Error::NotFound(format!("no template `{id}` version {v}")),
            None => Error::NotFound(format!("no template `{id}`")),
        })
    }

    /// Reads and checks a template, converting a Tekton file first.
    pub fn check(&self, sent: &Source) -> Result<Checked> {
        let (source, conversion) = if tekton::is_tekton(sent) {
            let c = tekton::convert(sent).map_err(|e| Error::invalid(sent.name(), &e))?;
            (c.source(), Some(c.report))
        } else {
            (sent.clone(), None)
        };
        let loaded = template::read(&source, self.0.plans().types())
            .map_err(|e| Error::invalid(source.name(), &e))?;
        reserved(&loaded.template.name)?;
        Ok(Checked {
            template: loaded.template,
            source: source.text().to_string(),
            format: source.format(),
            conversion,
            warnings: loaded.warnings,
        })
    }

    async fn save(&self, checked: Checked, note: Option<&str>) -> Result<Saved> {
        let put = self
            .0
            .store()
            .put_template(&new_version(
                &checked.template,
                &checked.source,
                checked.format,
                note,
                Timestamp::now(),
            ))
            .await?;
        Ok(Saved {
            checked,
            stored: Some(put),
        })
    }

    /// Creates a template (or, with [`Mode::DryRun`], checks it); refused when one by
    /// its name exists.
    pub async fn create(&self, source: &Source, note: Option<&str>, mode: Mode) -> Result<Saved> {
        let c = self.check(source)?;
        if mode == Mode::DryRun {
            return Ok(Saved {
                checked: c,
                stored: None,
            });
        }
        let name = c.template.name.clone();
        if self.0.store().template(&name, None).await?.is_some() {
            return Err(Error::Exists {
                kind: Kind::Template,
                name,
            });
        }
        self.save(c, note).await
    }

    /// Stores a new version of template `id` (or, with [`Mode::DryRun`], checks it).
    /// The template must keep its name.
    pub async fn update(
        &self,
        id: &str,
        source: &Source,
        note: Option<&str>,
        mode: Mode,
    ) -> Result<Saved> {
        let current = self.record(id, None).await?;
        let c = self.check(source)?;
        if c.template.name != current.name {
            return Err(Error::InvalidName(format!(
                "the template is named `{}`, but this is template `{}`; names do not change",
                c.template.name, current.name
            )));
        }
        if mode == Mode::DryRun {
            return Ok(Saved {
                checked: c,
                stored: None,
            });
        }
        self.save(c, note).await
    }

    /// Version `version` (the latest when `None`) of template `id`.
    pub async fn get(&self, id: &str, version: Option<u32>) -> Result<Detail> {
        let record = self.record(id, version).await?;
        let template = template_of(&record)?;
        Ok(Detail { record, template })
    }

    /// A page of templates (their latest versions), by name.
    pub async fn list(&self, filter: TemplateFilter) -> Result<Page<TemplateRecord>> {
        let limit = limit(filter.limit, 100, 500)?;
        let found = self
            .0
            .store()
            .templates(&TemplateQuery {
                tag: present(filter.tag),
                category: present(filter.category),
                search: present(filter.search),
                after: present(filter.cursor),
                limit: limit + 1,
            })
            .await?;
        Ok(Page::of(found, limit, |t| t.name.clone()))
    }

    /// Every version of template `id`, oldest first, and its name.
    pub async fn versions(&self, id: &str) -> Result<(String, Vec<TemplateRecord>)> {
        let record = self.record(id, None).await?;
        let all = self.0.store().template_versions(&record.name).await?;
        Ok((record.name, all))
    }

    /// Deletes template `id`. Workflows made from it keep working; its versions stay
    /// readable by number.
    pub async fn delete(&self, id: &str) -> Result<()> {
        let record = self.record(id, None).await?;
        self.0.store().delete_template(&record.name).await?;
        Ok(())
    }

    /// The changes from version `from` (default: the one before `to`) to version `to`
    /// (default: the latest) of template `id`.
    pub async fn diff(&self, id: &str, from: Option<u32>, to: Option<u32>) -> Result<Diff> {
        let latest = self.record(id, None).await?;
        let (from, to) = crate::diff_versions("template", &latest.name, latest.version, from, to)?;
        let a = self.record(&latest.name, Some(from)).await?;
        let b = self.record(&latest.name, Some(to)).await?;
        Ok(Diff {
            changes: template::diff(&template_of(&a)?, &template_of(&b)?),
            name: latest.name,
            from,
            to,
        })
    }

    /// Makes a workflow from template `id`: checks the parameters (and, when asked to
    /// start it, the inputs: nothing is stored when either is refused), applies
    /// defaults, registers the workflow (announced), and starts it when asked.
    pub async fn instantiate(&self, id: &str, request: Instantiate) -> Result<Instantiated> {
        let record = self.record(id, request.version).await?;
        let t = template_of(&record)?;
        let instance = template::instantiate(
            &t,
            record.version,
            request.name.as_deref(),
            Value::Object(request.params),
        )
        .map_err(|e| match e {
            template::InstantiateError::Params(violations) => Error::InvalidParams {
                template: record.name.clone(),
                violations,
            },
            template::InstantiateError::Name(m) => Error::InvalidRequest(format!("`name`: {m}")),
            template::InstantiateError::Schema(m) => Error::Internal(m),
        })?;
        let name = instance.name().to_string();
        if let Some(existing) = self.0.plans().get(&name, None).await.ok()
            && existing
                .plan
                .workflow
                .template
                .as_ref()
                .map(|t| t.name.as_str())
                != Some(record.name.as_str())
        {
            return Err(Error::Conflict(format!(
                "workflow `{name}` exists and was not made from template `{}`; choose another `name`",
                record.name
            )));
        }
        let source = instance.source(Format::Yaml);
        let loaded = harmonia_model::load(&source, self.0.plans().types())
            .map_err(|e| Error::invalid(&name, &e))?;
        // Inputs to start it on are checked before the workflow is stored: a refused
        // instantiation changes nothing.
        if let Some(inputs) = &request.execute {
            loaded
                .plan
                .prepare_inputs(Value::Object(inputs.clone()))
                .map_err(Error::InvalidInputs)?;
        }
        let registered = self.workflows().save(&name, &source, loaded.plan).await?;
        let workflow = registered.workflow.record.clone();
        let execution = match request.execute {
            Some(inputs) => Some(
                self.executions()
                    .start_version(
                        registered.workflow,
                        Value::Object(inputs),
                        Origin::by(OriginKind::Template, record.name.clone()),
                    )
                    .await?,
            ),
            None => None,
        };
        Ok(Instantiated {
            outcome: registered.outcome,
            workflow,
            template: record,
            params: instance.params().clone(),
            execution,
        })
    }

    /// Every version of the templates named (of every template when `names` is
    /// empty), as one document.
    pub async fn export(&self, names: &[String]) -> Result<Document> {
        export(self.0.store().as_ref(), names).await
    }

    /// Imports an export document (or a single template): same name and content is
    /// unchanged; other content becomes new versions, or, with `OnConflict::Fail`, a
    /// storage conflict that writes nothing.
    pub async fn import(&self, source: &Source, on_conflict: OnConflict) -> Result<Imported> {
        let doc = Document::read(source, self.0.plans().types())
            .map_err(|e| Error::invalid(source.name(), &e))?;
        for v in doc.versions() {
            reserved(&v.template.name)?;
        }
        let puts: Vec<TemplatePut> =
            import(self.0.store().as_ref(), &doc, source.format(), on_conflict).await?;
        let mut result = Imported::default();
        for put in puts {
            match put.outcome {
                PutOutcome::Created => result.created.push(put.record),
                PutOutcome::Unchanged => result.unchanged.push(put.record),
            }
        }
        Ok(result)
    }

    /// Stores each built-in template the store has never had; returns their names.
    pub async fn seed_builtins(&self) -> Result<Vec<String>> {
        Ok(seed_builtins(self.0.store().as_ref(), self.0.plans().types()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_refused_with_the_reason() {
        for name in RESERVED {
            let e = reserved(name).expect_err("reserved");
            assert!(matches!(&e, Error::Reserved(n) if n == name), "{e}");
            assert!(e.to_string().contains("reserved"), "{e}");
        }
        assert!(reserved("exports").is_ok());
    }
}
