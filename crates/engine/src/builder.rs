//! One way to wire an engine: [`Engine::builder`], for `serve`, `run` and `bench` alike.
//!
//! An engine needs a store, its settings, its task kinds (the task types definitions
//! are validated against are derived from them), and the plans (validated workflow
//! versions, with an optional place to find definitions the store lacks). The builder
//! takes them in that order and [`Builder::spawn`]s the engine:
//!
//! ```no_run
//! # async fn example(store: std::sync::Arc<dyn harmonia_storage::Store>) -> harmonia_engine::Result<()> {
//! use harmonia_engine::{Engine, EngineConfig};
//!
//! let engine = Engine::builder(store)
//!     .config(EngineConfig::default())
//!     .spawn()
//!     .await?;
//! let handle = engine.handle().clone();
//! # handle.shutdown();
//! # engine.stopped().await
//! # }
//! ```
//!
//! Invariant: what validates is what runs. The built-in kinds come from
//! `config.kinds` (`shell` runs only when allowed; otherwise it is refused, with the
//! reason, when an execution starts); [`Builder::kind`] adds a kind the engine does not
//! know, and its task type with it.

use std::sync::Arc;

use harmonia_model::TaskTypes;
use harmonia_storage::Store;
use tokio::task::JoinHandle;

use crate::config::EngineConfig;
use crate::error::{Error, Result};
use crate::kinds::{Kinds, TaskKind};
use crate::plans::{DefinitionSource, Plans};
use crate::scheduler::{Handle, spawn};

/// A running engine: its [`Handle`], and the task that runs it.
#[derive(Debug)]
pub struct Engine {
    handle: Handle,
    join: JoinHandle<Result<()>>,
}

impl Engine {
    /// Starts wiring an engine on `store`.
    pub fn builder(store: Arc<dyn Store>) -> Builder {
        Builder {
            store,
            config: EngineConfig::default(),
            kinds: Vec::new(),
            builtin: None,
            definitions: None,
        }
    }

    /// The handle through which everything else talks to the engine.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Waits until the engine has stopped (after [`Handle::shutdown`] or
    /// [`Handle::drain`], or a storage failure, which it returns).
    pub async fn stopped(self) -> Result<()> {
        self.join.await.map_err(|_| Error::Stopped)?
    }
}

/// The settings of an engine before it starts (see the module doc).
pub struct Builder {
    store: Arc<dyn Store>,
    config: EngineConfig,
    kinds: Vec<Arc<dyn TaskKind>>,
    builtin: Option<Kinds>,
    definitions: Option<Arc<dyn DefinitionSource>>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .field(
                "kinds",
                &self.kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The engine's settings (the built-in executors' among them).
    #[must_use]
    pub fn config(mut self, config: EngineConfig) -> Builder {
        self.config = config;
        self
    }

    /// Adds a task kind (replacing a built-in of the same name).
    #[must_use]
    pub fn kind(mut self, kind: Arc<dyn TaskKind>) -> Builder {
        self.kinds.push(kind);
        self
    }

    /// The built-in kinds, built already by [`Kinds::builtin`] from the `kinds`
    /// settings of the [`config`](Builder::config) given: a caller that validated a
    /// definition with their task types before the engine started hands them over
    /// rather than have them built twice (their schemas are a few percent of a
    /// one-task `harmonia run`).
    #[must_use]
    pub fn builtin(mut self, kinds: Kinds) -> Builder {
        self.builtin = Some(kinds);
        self
    }

    /// Where to find workflows the store does not hold (stored on first use).
    #[must_use]
    pub fn definitions(mut self, source: Arc<dyn DefinitionSource>) -> Builder {
        self.definitions = Some(source);
        self
    }

    /// The kinds the engine runs: the built-ins and those added. Fails when an added
    /// kind's parameter schema is not a valid JSON Schema.
    pub fn kinds(&self) -> Result<Kinds> {
        let mut kinds = self
            .builtin
            .clone()
            .unwrap_or_else(|| Kinds::builtin(&self.config.kinds));
        for kind in &self.kinds {
            kinds
                .register(kind.clone())
                .map_err(|e| Error::Unrunnable(e.to_string()))?;
        }
        Ok(kinds)
    }

    /// The task types definitions are validated against: one per kind.
    pub fn task_types(&self) -> Result<TaskTypes> {
        Ok(self.kinds()?.task_types().clone())
    }

    /// Starts the engine: recovers the store's unfinished executions, then serves.
    pub async fn spawn(self) -> Result<Engine> {
        let kinds = self.kinds()?;
        let plans = Arc::new(Plans::new(
            self.store.clone(),
            kinds.task_types().clone(),
            self.definitions,
        ));
        let (handle, join) = spawn(self.config, self.store, plans, kinds).await?;
        Ok(Engine { handle, join })
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use harmonia_storage::MemoryStore;
    use serde_json::{Value, json};

    use super::*;
    use crate::event::TaskError;
    use crate::kinds::{Call, Description, Run, Spawned};

    struct Echo(Value);

    impl TaskKind for Echo {
        fn name(&self) -> &'static str {
            "echo"
        }

        fn describe(&self) -> Description {
            Description {
                summary: "Echoes.",
                params: self.0.clone(),
                output: json!({}),
                check: None,
                deferred: Vec::new(),
            }
        }

        fn run(&self) -> Run<'_> {
            Run::Spawned(self)
        }
    }

    #[async_trait]
    impl Spawned for Echo {
        async fn execute(&self, call: Call) -> std::result::Result<Value, TaskError> {
            Ok(call.params)
        }
    }

    #[tokio::test]
    async fn a_kind_added_is_a_type_the_model_knows_and_the_engine_runs() {
        let builder = Engine::builder(Arc::new(MemoryStore::new())).kind(Arc::new(Echo(json!({}))));
        let types = builder.task_types().expect("valid kinds");
        assert!(types.get("echo").is_some());
        assert!(types.get("http").is_some());
        let engine = builder.spawn().await.expect("spawns");
        let workflow = engine
            .handle()
            .plans()
            .register(&harmonia_model::Source::new(
                "e.yaml",
                "name: e\ntasks:\n  a: {type: echo, with: {x: 1}}\n",
                harmonia_model::Format::Yaml,
            ))
            .await
            .expect("valid");
        engine.handle().check_runnable(&workflow).expect("runnable");
        let id = engine
            .handle()
            .start(crate::StartRequest::new(workflow, json!({})))
            .await
            .expect("starts");
        let ended =
            tokio::time::timeout(std::time::Duration::from_secs(30), engine.handle().wait(id))
                .await
                .expect("ends in time")
                .expect("ends");
        assert_eq!(
            ended.status,
            harmonia_storage::ExecutionStatus::Succeeded,
            "{ended:?}"
        );
        let tasks = engine.handle().store().task_runs(id).await.expect("tasks");
        assert_eq!(tasks[0].output, Some(json!({"x": 1})));
        engine.handle().shutdown();
        engine.stopped().await.expect("stops");
    }

    #[test]
    fn built_in_kinds_handed_over_are_used_as_they_are_and_added_kinds_join_them() {
        // Kinds built with `shell` allowed, handed to an engine whose settings say
        // otherwise: the engine runs what it was given (built once, by the caller).
        let given = Kinds::builtin(&crate::kinds::KindsConfig {
            allow_shell: true,
            ..crate::kinds::KindsConfig::default()
        });
        let builder = Engine::builder(Arc::new(MemoryStore::new()))
            .builtin(given.clone())
            .kind(Arc::new(Echo(json!({}))));
        let kinds = builder.kinds().expect("valid kinds");
        let names: Vec<&str> = kinds.task_types().names().collect();
        assert_eq!(names.len(), given.task_types().names().count() + 1);
        assert!(kinds.task_types().get("echo").is_some());
        // The shared kinds themselves are not changed by the added one.
        assert!(given.task_types().get("echo").is_none());
        let shell = |k: &Kinds| k.get("shell").map(|k| Arc::as_ptr(k).cast::<()>());
        assert_eq!(
            shell(&kinds),
            shell(&given),
            "the given `shell` kind, not a new one"
        );
    }

    #[tokio::test]
    async fn a_kind_with_an_invalid_schema_is_refused() {
        let refused = Engine::builder(Arc::new(MemoryStore::new()))
            .kind(Arc::new(Echo(json!({"type": 12}))))
            .spawn()
            .await;
        assert!(matches!(refused, Err(Error::Unrunnable(_))));
    }
}
