//! The events of an execution's log: every fact the engine records.
//!
//! The log is the checkpoint and the audit trail. Two kinds of facts live in it:
//! - facts from outside the state machine: the execution started, an attempt started,
//!   succeeded or failed, a timer fired, a user cancelled, paused or resumed;
//! - decisions the state machine made from those facts: a task started, was skipped or
//!   cancelled, a retry was scheduled (with its due time, which includes random jitter),
//!   the execution is stopping, it ended.
//!
//! Replaying the log applies both kinds in order and never re-decides, so a replay
//! reproduces the state exactly, even though decisions involve expressions and
//! randomness. Events name tasks by name (stable within a pinned workflow version).

use harmonia_model::ErrorClass;
use harmonia_storage::{ExecutionId, Origin, ParentLink, Timestamp, WorkflowId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a task did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Its own `if` was false.
    Condition,
    /// A dependency failed, so its `join` cannot be met. (Logs written before the two
    /// upstream reasons were told apart say `upstream`.)
    #[serde(alias = "upstream")]
    UpstreamFailed,
    /// Dependencies were skipped, so its `join` cannot be met.
    UpstreamSkipped,
    /// A handler of another outcome (an `on_success` task of a failed execution).
    OtherOutcome,
    /// A compensation whose task did not succeed: there is nothing to undo.
    NothingToUndo,
    /// A fallback whose task did not fail: nothing to stand in for.
    NotNeeded,
}

impl SkipReason {
    /// The spelling in APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Condition => "condition",
            SkipReason::UpstreamFailed => "upstream_failed",
            SkipReason::UpstreamSkipped => "upstream_skipped",
            SkipReason::OtherOutcome => "other_outcome",
            SkipReason::NothingToUndo => "nothing_to_undo",
            SkipReason::NotNeeded => "not_needed",
        }
    }
}

/// Why an execution stops before all its tasks have run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// A task failed under `on_error: fail`; running tasks may finish.
    TaskFailed {
        /// The task.
        task: String,
    },
    /// The workflow's `timeout` passed; running tasks are stopped.
    Timeout,
    /// A user cancelled it; running tasks are stopped.
    Cancelled {
        /// What the user said, if anything.
        #[serde(default, rename = "message", skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// An error of a task attempt (or of a task, or of an execution).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskError {
    /// Its class, which decides whether it is retried.
    pub class: ErrorClass,
    /// What happened, for people.
    pub message: String,
    /// The HTTP status, for `http_*` classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// A delay the other side asked for before trying again (HTTP `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// The task it happened in (set on execution errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The fan-out item it happened in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    /// More detail (a response body excerpt, stderr, ...). Boxed: most errors have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Box<Value>>,
    /// The other side said trying again cannot help (a worker's `retryable: false`):
    /// never retried, whatever the retry policy says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub permanent: bool,
}

impl TaskError {
    /// An error of `class` saying `message`.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> TaskError {
        TaskError {
            class,
            message: message.into(),
            status: None,
            retry_after_ms: None,
            task: None,
            item: None,
            details: None,
            permanent: false,
        }
    }

    /// This error, never retried (see [`TaskError::permanent`]).
    #[must_use]
    pub fn permanent(mut self) -> TaskError {
        self.permanent = true;
        self
    }

    /// This error with an HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> TaskError {
        self.status = Some(status);
        self
    }

    /// This error with details.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> TaskError {
        self.details = Some(Box::new(details));
        self
    }

    /// The error as JSON, as expressions see it in `$tasks.<name>.error`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.class)
    }
}

/// LLM tokens an attempt spent (recorded with its result; zero for an answer from
/// the response cache).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens of the prompt.
    pub prompt_tokens: u64,
    /// Tokens of the answer.
    pub completion_tokens: u64,
}

impl TokenUsage {
    /// Prompt and answer tokens together.
    pub fn total(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

/// A task of a retried execution whose output is reused instead of running it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reused {
    /// The task.
    pub task: String,
    /// Its output in the retried execution.
    pub output: Value,
}

/// What an attempt waits on, outside the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Wait {
    /// A durable timer (the `sleep` task type).
    Timer {
        /// When it fires.
        due: Timestamp,
    },
    /// A child execution (the `workflow` task type).
    Child {
        /// The child.
        execution: ExecutionId,
    },
    /// A named signal: an event or an approval delivered through the API
    /// (`Handle::signal`). Its task's kind reads the signal against `spec` and decides
    /// the attempt's result; at `until`, if the wait has one, the kind decides what
    /// the wait's end without a signal means.
    Signal {
        /// The signal's name.
        name: String,
        /// For signals routed by key rather than sent to a task (an event's type).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// What the kind needs to judge a signal (a form, who may answer, ...).
        #[serde(default, skip_serializing_if = "Value::is_null")]
        spec: Value,
        /// When the wait ends without a signal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Timestamp>,
    },
}

/// A durable timer of an execution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "timer", rename_all = "snake_case")]
pub enum TimerKey {
    /// The next attempt of a task (or item) after a failure.
    Retry {
        /// The task.
        task: String,
        /// The item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<u32>,
        /// The attempt it starts.
        attempt: u32,
    },
    /// The end of a `sleep`.
    Sleep {
        /// The task.
        task: String,
        /// The item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<u32>,
        /// The attempt that sleeps.
        attempt: u32,
    },
    /// The end of a wait for a signal without one (see `Wait::Signal`).
    Wait {
        /// The task.
        task: String,
        /// The item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<u32>,
        /// The attempt that waits.
        attempt: u32,
    },
    /// The workflow's `timeout`.
    Timeout,
}

/// What a person decides for a held task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Decision {
    /// Run it again (its failed attempts, or items, again).
    Retry,
    /// Take this output as its result: it succeeds, and its dependents run.
    Skip {
        /// The output that stands in.
        output: Value,
    },
    /// Let it fail: the execution fails as under `on_error: fail`.
    Fail,
}

impl Decision {
    /// Its name, as the API spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Decision::Retry => "retry",
            Decision::Skip { .. } => "skip",
            Decision::Fail => "fail",
        }
    }
}

/// One fact of an execution's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The execution was created, with its inputs already validated.
    ExecutionStarted {
        /// The workflow's id.
        workflow_id: WorkflowId,
        /// The workflow's name.
        workflow: String,
        /// The pinned version.
        version: u32,
        /// The inputs, defaults applied (shared with the execution's state: they may be
        /// large, and are kept once).
        inputs: std::sync::Arc<Value>,
        /// Template parameters (`$params`).
        #[serde(default, skip_serializing_if = "Value::is_null")]
        params: Value,
        /// The task that started it, for a sub-workflow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent: Option<ParentLink>,
        /// The execution it retries.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_of: Option<ExecutionId>,
        /// What started it (`None` in logs written before origins were recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<Origin>,
        /// Tasks whose outputs come from the retried execution: they count as succeeded
        /// from the start and do not run.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reused: Vec<Reused>,
    },
    /// Decision: a task's dependencies allow it and its condition holds; it starts.
    TaskStarted {
        /// The task.
        task: String,
        /// The fan-out items, for a task with `for_each`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        items: Option<Vec<Value>>,
    },
    /// Decision: a task will not run.
    TaskSkipped {
        /// The task.
        task: String,
        /// Why.
        reason: SkipReason,
    },
    /// An attempt of a task (or item) started running.
    AttemptStarted {
        /// The task.
        task: String,
        /// The item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<u32>,
        /// The attempt, from 1.
        attempt: u32,
        /// Whether it re-runs an attempt that was in flight when the engine stopped.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        recovered: bool,
    },
    /// An attempt waits on something outside (a timer, a child, a signal, a worker).
    AttemptWaiting {
        /// The task.
        task: String,
        /// The item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<u32>,
        /// The attempt.
        attempt: u32,
        /// On what.
        wait: Box<Wait>,
    },
    /// A waiting attempt took a signal (an approval, an event): the attempt's result
    /// follows in the same commit. Recorded for the history (who answered); it ends the
    /// wait, so that its timeout can no longer end it.
    SignalReceived {
        /// The task.
        task: String,
        /// The item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<u32>,
        /// The attempt.
        attempt: u32,
        /// The signal's name (`approval`, `event`).
        name: String,
        /// Who sent it, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// An attempt succeeded; `output` is already reshaped by the task's `output:`.
    AttemptSucceeded {
        /// The task.
        task: String,
        /// The item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<u32>,
        /// The attempt.
        attempt: u32,
        /// The output.
        output: Value,
        /// The LLM tokens the attempt spent (an `llm` task), for budgets and reports.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<TokenUsage>,
    },
    /// An attempt failed.
    AttemptFailed {
        /// The task.
        task: String,
        /// The item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<u32>,
        /// The attempt.
        attempt: u32,
        /// Why.
        error: TaskError,
        /// The LLM tokens the attempt spent (an `llm` task), for budgets and reports.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<TokenUsage>,
    },
    /// Decision: the failed attempt is retried at `due`.
    RetryScheduled {
        /// The task.
        task: String,
        /// The item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<u32>,
        /// The attempt that will run.
        attempt: u32,
        /// When.
        due: Timestamp,
    },
    /// A durable timer fired.
    TimerFired {
        /// Which.
        #[serde(flatten)]
        key: TimerKey,
    },
    /// Decision: every unit of the task succeeded.
    TaskSucceeded {
        /// The task.
        task: String,
    },
    /// Decision: the task failed (for a fan-out: its first failed item, by index).
    TaskFailed {
        /// The task.
        task: String,
        /// Why.
        error: TaskError,
    },
    /// Decision: the task did not finish because the execution stopped.
    TaskCancelled {
        /// The task.
        task: String,
    },
    /// A user asked to cancel.
    CancelRequested {
        /// Why, if they said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A user paused the execution: no new attempt starts.
    Paused,
    /// A user resumed it.
    Resumed,
    /// Decision: the execution stops starting work (and, for a timeout or a cancel,
    /// stops running work).
    Stopping {
        /// Why.
        #[serde(flatten)]
        reason: StopReason,
    },
    /// Decision: every attempt of the task failed under `on_error: pause`: it is held
    /// and the execution pauses, until a person decides (`TaskDecided`).
    TaskHeld {
        /// The task.
        task: String,
        /// Why it failed.
        error: TaskError,
    },
    /// A person decided what becomes of a held task.
    TaskDecided {
        /// The task.
        task: String,
        /// What they decided.
        #[serde(flatten)]
        decision: Decision,
    },
    /// Decision: every attempt of the task failed and its fallback succeeded: the
    /// fallback's output stands in, and the task succeeds (recovered by its fallback).
    TaskRecovered {
        /// The task.
        task: String,
        /// The fallback's output.
        output: Value,
    },
    /// Decision: every task has ended with this outcome (`execution_succeeded`,
    /// `execution_failed` or `execution_cancelled`); the handlers (`on_failure`,
    /// `on_success`, `finally`) run now, and the outcome is recorded as it is once they
    /// have ended.
    Ending {
        /// The outcome.
        outcome: Box<Event>,
    },
    /// Decision: it succeeded with these outputs.
    ExecutionSucceeded {
        /// The evaluated `outputs`.
        outputs: Value,
    },
    /// Decision: it failed.
    ExecutionFailed {
        /// Why.
        error: TaskError,
    },
    /// Decision: it was cancelled.
    ExecutionCancelled,
}

impl Event {
    /// The event's kind, as stored (`attempt_succeeded`).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ExecutionStarted { .. } => "execution_started",
            Event::TaskStarted { .. } => "task_started",
            Event::TaskSkipped { .. } => "task_skipped",
            Event::AttemptStarted { .. } => "attempt_started",
            Event::AttemptWaiting { .. } => "attempt_waiting",
            Event::SignalReceived { .. } => "signal_received",
            Event::AttemptSucceeded { .. } => "attempt_succeeded",
            Event::AttemptFailed { .. } => "attempt_failed",
            Event::RetryScheduled { .. } => "retry_scheduled",
            Event::TimerFired { .. } => "timer_fired",
            Event::TaskSucceeded { .. } => "task_succeeded",
            Event::TaskFailed { .. } => "task_failed",
            Event::TaskCancelled { .. } => "task_cancelled",
            Event::CancelRequested { .. } => "cancel_requested",
            Event::Paused => "paused",
            Event::Resumed => "resumed",
            Event::Stopping { .. } => "stopping",
            Event::Ending { .. } => "ending",
            Event::TaskRecovered { .. } => "task_recovered",
            Event::TaskHeld { .. } => "task_held",
            Event::TaskDecided { .. } => "task_decided",
            Event::ExecutionSucceeded { .. } => "execution_succeeded",
            Event::ExecutionFailed { .. } => "execution_failed",
            Event::ExecutionCancelled => "execution_cancelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_serialize_with_their_kind() {
        let e = Event::AttemptFailed {
            task: "fetch".into(),
            item: Some(2),
            attempt: 1,
            error: TaskError::new(ErrorClass::Http5xx, "boom").with_status(503),
            usage: None,
        };
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["kind"], json!("attempt_failed"));
        assert_eq!(v["error"]["class"], json!("http_5xx"));
        assert_eq!(v["error"]["status"], json!(503));
        assert_eq!(serde_json::from_value::<Event>(v).ok(), Some(e.clone()));
        assert_eq!(e.kind(), "attempt_failed");
        let t = Event::TimerFired {
            key: TimerKey::Retry {
                task: "a".into(),
                item: None,
                attempt: 2,
            },
        };
        let v = serde_json::to_value(&t).expect("json");
        assert_eq!(
            v,
            json!({"kind": "timer_fired", "timer": "retry", "task": "a", "attempt": 2})
        );
        assert_eq!(serde_json::from_value::<Event>(v).ok(), Some(t));
        let s = Event::Stopping {
            reason: StopReason::TaskFailed { task: "a".into() },
        };
        let v = serde_json::to_value(&s).expect("json");
        assert_eq!(
            v,
            json!({"kind": "stopping", "reason": "task_failed", "task": "a"})
        );
        assert_eq!(serde_json::from_value::<Event>(v).ok(), Some(s));
    }
}
