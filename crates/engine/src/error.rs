//! The engine's errors, as callers of [`crate::Handle`] see them.

use harmonia_model::InputViolation;
use harmonia_storage::ExecutionId;

/// What can go wrong asking the engine for something.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The inputs do not match the workflow's `inputs` schema; every violation is listed.
    #[error("invalid inputs: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidInputs(Vec<InputViolation>),
    /// The workflow cannot run here (a task type this engine cannot run, say).
    #[error("{0}")]
    Unrunnable(String),
    /// No workflow by that name (and version).
    #[error("no workflow `{name}`{}", .version.map(|v| format!(" version {v}")).unwrap_or_default())]
    UnknownWorkflow {
        /// The name asked for.
        name: String,
        /// The version asked for.
        version: Option<u32>,
    },
    /// A stored definition no longer validates (it was stored by another version of
    /// Harmonia, or edited in the database).
    #[error("the stored definition of `{name}` version {version} is invalid: {message}")]
    InvalidStoredDefinition {
        /// The workflow.
        name: String,
        /// The version.
        version: u32,
        /// The problems.
        message: String,
    },
    /// No execution with that id.
    #[error("no execution {0}")]
    UnknownExecution(ExecutionId),
    /// An operation named a task the workflow does not have (a retry's `from`).
    #[error("no task `{task}` in workflow `{workflow}` version {version}; its tasks: {}", .tasks.join(", "))]
    UnknownTask {
        /// The name given.
        task: String,
        /// The workflow.
        workflow: String,
        /// Its version.
        version: u32,
        /// The tasks it has, in definition order.
        tasks: Vec<String>,
    },
    /// The operation does not apply to the execution as it is.
    #[error("cannot {operation} execution {id}: it is {status}")]
    Conflict {
        /// The execution.
        id: ExecutionId,
        /// What was asked.
        operation: &'static str,
        /// Its status.
        status: String,
    },
    /// A signal for a task that does not wait for one.
    #[error("task `{task}` of execution {id} is not waiting for this: {why}")]
    NotWaiting {
        /// The execution.
        id: ExecutionId,
        /// The task.
        task: String,
        /// Why not.
        why: String,
    },
    /// A waiting task's kind refused a signal (bad inputs, the wrong person); nothing
    /// changed.
    #[error(transparent)]
    Refused(#[from] crate::kinds::Refusal),
    /// Another engine took the execution over (its writes here were refused); ask
    /// again: the other engine answers.
    #[error("execution {0} is run by another engine now")]
    Moved(ExecutionId),
    /// A fan-out item asked of a task without `for_each`, missing for one with it, or
    /// out of its range; the message says which items there are.
    #[error("{0}")]
    InvalidItem(String),
    /// A task asked about has not started (or never will): what it waits for, or why.
    #[error("{message}")]
    NotStarted {
        /// The task.
        task: String,
        /// The first task upstream of it without an outcome yet, if that is the reason.
        upstream: Option<String>,
        /// Why, for people.
        message: String,
    },
    /// Evaluating an expression failed (the message is the expression's error).
    #[error("{0}")]
    Evaluation(String),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] harmonia_storage::Error),
    /// The engine has stopped.
    #[error("the engine is not running")]
    Stopped,
}

/// The result of an engine operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
