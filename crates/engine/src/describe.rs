//! One line, for people, per event: what `harmonia run` prints as it goes, what
//! `harmonia history` lists, and the `summary` of each WebSocket event message. One
//! function, so that the three say the same thing in the same words.
//!
//! Invariant: a line names tasks, attempts, classes and times; it quotes no output
//! (outputs may be large), and error messages only as recorded (already redacted).

use crate::event::{Event, SkipReason, TimerKey, Wait};

impl Event {
    /// What happened, in one line (`fetch[2]: attempt 1 failed: ... (http_5xx)`).
    pub fn describe(&self) -> String {
        match self {
            Event::ExecutionStarted {
                workflow, version, ..
            } => format!("started {workflow} version {version}"),
            Event::TaskStarted { task, items } => match items {
                Some(i) => format!("{task}: started ({} items)", i.len()),
                None => format!("{task}: started"),
            },
            Event::TaskSkipped { task, reason } => {
                let why = match reason {
                    SkipReason::Condition => "its condition is false",
                    SkipReason::UpstreamFailed => "a dependency failed",
                    SkipReason::UpstreamSkipped => "its dependencies were skipped",
                    SkipReason::OtherOutcome => "it handles another outcome",
                    SkipReason::NothingToUndo => "its task did not succeed: nothing to undo",
                    SkipReason::NotNeeded => "its task did not fail: no fallback needed",
                };
                format!("{task}: skipped because {why}")
            }
            Event::AttemptStarted {
                task,
                item,
                attempt,
                recovered,
            } => format!(
                "{}: attempt {attempt} started{}",
                unit(task, *item),
                if *recovered {
                    " again after a restart"
                } else {
                    ""
                }
            ),
            Event::AttemptWaiting {
                task,
                item,
                attempt,
                wait,
            } => format!(
                "{}: attempt {attempt} waits for {}",
                unit(task, *item),
                waiting(wait)
            ),
            Event::SignalReceived {
                task,
                item,
                attempt,
                name,
                by,
            } => format!(
                "{}: attempt {attempt} received {}{}",
                unit(task, *item),
                article(name),
                by.as_ref()
                    .map(|b| format!(" from {b}"))
                    .unwrap_or_default()
            ),
            Event::AttemptSucceeded {
                task,
                item,
                attempt,
                ..
            } => format!("{}: attempt {attempt} succeeded", unit(task, *item)),
            Event::AttemptFailed {
                task,
                item,
                attempt,
                error,
                ..
            } => format!("{}: attempt {attempt} failed: {error}", unit(task, *item)),
            Event::RetryScheduled {
                task,
                item,
                attempt,
                due,
            } => format!(
                "{}: will retry (attempt {attempt}) at {due}",
                unit(task, *item)
            ),
            Event::TimerFired { key } => match key {
                TimerKey::Retry { task, item, .. } => format!("{}: retrying", unit(task, *item)),
                TimerKey::Sleep { task, item, .. } => format!("{}: slept", unit(task, *item)),
                TimerKey::Wait { task, item, .. } => {
                    format!("{}: the wait reached its timeout", unit(task, *item))
                }
                TimerKey::Timeout => "the workflow's timeout passed".into(),
            },
            Event::TaskSucceeded { task } => format!("{task}: succeeded"),
            Event::TaskFailed { task, error } => format!("{task}: failed: {}", error.message),
            Event::TaskCancelled { task } => format!("{task}: cancelled"),
            Event::CancelRequested { reason } => match reason {
                Some(r) => format!("cancelling: {r}"),
                None => "cancelling".into(),
            },
            Event::Paused => "paused".into(),
            Event::Resumed => "resumed".into(),
            Event::Stopping { reason } => format!(
                "stopping: {}",
                serde_json::to_string(reason).unwrap_or_default()
            ),
            Event::TaskHeld { task, error } => {
                format!(
                    "{task}: held for a decision (retry, skip or fail): {}",
                    error.message
                )
            }
            Event::TaskDecided { task, decision } => {
                format!("{task}: {} (decided)", decision.name())
            }
            Event::TaskRecovered { task, .. } => {
                format!("{task}: recovered: its fallback's output stands in")
            }
            Event::Ending { outcome } => {
                format!("ending ({}): running its handlers", outcome.describe())
            }
            Event::ExecutionSucceeded { .. } => "succeeded".into(),
            Event::ExecutionFailed { error } => format!("failed: {error}"),
            Event::ExecutionCancelled => "cancelled".into(),
        }
    }
}

/// `task` or `task[item]`.
fn unit(task: &str, item: Option<u32>) -> String {
    match item {
        Some(i) => format!("{task}[{i}]"),
        None => task.to_string(),
    }
}

/// `an approval`, `an event`, `a worker`.
fn article(name: &str) -> String {
    let vowel = name.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {name}", if vowel { "an" } else { "a" })
}

fn waiting(wait: &Wait) -> String {
    match wait {
        Wait::Timer { due } => format!("its timer, due {due}"),
        Wait::Child { execution } => format!("sub-workflow {execution}"),
        Wait::Signal {
            name, key, until, ..
        } => {
            let what = match key {
                Some(k) if name == crate::kinds::WORKER_SIGNAL => {
                    format!("a worker on queue `{k}`")
                }
                Some(k) => format!("{} `{k}`", article(name)),
                None => article(name),
            };
            match until {
                Some(u) => format!("{what} until {u}"),
                None => what,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use harmonia_model::ErrorClass;
    use serde_json::json;

    use super::*;
    use crate::event::TaskError;

    #[test]
    fn lines_name_the_unit_the_attempt_and_the_cause() {
        let failed = Event::AttemptFailed {
            task: "fetch".into(),
            item: Some(2),
            attempt: 1,
            error: TaskError::new(ErrorClass::Http5xx, "GET http://x: 503"),
            usage: None,
        };
        assert_eq!(
            failed.describe(),
            "fetch[2]: attempt 1 failed: GET http://x: 503 (http_5xx)"
        );
        let waits = Event::AttemptWaiting {
            task: "settle".into(),
            item: None,
            attempt: 1,
            wait: Box::new(Wait::Signal {
                name: "event".into(),
                key: Some("paid".into()),
                spec: json!(null),
                until: None,
            }),
        };
        assert_eq!(
            waits.describe(),
            "settle: attempt 1 waits for an event `paid`"
        );
        let answered = Event::SignalReceived {
            task: "go".into(),
            item: None,
            attempt: 1,
            name: "approval".into(),
            by: Some("ada".into()),
        };
        assert_eq!(
            answered.describe(),
            "go: attempt 1 received an approval from ada"
        );
    }
}
