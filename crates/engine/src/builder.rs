//! One way to wire an engine: [`Engine::builder`], for `serve`, `run` and `bench` alike.
//!
//! An engine needs a store, its settings, the executors of its task types, the task
//! types the model validates definitions against, and the plans (validated workflow
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
//! Invariant: the executors and the task types come from one registration. The
//! built-ins are the model's `TaskTypes::builtin()` with `Executors::builtin` (from
//! `config.executors`: `shell` only when allowed); [`Builder::task`] adds a task type
//! and its executor together, so a type the model accepts is one the engine can run
//! (except a disabled `shell`, which the engine refuses with the reason when an
//! execution starts).

use std::sync::Arc;

use harmonia_model::{TaskType, TaskTypes};
use harmonia_storage::Store;
use tokio::task::JoinHandle;

use crate::config::EngineConfig;
use crate::error::{Error, Result};
use crate::executors::{Executor, Executors};
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
            tasks: Vec::new(),
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
    tasks: Vec<(TaskType, Arc<dyn Executor>)>,
    definitions: Option<Arc<dyn DefinitionSource>>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .field(
                "tasks",
                &self.tasks.iter().map(|(t, _)| t.name()).collect::<Vec<_>>(),
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

    /// Adds a task type and the executor that runs it (replacing a built-in of the same
    /// name). The executor's `kind` must be the type's name.
    #[must_use]
    pub fn task(mut self, task_type: TaskType, executor: Arc<dyn Executor>) -> Builder {
        self.tasks.push((task_type, executor));
        self
    }

    /// Where to find workflows the store does not hold (stored on first use).
    #[must_use]
    pub fn definitions(mut self, source: Arc<dyn DefinitionSource>) -> Builder {
        self.definitions = Some(source);
        self
    }

    /// The task types definitions are validated against: the built-ins and those added.
    pub fn task_types(&self) -> TaskTypes {
        let mut types = TaskTypes::builtin();
        for (t, _) in &self.tasks {
            types.register(t.clone());
        }
        types
    }

    fn executors(&self) -> Result<Executors> {
        let mut executors = Executors::builtin(&self.config.executors);
        for (t, e) in &self.tasks {
            if e.kind() != t.name() {
                return Err(Error::Unrunnable(format!(
                    "the executor registered for task type `{}` runs `{}`",
                    t.name(),
                    e.kind()
                )));
            }
            executors.register(e.clone());
        }
        Ok(executors)
    }

    /// Starts the engine: recovers the store's unfinished executions, then serves.
    pub async fn spawn(self) -> Result<Engine> {
        let executors = self.executors()?;
        let plans = Arc::new(Plans::new(
            self.store.clone(),
            self.task_types(),
            self.definitions,
        ));
        let (handle, join) = spawn(self.config, self.store, plans, executors).await?;
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
    use crate::executors::Call;

    struct Echo;

    #[async_trait]
    impl Executor for Echo {
        fn kind(&self) -> &'static str {
            "echo"
        }

        async fn execute(&self, call: Call) -> std::result::Result<Value, TaskError> {
            Ok(call.params)
        }
    }

    fn echo_type(name: &str) -> TaskType {
        TaskType::new(name, "Echoes.", json!({}), None).expect("schema")
    }

    #[tokio::test]
    async fn a_task_added_is_a_type_the_model_knows_and_the_engine_runs() {
        let builder =
            Engine::builder(Arc::new(MemoryStore::new())).task(echo_type("echo"), Arc::new(Echo));
        assert!(builder.task_types().get("echo").is_some());
        assert!(builder.task_types().get("http").is_some());
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
        engine.handle().shutdown();
        engine.stopped().await.expect("stops");
    }

    #[tokio::test]
    async fn an_executor_under_another_name_is_refused() {
        let refused = Engine::builder(Arc::new(MemoryStore::new()))
            .task(echo_type("other"), Arc::new(Echo))
            .spawn()
            .await;
        assert!(matches!(refused, Err(Error::Unrunnable(_))));
    }
}
