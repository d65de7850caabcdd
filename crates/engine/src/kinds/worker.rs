//! `worker`: an attempt done by an external worker, in any language, that polls a queue.
//!
//! Parameters:
//! - `queue` (required): the queue's name (letters, digits, `.`, `_`, `-`; at most 128);
//! - `input`: what the worker is given (any JSON; default `null`);
//! - `heartbeat_timeout`: how long a worker holding the attempt may go without a
//!   heartbeat before the attempt fails as `timeout` (default `30s`).
//!
//! The task's `timeout:` bounds the whole attempt, queue time included: at its end the
//! attempt fails as `timeout` whether or not a worker holds it. The retry policy then
//! decides, as for any attempt.
//!
//! The attempt waits durably (no thread, survives restarts) on the signal [`SIGNAL`]
//! keyed by its queue, so that the store lists what each queue holds
//! (`Timers::waiting("worker", Some(queue))`). Leases are the app's (its `workers`
//! module): it hands attempts to pollers and sends this kind one signal per attempt,
//! whose payload is `{attempt, lease, by, outcome}` with `outcome` one of
//! `{complete: {output}}`, `{fail: {class, message, retryable, details}}` or
//! `{expired: {after}}`. A signal for another attempt than the one waiting is refused,
//! so an answer for a lease that outlived its attempt changes nothing.
//!
//! Output: what the worker completed with. A failure's `class` is kept when it names a
//! class of the format (`timeout`, `connection`, `validation`, ...); any other is
//! `worker_error` with the worker's text in `details.class`. `retryable: false` makes the
//! error permanent: never retried.

use harmonia_model::{Dur, ErrorClass};
use harmonia_storage::Timestamp;
use serde_json::{Value, json};

use super::call::Call;
use super::kind::{Answer, Begin, Description, Refusal, Run, Signal, TaskKind, Waiter, Waiting};
use super::params::invalid;
use crate::event::TaskError;

/// The signal a worker's answer arrives as.
pub const SIGNAL: &str = "worker";

/// The heartbeat timeout when a task sets none.
pub const DEFAULT_HEARTBEAT: Dur = Dur(std::time::Duration::from_secs(30));

/// The longest error message kept from a worker, in bytes.
const MAX_MESSAGE: usize = 4096;

/// The `worker` kind.
#[derive(Debug, Clone, Copy)]
pub struct Worker {
    /// Whether workers can reach this engine (an API serves their polls).
    served: bool,
}

impl Worker {
    /// The kind, on an engine whose attempts workers can poll (`served`) or not.
    pub fn new(served: bool) -> Worker {
        Worker { served }
    }
}

impl TaskKind for Worker {
    fn name(&self) -> &'static str {
        "worker"
    }

    fn describe(&self) -> Description {
        Description {
            summary: "Puts the attempt on a queue for an external worker, which leases it, heart-beats and completes or fails it.",
            params: json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["queue"],
                "properties": {
                    "queue": {
                        "type": "string",
                        "pattern": "^[A-Za-z0-9._-]{1,128}$",
                        "description": "The queue workers poll."
                    },
                    "input": {"description": "What the worker is given."},
                    "heartbeat_timeout": {
                        "type": "string",
                        "description": "How long a worker may go without a heartbeat before the attempt fails as `timeout` (default 30s)."
                    }
                }
            }),
            output: json!({"description": "What the worker completed the attempt with."}),
            check: Some(check),
            deferred: Vec::new(),
        }
    }

    fn run(&self) -> Run<'_> {
        Run::Waiting(self)
    }

    fn unavailable(&self) -> Option<String> {
        (!self.served).then(|| {
            "worker tasks need `harmonia serve`: external workers poll its API for them".to_string()
        })
    }
}

impl Waiting for Worker {
    fn begin(&self, call: &Call) -> Result<Begin, TaskError> {
        let p = &call.params;
        let queue = p
            .get("queue")
            .and_then(Value::as_str)
            .filter(|q| valid_queue(q))
            .ok_or_else(|| invalid("`queue` must be 1 to 128 letters, digits, `.`, `_` or `-`"))?;
        let heartbeat = heartbeat(p).map_err(|m| invalid(format!("`heartbeat_timeout`: {m}")))?;
        let spec = json!({
            "queue": queue,
            "input": p.get("input").cloned().unwrap_or(Value::Null),
            "attempt": call.meta.attempt,
            "workflow": call.meta.workflow,
            "heartbeat_timeout_ms": u64::try_from(heartbeat.get().as_millis()).unwrap_or(u64::MAX),
            "timeout": call.timeout.map(|t| Dur::from(t).to_string()),
        });
        Ok(Begin::Signal {
            name: SIGNAL.into(),
            key: Some(queue.to_string()),
            spec,
            until: call.timeout.map(|t| Timestamp::now().plus(t)),
        })
    }

    fn signal(&self, w: &Waiter<'_>, signal: &Signal) -> Answer {
        if signal.name != SIGNAL {
            return Answer::Ignored;
        }
        let p = &signal.payload;
        let attempt = w.spec.get("attempt").and_then(Value::as_u64);
        if p.get("attempt").and_then(Value::as_u64) != attempt {
            return Answer::Refused(Refusal::new(
                "the lease's attempt has ended: another attempt of the task is waiting",
            ));
        }
        let outcome = p.get("outcome").unwrap_or(&Value::Null);
        if let Some(done) = outcome.get("complete") {
            return Answer::Done(Ok(done.get("output").cloned().unwrap_or(Value::Null)));
        }
        if let Some(fail) = outcome.get("fail") {
            return Answer::Done(Err(failure(fail, p.get("by"))));
        }
        if let Some(expired) = outcome.get("expired") {
            let after = expired.get("after").and_then(Value::as_str).unwrap_or("?");
            let by = p.get("by").and_then(Value::as_str).unwrap_or("?");
            return Answer::Done(Err(TaskError::new(
                ErrorClass::Timeout,
                format!(
                    "worker `{}` holding `{}` sent no heartbeat for {after}: its lease expired",
                    harmonia_expr::clip(by),
                    w.task
                ),
            )));
        }
        Answer::Refused(Refusal::new(
            "a worker's answer is `complete`, `fail` or `expired`",
        ))
    }

    fn expire(&self, w: &Waiter<'_>) -> Result<Value, TaskError> {
        let timeout = w.spec.get("timeout").and_then(Value::as_str).unwrap_or("?");
        let queue = w.spec.get("queue").and_then(Value::as_str).unwrap_or("?");
        Err(TaskError::new(
            ErrorClass::Timeout,
            format!(
                "`{}` was not done within its timeout of {timeout} (queue `{queue}`)",
                w.task
            ),
        ))
    }
}

/// Whether `name` can name a queue.
pub fn valid_queue(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `heartbeat_timeout`, or the default.
fn heartbeat(p: &Value) -> Result<Dur, String> {
    match p.get("heartbeat_timeout") {
        None | Some(Value::Null) => Ok(DEFAULT_HEARTBEAT),
        Some(Value::String(t)) => {
            let d = Dur::parse(t)?;
            if d.get() < std::time::Duration::from_millis(100) {
                return Err(format!("must be at least 100ms, found `{t}`"));
            }
            Ok(d)
        }
        Some(_) => Err("must be a duration such as `30s`".into()),
    }
}

/// The error of a worker's `fail`.
fn failure(fail: &Value, by: Option<&Value>) -> TaskError {
    let text = fail.get("class").and_then(Value::as_str).unwrap_or("");
    let mut message = fail
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the worker reported a failure")
        .to_string();
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    let class = ErrorClass::from_name(text).unwrap_or(ErrorClass::WorkerError);
    let mut details = serde_json::Map::new();
    if class == ErrorClass::WorkerError && !text.is_empty() {
        details.insert("class".into(), Value::String(text.to_string()));
    }
    if let Some(d) = fail.get("details").filter(|d| !d.is_null()) {
        details.insert("details".into(), d.clone());
    }
    if let Some(by) = by.filter(|b| !b.is_null()) {
        details.insert("worker".into(), by.clone());
    }
    let mut error = TaskError::new(class, message);
    if !details.is_empty() {
        error = error.with_details(Value::Object(details));
    }
    if fail.get("retryable").and_then(Value::as_bool) == Some(false) {
        error = error.permanent();
    }
    error
}

/// `heartbeat_timeout` must be a duration when it is not an expression.
fn check(params: &Value) -> Vec<harmonia_model::ParamProblem> {
    match params.get("heartbeat_timeout") {
        Some(Value::String(t)) if !harmonia_expr::Template::has_expressions(t) => {
            match heartbeat(params) {
                Ok(_) => Vec::new(),
                Err(message) => vec![harmonia_model::ParamProblem {
                    pointer: "/heartbeat_timeout".into(),
                    message,
                    span: None,
                }],
            }
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_are_bounded() {
        assert!(valid_queue("images.resize-v2_x"));
        assert!(!valid_queue(""));
        assert!(!valid_queue("a b"));
        assert!(!valid_queue(&"q".repeat(129)));
    }

    #[test]
    fn a_failure_keeps_a_known_class_and_wraps_another() {
        let e = failure(&json!({"class": "connection", "message": "down"}), None);
        assert_eq!(e.class, ErrorClass::Connection);
        assert!(!e.permanent);
        let e = failure(
            &json!({"class": "OutOfPaper", "message": "m", "retryable": false}),
            Some(&json!("w1")),
        );
        assert_eq!(e.class, ErrorClass::WorkerError);
        assert!(e.permanent);
        assert_eq!(
            e.details.as_deref(),
            Some(&json!({"class": "OutOfPaper", "worker": "w1"}))
        );
        let long = failure(&json!({"message": "é".repeat(5000)}), None);
        assert!(long.message.len() <= MAX_MESSAGE + '…'.len_utf8());
    }
}
