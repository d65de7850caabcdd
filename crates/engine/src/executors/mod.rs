//! Task executors: one file per task type, all behind [`Executor`].
//!
//! An executor receives a [`Call`]: the task's `with:` already evaluated (secrets
//! resolved), the attempt's time limit, a cancellation token and the expression context.
//! It returns the raw output or a classified [`TaskError`]; the runner then applies the
//! task's `output:` and records the result. Executors that are pure and take
//! microseconds (`set`, `transform`) also offer [`Executor::run_inline`], which the
//! scheduler calls in its own loop instead of spawning a task.
//!
//! `sleep` and `workflow` are not executors: they wait on a durable timer and on a child
//! execution, which the scheduler handles (see `scheduler`).
//!
//! Invariant: an executor stops its work when the token is cancelled (a process group is
//! killed, a request dropped) and returns promptly.

mod http;
mod params;
mod set;
mod shell;
mod transform;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harmonia_expr::{Context, Limits};
use harmonia_storage::ExecutionId;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use http::HttpExecutor;
pub use set::SetExecutor;
pub use shell::ShellExecutor;
pub use transform::TransformExecutor;

use crate::event::TaskError;

/// Which attempt a call is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallMeta {
    /// The execution.
    pub execution: ExecutionId,
    /// The task's name.
    pub task: String,
    /// The fan-out item.
    pub item: Option<u32>,
    /// The attempt, from 1.
    pub attempt: u32,
}

/// One attempt's call of an executor.
#[derive(Debug, Clone)]
pub struct Call {
    /// The evaluated `with:`.
    pub params: Value,
    /// The attempt's time limit (the runner enforces it too, by cancelling).
    pub timeout: Option<Duration>,
    /// Cancelled when the attempt must stop (its timeout, a cancel, a shutdown).
    pub cancel: CancellationToken,
    /// Which attempt this is.
    pub meta: CallMeta,
    /// The variables of the task's expressions, for executors that evaluate some.
    pub ctx: Context,
    /// Bounds on expression evaluation.
    pub limits: Limits,
    /// The texts of this call's parameters that come from secrets (the secret values,
    /// and what `with:` computed from them). The engine redacts them from the result;
    /// an executor must not send them anywhere the task did not ask it to (an `http`
    /// redirect to another origin drops the headers that carry them).
    pub secret_texts: Arc<[String]>,
}

#[cfg(test)]
impl Call {
    /// The first attempt of task `task` in a new execution, with no variables: what
    /// the executors' unit tests call them with.
    pub(crate) fn for_test(
        task: &str,
        params: Value,
        timeout: Option<Duration>,
        cancel: CancellationToken,
    ) -> Call {
        Call {
            params,
            timeout,
            cancel,
            meta: CallMeta {
                execution: ExecutionId::new(),
                task: task.into(),
                item: None,
                attempt: 1,
            },
            ctx: Context::new(),
            limits: Limits::default(),
            secret_texts: Arc::from(Vec::new()),
        }
    }
}

/// Runs attempts of one task type.
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    /// The task type it runs (`http`).
    fn kind(&self) -> &'static str;

    /// Runs the attempt.
    async fn execute(&self, call: Call) -> Result<Value, TaskError>;

    /// Whether the executor is pure: no effect outside, only expressions over its
    /// parameters. A pure executor implements [`Executor::run_inline`], and the
    /// scheduler runs it in its loop (or on the blocking pool when it is slow), never on
    /// a runtime thread.
    fn pure(&self) -> bool {
        false
    }

    /// For pure executors: runs the attempt synchronously. The scheduler then runs it
    /// inside its loop, in the same commit as its cause.
    fn run_inline(&self, _call: &Call) -> Option<Result<Value, TaskError>> {
        None
    }
}

/// The executors available to an engine, by task type.
#[derive(Clone, Default)]
pub struct Executors {
    by_kind: HashMap<&'static str, Arc<dyn Executor>>,
}

impl std::fmt::Debug for Executors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kinds: Vec<&str> = self.by_kind.keys().copied().collect();
        kinds.sort_unstable();
        f.debug_struct("Executors").field("kinds", &kinds).finish()
    }
}

/// Settings of the built-in executors.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Whether `shell` tasks may run.
    pub allow_shell: bool,
    /// The largest HTTP response body kept, in bytes.
    pub max_response_bytes: usize,
    /// The largest stdout or stderr kept from a process, in bytes.
    pub max_output_bytes: usize,
}

impl Default for ExecutorConfig {
    fn default() -> ExecutorConfig {
        ExecutorConfig {
            allow_shell: false,
            max_response_bytes: 16 * 1024 * 1024,
            max_output_bytes: 4 * 1024 * 1024,
        }
    }
}

impl Executors {
    /// No executors.
    pub fn empty() -> Executors {
        Executors::default()
    }

    /// The built-in executors: `set`, `transform`, `http`, and `shell` when allowed.
    pub fn builtin(config: &ExecutorConfig) -> Executors {
        let mut e = Executors::empty();
        e.register(Arc::new(SetExecutor));
        e.register(Arc::new(TransformExecutor::default()));
        e.register(Arc::new(HttpExecutor::new(config.max_response_bytes)));
        if config.allow_shell {
            e.register(Arc::new(ShellExecutor::new(config.max_output_bytes)));
        }
        e
    }

    /// Adds (or replaces) the executor of a task type.
    pub fn register(&mut self, executor: Arc<dyn Executor>) {
        self.by_kind.insert(executor.kind(), executor);
    }

    /// The executor of a task type.
    pub fn get(&self, kind: &str) -> Option<&Arc<dyn Executor>> {
        self.by_kind.get(kind)
    }
}
