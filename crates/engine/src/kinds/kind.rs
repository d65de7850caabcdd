//! The task-kind trait: what a kind says about itself, and the three ways it runs.
//!
//! A kind is one value implementing [`TaskKind`]: its name, its [`Description`] (the
//! parameter schema, the extra check, the output shape, the parameters it evaluates
//! later), and [`TaskKind::run`], which hands the scheduler one of three modes:
//!
//! - [`Inline`]: pure and quick (`set`, `transform`): it runs inside the scheduler's
//!   turn, its result in the same commit as its cause; off the turn on the blocking pool
//!   when it is too slow for it. Never given secrets.
//! - [`Spawned`]: an effect outside (`http`, `shell`): a tokio task per attempt, started
//!   only once its `AttemptStarted` is committed, bounded by `max_concurrency`, under
//!   the attempt's timeout and cancellation token. The only mode given secrets.
//! - [`Waiting`]: it waits on something outside (a timer, a signal, a child execution):
//!   [`Waiting::begin`] says on what, the wait is recorded in the log (it costs no
//!   thread and survives restarts), and [`Waiting::signal`] or [`Waiting::expire`]
//!   decide how it ends.
//!
//! Invariants: a kind is stateless across attempts except for caches (the engine may
//! call it from any thread, for any execution); it never panics on bad parameters (the
//! schema was checked at validation, but values computed at run time were not: check
//! again and answer a `validation` error naming the parameter).

use async_trait::async_trait;
use harmonia_expr::{Context, Limits, ValueTemplate, VarSet};
use harmonia_model::ParamCheck;
use harmonia_storage::Timestamp;
use serde_json::Value;

use super::call::Call;
use crate::event::TaskError;

/// A task kind: `type: <name>` in a definition.
pub trait TaskKind: Send + Sync + 'static {
    /// The name used in `type:`.
    fn name(&self) -> &'static str;

    /// What it takes and what it gives, for validation, the schema and the docs.
    fn describe(&self) -> Description;

    /// How its attempts run.
    fn run(&self) -> Run<'_>;

    /// Why its tasks cannot run on this engine, when they cannot (`shell` when it is
    /// not enabled): workflows using it are refused at start, with this hint.
    fn unavailable(&self) -> Option<String> {
        None
    }
}

/// What a kind says about itself.
#[derive(Debug, Clone)]
pub struct Description {
    /// One sentence on what it does.
    pub summary: &'static str,
    /// The JSON Schema of `with:`.
    pub params: Value,
    /// The JSON Schema of its output, with descriptions (documentation).
    pub output: Value,
    /// A check of `with:` beyond the schema (an expression that must compile).
    pub check: Option<ParamCheck>,
    /// Keys of `with:` it evaluates later than the others, when it asks, with the
    /// variables they may read besides the usual ones (`filter` with `$event`).
    pub deferred: Vec<(&'static str, VarSet)>,
}

/// How a kind's attempts run (see the module doc).
pub enum Run<'a> {
    /// Pure and quick: in the scheduler's turn.
    Inline(&'a dyn Inline),
    /// An effect outside: a task per attempt.
    Spawned(&'a dyn Spawned),
    /// A durable wait.
    Waiting(&'a dyn Waiting),
}

/// A kind that runs in the scheduler's turn.
pub trait Inline: Send + Sync {
    /// Runs the attempt. It must be pure (no effect outside) and bounded by
    /// `call.limits`.
    fn run(&self, call: &Call) -> Result<Value, TaskError>;
}

/// A kind whose attempts are tasks of their own.
#[async_trait]
pub trait Spawned: Send + Sync {
    /// Runs the attempt. It stops its work promptly when `call.cancel` is cancelled.
    async fn execute(&self, call: Call) -> Result<Value, TaskError>;
}

/// A kind whose attempts wait, durably, on something outside.
pub trait Waiting: Send + Sync {
    /// What the attempt waits on, from its parameters. An error fails the attempt.
    fn begin(&self, call: &Call) -> Result<Begin, TaskError>;

    /// What a signal means for a waiting attempt: its result, not for this wait (it
    /// goes on waiting), or refused (nothing changes, the sender is told why).
    fn signal(&self, _waiter: &Waiter<'_>, _signal: &Signal) -> Answer {
        Answer::Refused(Refusal::new("this task takes no signals"))
    }

    /// The result when the wait's `until` passes without a signal.
    fn expire(&self, _waiter: &Waiter<'_>) -> Result<Value, TaskError> {
        Err(TaskError::new(
            harmonia_model::ErrorClass::WaitTimeout,
            "the wait ended at its timeout without an answer",
        ))
    }
}

/// What a waiting attempt waits on.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// Nothing but time: the attempt succeeds, with a `null` output, at `until`.
    Sleep {
        /// When it ends.
        until: Timestamp,
    },
    /// A signal named `name` (`approval`, `event`).
    Signal {
        /// Which signals it takes.
        name: String,
        /// For routing signals that are not sent to a task by name: only those with
        /// this key reach it (an event's `type`).
        key: Option<String>,
        /// What the kind needs to judge a signal later (a form, who may answer). It is
        /// stored in the log: no secrets.
        spec: Value,
        /// When the wait ends without a signal ([`Waiting::expire`] decides how).
        until: Option<Timestamp>,
    },
    /// Another workflow, run as a child execution; its outputs are the result.
    Child {
        /// Its name.
        workflow: String,
        /// A version, or the latest.
        version: Option<u32>,
        /// Its inputs.
        inputs: Value,
    },
}

/// A waiting attempt, as [`Waiting::signal`] and [`Waiting::expire`] see it.
pub struct Waiter<'a> {
    /// The task's name.
    pub task: &'a str,
    /// What [`Begin::Signal`] recorded.
    pub spec: &'a Value,
    /// The task's variables (`$inputs`, `$tasks`, `$item`, ...), to evaluate its
    /// deferred parameters with.
    pub ctx: &'a Context,
    /// Its deferred parameters, compiled (see [`Description::deferred`]).
    pub deferred: &'a [(String, ValueTemplate)],
    /// Bounds on evaluating them.
    pub limits: &'a Limits,
    /// Now.
    pub now: Timestamp,
}

impl Waiter<'_> {
    /// The deferred parameter `key`, compiled.
    pub fn deferred(&self, key: &str) -> Option<&ValueTemplate> {
        self.deferred.iter().find(|(k, _)| k == key).map(|(_, t)| t)
    }
}

/// What a signal means for a waiting attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The attempt's raw result (the task's `output:` then applies).
    Done(Result<Value, TaskError>),
    /// Not for this wait: it goes on waiting.
    Ignored,
    /// Refused: nothing changes, and the sender is told why.
    Refused(Refusal),
}

/// A signal for a waiting attempt: an approval, an event, a worker's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// What kind of signal (`approval`, `event`): a wait takes only its own.
    pub name: String,
    /// What it says.
    pub payload: Value,
    /// Who sent it, when known.
    pub by: Option<Actor>,
}

/// Who sent a signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A name (a token's name; `anonymous` when auth is off).
    pub name: String,
    /// Their role (`viewer`, `operator`, `admin`), when auth is on.
    pub role: Option<String>,
}

/// Why a signal is refused (bad input, the wrong person): nothing changes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// What is wrong.
    pub message: String,
    /// Structured detail (every violation of a form, say), or `null`.
    pub details: Value,
    /// Whether it is about who sent it rather than what they sent.
    pub forbidden: bool,
}

impl Refusal {
    /// A refusal of what was sent, saying `message`.
    pub fn new(message: impl Into<String>) -> Refusal {
        Refusal {
            message: message.into(),
            details: Value::Null,
            forbidden: false,
        }
    }

    /// A refusal of who sent it, saying `message`.
    pub fn forbidden(message: impl Into<String>) -> Refusal {
        Refusal {
            forbidden: true,
            ..Refusal::new(message)
        }
    }

    /// This refusal with `details`.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Refusal {
        self.details = details;
        self
    }
}
