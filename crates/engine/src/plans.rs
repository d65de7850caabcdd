//! Workflow definitions as the engine needs them: validated plans, by name and version.
//!
//! Definitions live in the store, one row per version. [`Plans`] compiles a stored
//! version once and caches it; executions pin `(name, version)`, so a plan never
//! changes under a running execution, and recovery after a restart finds the same one.
//! A [`DefinitionSource`] can supply workflows the store does not have yet (`harmonia
//! run` looks for `NAME.yaml` beside the parent file); they are stored on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use harmonia_model::{Format, Plan, Source, TaskTypes};
use harmonia_storage::prelude::*;
use harmonia_storage::{NewWorkflowVersion, Store, Timestamp, WorkflowRecord};

use crate::error::{Error, Result};

/// Somewhere to find definitions the store does not hold.
#[async_trait]
pub trait DefinitionSource: Send + Sync + 'static {
    /// The source text of workflow `name`, if this place has it.
    async fn find(&self, name: &str) -> Option<Source>;
}

/// A compiled workflow version and its stored record.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// The plan.
    pub plan: Arc<Plan>,
    /// The stored version.
    pub record: WorkflowRecord,
}

/// Validated plans by `(name, version)`, compiled once.
pub struct Plans {
    store: Arc<dyn Store>,
    types: TaskTypes,
    fallback: Option<Arc<dyn DefinitionSource>>,
    cache: Mutex<HashMap<(String, u32), Workflow>>,
}

impl std::fmt::Debug for Plans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plans").finish_non_exhaustive()
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Yaml => "yaml",
        Format::Json => "json",
    }
}

impl Plans {
    /// Plans read from `store`, validated against `types`.
    pub fn new(
        store: Arc<dyn Store>,
        types: TaskTypes,
        fallback: Option<Arc<dyn DefinitionSource>>,
    ) -> Plans {
        Plans {
            store,
            types,
            fallback,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The task types definitions are validated against.
    pub fn types(&self) -> &TaskTypes {
        &self.types
    }

    /// Validates `source` and stores it as a new version of its workflow (or returns the
    /// latest version when the text is identical). Invalid definitions are refused with
    /// every problem.
    pub async fn register(&self, source: &Source) -> std::result::Result<Workflow, RegisterError> {
        let loaded = harmonia_model::load(source, &self.types).map_err(RegisterError::Invalid)?;
        self.register_plan(source, loaded.plan).await
    }

    /// [`Plans::register`] of a definition its caller has loaded already: `plan` must
    /// be `source` loaded with [`Plans::types`] (a caller that validated the text first
    /// does not read it twice).
    pub async fn register_plan(
        &self,
        source: &Source,
        plan: Plan,
    ) -> std::result::Result<Workflow, RegisterError> {
        let record = self
            .store
            .put_workflow(&NewWorkflowVersion {
                name: plan.workflow.name.clone(),
                description: plan.workflow.description.clone(),
                source: source.text().to_string(),
                format: format_name(source.format()).into(),
                created_at: Timestamp::now(),
            })
            .await
            .map_err(|e| RegisterError::Storage(e.into()))?;
        let workflow = Workflow {
            plan: Arc::new(plan),
            record,
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(
                (workflow.record.name.clone(), workflow.record.version),
                workflow.clone(),
            );
        }
        Ok(workflow)
    }

    /// Version `version` of workflow `name` (the latest when `None`).
    pub async fn get(&self, name: &str, version: Option<u32>) -> Result<Workflow> {
        if let Some(v) = version
            && let Ok(cache) = self.cache.lock()
            && let Some(w) = cache.get(&(name.to_string(), v))
        {
            return Ok(w.clone());
        }
        let record = match self.store.workflow(name, version).await? {
            Some(r) => r,
            None => {
                if version.is_none()
                    && let Some(fallback) = &self.fallback
                    && let Some(source) = fallback.find(name).await
                {
                    return self.register(&source).await.map_err(|e| match e {
                        RegisterError::Invalid(e) => Error::Unrunnable(format!(
                            "the definition of sub-workflow `{name}` in {} is invalid: {}",
                            source.name(),
                            e.diagnostics()
                                .iter()
                                .map(|d| d.render(source.name()))
                                .collect::<Vec<_>>()
                                .join("; ")
                        )),
                        RegisterError::Storage(e) => e,
                    });
                }
                return Err(Error::UnknownWorkflow {
                    name: name.to_string(),
                    version,
                });
            }
        };
        self.compile(record)
    }

    /// Compiles a stored version (and caches it).
    pub fn compile(&self, record: WorkflowRecord) -> Result<Workflow> {
        let key = (record.name.clone(), record.version);
        if let Ok(cache) = self.cache.lock()
            && let Some(w) = cache.get(&key)
        {
            return Ok(w.clone());
        }
        let format = if record.format == "json" {
            Format::Json
        } else {
            Format::Yaml
        };
        let source = Source::new(
            format!("{} v{}", record.name, record.version),
            record.source.clone(),
            format,
        );
        let loaded = harmonia_model::load(&source, &self.types).map_err(|e| {
            Error::InvalidStoredDefinition {
                name: record.name.clone(),
                version: record.version,
                message: e
                    .diagnostics()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })?;
        let workflow = Workflow {
            plan: Arc::new(loaded.plan),
            record,
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, workflow.clone());
        }
        Ok(workflow)
    }
}

/// Why a definition could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// It does not validate.
    #[error(transparent)]
    Invalid(harmonia_model::Error),
    /// The store failed.
    #[error(transparent)]
    Storage(Error),
}
