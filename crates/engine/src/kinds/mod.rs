//! Task kinds: one module per kind, each behind [`TaskKind`].
//!
//! A kind's module holds everything about it: its parameter schema and extra check,
//! its output shape, and how it runs (inline, spawned or waiting; see [`TaskKind`] and [`Run`]).
//! [`Kinds`] is the registry an engine runs with, and the task types validation uses
//! are derived from it ([`Kinds::task_types`]): a kind is described once, where it is
//! implemented. Adding a kind is one new file, its `mod` line here and one line that
//! registers it (in [`Kinds::builtin`], or `Engine::builder(store).kind(...)` in the
//! program that builds the engine, for a kind the engine does not know); `docs/dev/task-kinds.md` walks through it.
//!
//! | kind | mode | what it does |
//! |---|---|---|
//! | `set` | inline | outputs its evaluated `with:` |
//! | `transform` | inline | a jq program over `input` |
//! | `http` | spawned | one HTTP request |
//! | `shell` | spawned | one process (only when enabled) |
//! | `sleep` | waiting | a durable timer |
//! | `workflow` | waiting | a child execution |
//! | `approval` | waiting | a person approves or rejects, with a form |
//! | `wait_event` | waiting | an event of a type, matching a filter |
//! | `worker` | waiting | an external worker leases it from a queue |
//! | `component` | spawned | a Tekton component's tool or action |
//! | `llm` | spawned | one question to a language model (only with a provider) |
//!
//! Invariant: a kind stops its work when its call's token is cancelled and returns
//! promptly; a waiting kind keeps nothing in memory that its recorded wait does not
//! hold (the wait outlives the process).

mod approval;
mod call;
pub mod component;
mod http;
mod kind;
mod llm;
mod params;
mod set;
mod shell;
mod sleep;
mod transform;
mod wait_event;
mod worker;
mod workflow;

use std::sync::Arc;

use harmonia_model::{SchemaError, TaskType, TaskTypes};
use indexmap::IndexMap;

pub use approval::{Approval, SIGNAL as APPROVAL_SIGNAL};
pub use call::{Call, CallMeta, TokenLedger};
pub use http::{Http, build_client as http_client};
pub use kind::{
    Actor, Answer, Begin, Description, Inline, Refusal, Run, Signal, Spawned, TaskKind, Waiter,
    Waiting,
};
pub use llm::{Llm, UNAVAILABLE as LLM_UNAVAILABLE};
pub use set::Set;
pub use shell::Shell;
pub use sleep::Sleep;
pub use transform::Transform;
pub use wait_event::{SIGNAL as EVENT_SIGNAL, WaitEvent};
pub use worker::{DEFAULT_HEARTBEAT, SIGNAL as WORKER_SIGNAL, Worker, valid_queue};
pub use workflow::SubWorkflow;

/// Settings of the built-in kinds.
#[derive(Clone)]
pub struct KindsConfig {
    /// Whether `shell` tasks may run.
    pub allow_shell: bool,
    /// The largest HTTP response body kept, in bytes.
    pub max_response_bytes: usize,
    /// The largest stdout or stderr kept from a process, in bytes.
    pub max_output_bytes: usize,
    /// Where `component` tasks find their components.
    pub components: Arc<dyn component::Directory>,
    /// Whether external workers can poll this engine's `worker` attempts (an API
    /// serves them); without, workflows with `worker` tasks are refused at start.
    pub serves_workers: bool,
    /// The model `llm` tasks ask; without one they are refused at start (see
    /// [`LLM_UNAVAILABLE`]).
    pub llm: Option<Arc<dyn harmonia_llm::Provider>>,
    /// The most LLM tokens one execution's `llm` attempts may spend: once its recorded
    /// attempts have used that many, a new one fails with `llm_budget`.
    pub llm_tokens_per_execution: Option<u64>,
}

impl std::fmt::Debug for KindsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KindsConfig")
            .field("allow_shell", &self.allow_shell)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_output_bytes", &self.max_output_bytes)
            .field("components", &self.components)
            .field("serves_workers", &self.serves_workers)
            .field(
                "llm",
                &self
                    .llm
                    .as_ref()
                    .map(|p| (p.name().to_owned(), p.model().to_owned())),
            )
            .field("llm_tokens_per_execution", &self.llm_tokens_per_execution)
            .finish()
    }
}

impl Default for KindsConfig {
    fn default() -> KindsConfig {
        KindsConfig {
            allow_shell: false,
            max_response_bytes: 16 * 1024 * 1024,
            max_output_bytes: 4 * 1024 * 1024,
            components: Arc::new(component::NoComponents),
            serves_workers: true,
            llm: None,
            llm_tokens_per_execution: None,
        }
    }
}

/// The kinds an engine runs, by name, and the task types derived from them.
///
/// Cloning is cheap (two reference counts): every clone of the engine's handle holds
/// one, and the task types' schemas are large.
#[derive(Clone, Default)]
pub struct Kinds {
    by_name: Arc<IndexMap<&'static str, Arc<dyn TaskKind>>>,
    types: Arc<TaskTypes>,
}

impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.by_name.keys().copied().collect();
        f.debug_struct("Kinds").field("names", &names).finish()
    }
}

impl Kinds {
    /// No kinds.
    pub fn empty() -> Kinds {
        Kinds::default()
    }

    /// The built-in kinds (see the module doc); `shell` is there but refuses to run
    /// unless `config.allow_shell`, and `llm` unless `config.llm` is set.
    pub fn builtin(config: &KindsConfig) -> Kinds {
        let mut k = Kinds::empty();
        let kinds: Vec<Arc<dyn TaskKind>> = vec![
            Arc::new(Set),
            Arc::new(Transform::default()),
            Arc::new(Http::new(config.max_response_bytes)),
            Arc::new(Shell::new(config.max_output_bytes, config.allow_shell)),
            Arc::new(Sleep),
            Arc::new(SubWorkflow),
            Arc::new(Approval),
            Arc::new(WaitEvent),
            Arc::new(Worker::new(config.serves_workers)),
            Arc::new(component::Component::new(
                config.components.clone(),
                config.max_response_bytes,
            )),
            Arc::new(Llm::new(
                config.llm.clone(),
                config.llm_tokens_per_execution,
            )),
            // A new kind: its line here, and its `mod` line above.
        ];
        for kind in kinds {
            // The built-in schemas are constants, checked by a test (`builtin_schemas_
            // compile`): compiled when a workflow first uses the kind.
            let d = kind.describe();
            let ty = TaskType::trusted(kind.name(), d.summary, d.params, d.check);
            k.add(kind, ty, d.output, d.deferred);
        }
        k
    }

    /// Adds (or replaces) a kind. Fails when its parameter schema is not a valid JSON
    /// Schema.
    pub fn register(&mut self, kind: Arc<dyn TaskKind>) -> Result<&mut Kinds, SchemaError> {
        let d = kind.describe();
        let ty = TaskType::new(kind.name(), d.summary, d.params, d.check)?;
        self.add(kind, ty, d.output, d.deferred);
        Ok(self)
    }

    fn add(
        &mut self,
        kind: Arc<dyn TaskKind>,
        ty: TaskType,
        output: serde_json::Value,
        deferred: Vec<(&'static str, harmonia_expr::VarSet)>,
    ) {
        let mut ty = ty.with_output(output);
        for (key, vars) in deferred {
            ty = ty.with_deferred(key, vars);
        }
        Arc::make_mut(&mut self.types).register(ty);
        Arc::make_mut(&mut self.by_name).insert(kind.name(), kind);
    }

    /// The kind named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn TaskKind>> {
        self.by_name.get(name)
    }

    /// Every kind, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn TaskKind>> {
        self.by_name.values()
    }

    /// The task types validation uses: one per kind, as the kind describes itself.
    pub fn task_types(&self) -> &TaskTypes {
        &self.types
    }
}

/// The task types of the built-in kinds: what a program that validates definitions
/// without running them (`harmonia validate`) checks against.
pub fn builtin_types() -> TaskTypes {
    Kinds::builtin(&KindsConfig::default()).task_types().clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_registers_with_a_documented_output() {
        let k = Kinds::builtin(&KindsConfig::default());
        let names: Vec<&str> = k.task_types().names().collect();
        assert_eq!(
            names,
            [
                "set",
                "transform",
                "http",
                "shell",
                "sleep",
                "workflow",
                "approval",
                "wait_event",
                "worker",
                "component",
                "llm"
            ]
        );
        for kind in k.iter() {
            let d = kind.describe();
            assert!(!d.summary.is_empty(), "{}", kind.name());
            assert!(d.output.is_object(), "{} documents its output", kind.name());
        }
    }

    /// The built-in kinds' types are compiled on first use (`TaskType::trusted`):
    /// this is the check that each schema compiles.
    #[test]
    fn builtin_schemas_compile() {
        let k = Kinds::builtin(&KindsConfig::default());
        for ty in k.task_types().iter() {
            assert!(
                ty.validator().is_ok(),
                "{}: {:?}",
                ty.name(),
                ty.validator().err()
            );
        }
    }

    #[test]
    fn shell_is_known_but_unavailable_unless_enabled() {
        let off = Kinds::builtin(&KindsConfig::default());
        assert!(off.get("shell").and_then(|s| s.unavailable()).is_some());
        let on = Kinds::builtin(&KindsConfig {
            allow_shell: true,
            ..KindsConfig::default()
        });
        assert!(on.get("shell").and_then(|s| s.unavailable()).is_none());
    }
}
