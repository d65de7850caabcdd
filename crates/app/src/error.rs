//! The one error of the use cases: what went wrong, with what an adapter needs to say
//! it (the diagnostics, the violations, the executions in the way), and nothing of how
//! it is said. The server turns each variant into a code and a status in one table
//! (`harmonia_server::ApiError`'s `From`); the CLI into an exit code and a message.
//!
//! Messages are lowercase and name the thing (`no workflow `etl``); they never name a
//! route or a flag, which are the adapters' to add.

use harmonia_model::template::ParamViolation;
use harmonia_model::{Diagnostic, InputViolation, Severity};
use harmonia_storage::ExecutionId;

/// A kind of stored definition, in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A workflow.
    Workflow,
    /// A template.
    Template,
}

impl Kind {
    /// `workflow` or `template`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Workflow => "workflow",
            Kind::Template => "template",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}

/// What can go wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such workflow, template, execution, or version of one.
    #[error("{0}")]
    NotFound(String),
    /// Creating a workflow or template whose name is taken.
    #[error("{kind} `{name}` already exists")]
    Exists {
        /// What was created.
        kind: Kind,
        /// Its name.
        name: String,
    },
    /// Deleting a workflow that has unfinished executions, without saying that they
    /// may run on.
    #[error("workflow `{workflow}` has {} unfinished execution{}", .executions.len(), plural(.executions.len()))]
    Running {
        /// The workflow.
        workflow: String,
        /// Its unfinished executions.
        executions: Vec<ExecutionId>,
    },
    /// The operation does not apply to the resource as it is (pausing a paused
    /// execution, overwriting a workflow another template made, ...).
    #[error("{0}")]
    Conflict(String),
    /// The workflow cannot run here (a task type without an executor, a secret not
    /// set).
    #[error("{0}")]
    Unrunnable(String),
    /// A definition (workflow, template, export document) does not validate.
    #[error("{name}: invalid workflow definition ({} problem{})", errors(.diagnostics), plural(errors(.diagnostics)))]
    InvalidDefinition {
        /// The name of the text that was read.
        name: String,
        /// Every problem found (errors and warnings), in source order.
        diagnostics: Vec<Diagnostic>,
    },
    /// A valid definition that cannot be stored under its name (renamed on update, a
    /// reserved name).
    #[error("{0}")]
    InvalidName(String),
    /// A template named `export` or `import`, which the API's routes need
    /// (`templates::RESERVED`).
    #[error("`{0}` cannot name a template: the name is reserved; choose another name")]
    Reserved(String),
    /// Inputs that do not match the workflow's `inputs` schema.
    #[error("invalid inputs: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidInputs(Vec<InputViolation>),
    /// Parameter values that do not match the template's `parameters` schema.
    #[error("the parameters do not match template `{template}` ({} problem{})", .violations.len(), plural(.violations.len()))]
    InvalidParams {
        /// The template.
        template: String,
        /// Every violation.
        violations: Vec<ParamViolation>,
    },
    /// A malformed request: a page size out of range, a cursor that is not one, a
    /// workflow name that cannot be.
    #[error("{0}")]
    InvalidRequest(String),
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
    /// A signal for a task that does not wait for one (an approval of a task that
    /// has not begun waiting, or that ended).
    #[error("{0}")]
    NotWaiting(String),
    /// A task asked about has not started (its inputs do not exist yet), or never will.
    #[error("{message}")]
    NotStarted {
        /// Why, for people.
        message: String,
        /// The first task upstream of it without an outcome yet, if that is why.
        upstream: Option<String>,
    },
    /// Evaluating an expression failed; the message is the expression's error.
    #[error("{0}")]
    Evaluation(String),
    /// A waiting task refused what was sent (inputs that break its form); nothing
    /// changed. `details` says what is wrong, item by item.
    #[error("{message}")]
    Refused {
        /// What is wrong.
        message: String,
        /// Structured detail (`{"violations": [...]}`), or `null`.
        details: serde_json::Value,
    },
    /// The caller may not do this (an approval restricted to a higher role).
    #[error("{0}")]
    Forbidden(String),
    /// A webhook request whose signature does not verify (or is missing, or stale).
    #[error("{0}")]
    BadSignature(String),
    /// An event that is not a CloudEvent: every problem, by attribute.
    #[error("not a CloudEvent: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidEvent(Vec<crate::events::cloudevent::Problem>),
    /// An idempotency key used again, within its time, for another request.
    #[error(
        "the idempotency key `{0}` was used for another request; use a new key for a new request"
    )]
    KeyReused(String),
    /// The engine is stopping (or has stopped).
    #[error("the engine is stopping")]
    Unavailable,
    /// The request could not be done now, for a reason that passes (says which): the
    /// same request, sent again, may succeed.
    #[error("{0}")]
    Busy(String),
    /// An assist use case needs a language model and none is configured; says how to
    /// configure one.
    #[error("{0}")]
    NoModel(String),
    /// A service Harmonia called for the request (a component) failed or could not be
    /// reached.
    #[error("{0}")]
    Upstream(String),
    /// A worker's lease is no longer held: its answer changes nothing.
    #[error("{message}")]
    LeaseLost {
        /// Why: `expired`, `cancelled`, `completed`, `failed` or `unknown`.
        reason: &'static str,
        /// What happened, for people.
        message: String,
    },
    /// The store failed (a `Conflict` is a write that conflicts with what is stored).
    #[error(transparent)]
    Storage(#[from] harmonia_storage::Error),
    /// The engine failed otherwise (a stored definition that no longer validates).
    #[error(transparent)]
    Engine(harmonia_engine::Error),
    /// Something that should not happen: a stored record that does not read back, a
    /// template whose own schema does not compile.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The error for a definition that does not validate, read under `name`.
    pub fn invalid(name: impl Into<String>, e: &harmonia_model::Error) -> Error {
        Error::InvalidDefinition {
            name: name.into(),
            diagnostics: e.diagnostics().to_vec(),
        }
    }

    /// How many of an invalid definition's diagnostics are errors (0 for any other
    /// error).
    pub fn error_count(&self) -> usize {
        match self {
            Error::InvalidDefinition { diagnostics, .. } => errors(diagnostics),
            _ => 0,
        }
    }
}

impl From<harmonia_engine::Error> for Error {
    fn from(e: harmonia_engine::Error) -> Error {
        use harmonia_engine::Error as E;
        match e {
            E::InvalidInputs(v) => Error::InvalidInputs(v),
            E::Unrunnable(m) => Error::Unrunnable(m),
            e @ (E::UnknownWorkflow { .. } | E::UnknownExecution(_)) => {
                Error::NotFound(e.to_string())
            }
            E::UnknownTask {
                task,
                workflow,
                version,
                tasks,
            } => Error::UnknownTask {
                task,
                workflow,
                version,
                tasks,
            },
            e @ E::Conflict { .. } => Error::Conflict(e.to_string()),
            e @ E::NotWaiting { .. } => Error::NotWaiting(e.to_string()),
            E::InvalidItem(m) => Error::InvalidRequest(m),
            E::NotStarted {
                message, upstream, ..
            } => Error::NotStarted { message, upstream },
            E::Evaluation(m) => Error::Evaluation(m),
            E::Refused(r) if r.forbidden => Error::Forbidden(r.message),
            E::Refused(r) => Error::Refused {
                message: r.message,
                details: r.details,
            },
            E::Storage(s) => Error::Storage(s),
            E::Stopped => Error::Unavailable,
            E::Moved(id) => Error::Busy(format!(
                "execution {id} moved between nodes while the request was answered; send it again"
            )),
            other => Error::Engine(other),
        }
    }
}

/// The result of a use case.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_keep_what_callers_tell_apart() {
        let id = ExecutionId::new();
        assert!(matches!(
            Error::from(harmonia_engine::Error::UnknownExecution(id)),
            Error::NotFound(m) if m == format!("no execution {id}")
        ));
        assert!(matches!(
            Error::from(harmonia_engine::Error::Stopped),
            Error::Unavailable
        ));
        let conflict = Error::from(harmonia_engine::Error::Conflict {
            id,
            operation: "pause",
            status: "paused".into(),
        });
        assert!(matches!(conflict, Error::Conflict(_)), "{conflict:?}");
        // Regression: an execution that kept moving between nodes while a request was
        // answered was a 500; it is a passing condition, worth sending again.
        let moved = Error::from(harmonia_engine::Error::Moved(id));
        assert!(
            matches!(&moved, Error::Busy(m) if m.contains("send it again")),
            "{moved:?}"
        );
        let item = Error::from(harmonia_engine::Error::InvalidItem("`item` is 3".into()));
        assert!(matches!(item, Error::InvalidRequest(_)), "{item:?}");
        let waits = Error::from(harmonia_engine::Error::NotStarted {
            task: "b".into(),
            upstream: Some("a".into()),
            message: "task `b` has not started".into(),
        });
        assert!(
            matches!(&waits, Error::NotStarted { upstream: Some(u), .. } if u == "a"),
            "{waits:?}"
        );
    }

    #[test]
    fn messages_count_what_they_list() {
        let e = Error::Running {
            workflow: "etl".into(),
            executions: vec![ExecutionId::new()],
        };
        assert_eq!(e.to_string(), "workflow `etl` has 1 unfinished execution");
        let e = Error::Exists {
            kind: Kind::Template,
            name: "greet".into(),
        };
        assert_eq!(e.to_string(), "template `greet` already exists");
    }
}
