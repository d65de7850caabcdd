//! The validated, compiled form of a workflow: what the engine runs.
//!
//! A [`Plan`] exists only for a definition without errors. Every expression in it is
//! compiled, every reference resolved to an index, the tasks are in a topological order,
//! and each task's retry policy is resolved against the workflow's defaults. The engine
//! never parses or compiles anything at run time, and never meets a dangling name.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use harmonia_expr::{Template, ValueTemplate};
use serde_json::Value;

use crate::definition::{Backoff, ErrorClass, Join, OnError, RetryPolicy, Workflow};

/// A workflow ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The definition it was built from.
    pub workflow: Arc<Workflow>,
    /// The inputs' JSON Schema, compiled.
    pub inputs: Option<InputSchema>,
    /// The workflow's outputs, in order.
    pub outputs: Vec<(String, ValueTemplate)>,
    /// Time limit of the whole execution.
    pub timeout: Option<Duration>,
    /// The tasks, in definition order; a task's index is its id within the plan.
    pub tasks: Vec<PlanTask>,
    /// Task indices in a topological order (every task after the tasks it needs).
    pub order: Vec<usize>,
    /// The triggers, compiled, in definition order.
    pub triggers: Vec<PlanTrigger>,
    /// The concurrency policy, compiled.
    pub concurrency: Option<ConcurrencyPlan>,
    /// Task indices by name (events name tasks: a plan of 20,000 tasks looks one up for
    /// every event), hashed with foldhash as [`crate::Locations`] are.
    pub(crate) by_name: HashMap<String, usize, foldhash::fast::RandomState>,
}

impl Plan {
    /// The index of the task named `name`.
    pub fn task_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Indexes the tasks by name (for [`Plan::task_index`]).
    pub(crate) fn index_names(
        tasks: &[PlanTask],
    ) -> HashMap<String, usize, foldhash::fast::RandomState> {
        tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect()
    }
}

/// The compiled JSON Schema of a workflow's inputs.
#[derive(Debug, Clone)]
pub struct InputSchema {
    /// The schema as written.
    pub schema: Value,
    /// The compiled validator.
    pub validator: Arc<jsonschema::Validator>,
}

/// A task ready to run.
#[derive(Debug, Clone)]
pub struct PlanTask {
    /// Its name.
    pub name: String,
    /// When it runs: with the workflow's tasks, or as a handler after they ended.
    pub phase: Phase,
    /// For a compensation: the task it undoes.
    pub compensates: Option<usize>,
    /// Its fallback (`NAME.fallback`), if it has one.
    pub fallback: Option<usize>,
    /// For a fallback: the task it stands in for.
    pub falls_back_for: Option<usize>,
    /// Its type.
    pub kind: String,
    /// Indices of the tasks it needs.
    pub needs: Vec<usize>,
    /// Indices of the tasks that need it.
    pub dependents: Vec<usize>,
    /// When it runs.
    pub condition: Condition,
    /// How its dependencies' outcomes decide whether it runs.
    pub join: Join,
    /// What its failure does.
    pub on_error: OnError,
    /// Its parameters, evaluated when an attempt starts.
    pub with: ValueTemplate,
    /// The parameters its kind evaluates later (`wait_event`'s `filter`), by key; they
    /// are not in `with`.
    pub deferred: Vec<(String, ValueTemplate)>,
    /// Its fan-out, if any.
    pub for_each: Option<ForEach>,
    /// How many items of its fan-out run at once.
    pub concurrency: Option<u32>,
    /// How its raw result is reshaped.
    pub output: Option<Template>,
    /// Its resolved retry policy.
    pub retry: Retry,
    /// Time limit of each attempt.
    pub timeout: Option<Duration>,
}

/// A task's `if`.
#[derive(Debug, Clone)]
pub enum Condition {
    /// No `if`, or `if: true`.
    Always,
    /// `if: false`.
    Never,
    /// An expression; the task runs when it is truthy (not `false` or `null`).
    When(Template),
}

/// What a fan-out iterates over.
#[derive(Debug, Clone)]
pub enum ForEach {
    /// A list written in the definition (its strings may hold expressions).
    Items(ValueTemplate),
    /// An expression that must yield a list.
    Expr(Template),
}

/// A retry policy with every field resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// How the delay grows.
    pub backoff: Backoff,
    /// Delay before the first retry.
    pub initial_delay: Duration,
    /// Cap on any delay.
    pub max_delay: Duration,
    /// Growth factor of exponential backoff.
    pub multiplier: f64,
    /// Whether delays are drawn from [0.5, 1.0] of the computed one.
    pub jitter: bool,
    /// The error classes that are retried.
    pub retry_on: Vec<ErrorClass>,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            max_attempts: 1,
            backoff: Backoff::Exponential,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            multiplier: 2.0,
            jitter: false,
            retry_on: ErrorClass::RETRIED_BY_DEFAULT.to_vec(),
        }
    }
}

impl Retry {
    /// The task's policy over the workflow's defaults over the built-in defaults.
    pub fn resolve(task: Option<&RetryPolicy>, defaults: Option<&RetryPolicy>) -> Retry {
        let base = Retry::default();
        let pick =
            |f: &dyn Fn(&RetryPolicy) -> bool| task.filter(|t| f(t)).or(defaults.filter(|d| f(d)));
        Retry {
            max_attempts: pick(&|p| p.max_attempts.is_some())
                .and_then(|p| p.max_attempts)
                .unwrap_or(base.max_attempts),
            backoff: pick(&|p| p.backoff.is_some())
                .and_then(|p| p.backoff)
                .unwrap_or(base.backoff),
            initial_delay: pick(&|p| p.initial_delay.is_some())
                .and_then(|p| p.initial_delay)
                .map_or(base.initial_delay, |d| d.get()),
            max_delay: pick(&|p| p.max_delay.is_some())
                .and_then(|p| p.max_delay)
                .map_or(base.max_delay, |d| d.get()),
            multiplier: pick(&|p| p.multiplier.is_some())
                .and_then(|p| p.multiplier)
                .unwrap_or(base.multiplier),
            jitter: pick(&|p| p.jitter.is_some())
                .and_then(|p| p.jitter)
                .unwrap_or(base.jitter),
            retry_on: pick(&|p| p.retry_on.is_some())
                .and_then(|p| p.retry_on.clone())
                .unwrap_or(base.retry_on),
        }
    }

    /// Whether an error of `class` after attempt `attempt` (from 1) is retried.
    pub fn should_retry(&self, class: ErrorClass, attempt: u32) -> bool {
        attempt < self.max_attempts && self.retry_on.contains(&class)
    }

    /// The delay before retry number `retry` (1 for the second attempt). `sample` is a
    /// uniform random number in [0, 1), used only with jitter; the caller draws it, so
    /// this stays a pure function.
    pub fn delay(&self, retry: u32, sample: f64) -> Duration {
        let n = retry.max(1);
        let initial = self.initial_delay.as_secs_f64();
        let secs = match self.backoff {
            Backoff::Fixed => initial,
            Backoff::Linear => initial * f64::from(n),
            Backoff::Exponential => {
                initial
                    * self
                        .multiplier
                        .powi(i32::try_from(n - 1).unwrap_or(i32::MAX))
            }
        };
        let capped = secs.min(self.max_delay.as_secs_f64());
        let secs = if self.jitter {
            capped * (0.5 + 0.5 * sample.clamp(0.0, 1.0))
        } else {
            capped
        };
        Duration::try_from_secs_f64(secs).unwrap_or(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::Dur;

    fn secs(d: Duration) -> f64 {
        d.as_millis() as f64 / 1000.0
    }

    #[test]
    fn backoff_shapes() {
        let mut r = Retry {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..Retry::default()
        };
        assert_eq!(
            [1, 2, 3, 4, 5].map(|n| secs(r.delay(n, 0.0))),
            [0.1, 0.2, 0.4, 0.8, 1.0]
        );
        r.backoff = Backoff::Linear;
        assert_eq!([1, 2, 3].map(|n| secs(r.delay(n, 0.0))), [0.1, 0.2, 0.3]);
        r.backoff = Backoff::Fixed;
        assert_eq!([1, 9].map(|n| secs(r.delay(n, 0.0))), [0.1, 0.1]);
        r.multiplier = 3.0;
        r.backoff = Backoff::Exponential;
        assert_eq!(secs(r.delay(3, 0.0)), 0.9);
    }

    #[test]
    fn jitter_draws_from_half_to_full() {
        let r = Retry {
            jitter: true,
            initial_delay: Duration::from_secs(2),
            ..Retry::default()
        };
        assert_eq!(secs(r.delay(1, 0.0)), 1.0);
        assert_eq!(secs(r.delay(1, 0.5)), 1.5);
        assert!(secs(r.delay(1, 0.999_999)) <= 2.0);
    }

    #[test]
    fn huge_retry_numbers_stay_capped() {
        let r = Retry::default();
        assert_eq!(r.delay(u32::MAX, 0.0), r.max_delay);
    }

    #[test]
    fn resolution_is_field_by_field() {
        let defaults = RetryPolicy {
            max_attempts: Some(3),
            backoff: Some(Backoff::Linear),
            initial_delay: Some(Dur(Duration::from_secs(2))),
            ..RetryPolicy::default()
        };
        let task = RetryPolicy {
            max_attempts: Some(5),
            retry_on: Some(vec![ErrorClass::Http5xx]),
            ..RetryPolicy::default()
        };
        let r = Retry::resolve(Some(&task), Some(&defaults));
        assert_eq!(r.max_attempts, 5);
        assert_eq!(r.backoff, Backoff::Linear);
        assert_eq!(r.initial_delay, Duration::from_secs(2));
        assert_eq!(r.retry_on, vec![ErrorClass::Http5xx]);
        assert_eq!(Retry::resolve(None, None), Retry::default());
    }

    #[test]
    fn retry_decisions() {
        let r = Retry {
            max_attempts: 3,
            ..Retry::default()
        };
        assert!(r.should_retry(ErrorClass::Timeout, 1));
        assert!(r.should_retry(ErrorClass::Http5xx, 2));
        assert!(!r.should_retry(ErrorClass::Http5xx, 3));
        assert!(!r.should_retry(ErrorClass::Http4xx, 1));
        assert!(!r.should_retry(ErrorClass::Expression, 1));
    }
}

/// When a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// One of the workflow's `tasks`.
    #[default]
    Main,
    /// In `on_failure`: after the tasks, when the execution failed.
    OnFailure,
    /// In `on_success`: after the tasks, when the execution succeeded.
    OnSuccess,
    /// In `finally`: after the tasks, whatever the outcome.
    Finally,
    /// A task's `compensate`: after the tasks, when the execution failed and its task
    /// had succeeded.
    Compensate,
}

impl Phase {
    /// The phase of the block written `block` (`tasks` or a handler block).
    pub fn of_block(block: &str) -> Phase {
        match block {
            "on_failure" => Phase::OnFailure,
            "on_success" => Phase::OnSuccess,
            "finally" => Phase::Finally,
            "compensate" => Phase::Compensate,
            _ => Phase::Main,
        }
    }

    /// Whether a task of this phase runs when the execution ends with `status`
    /// (`succeeded`, `failed` or `cancelled`).
    pub fn runs_on(self, status: &str) -> bool {
        match self {
            Phase::Main | Phase::Finally => true,
            Phase::OnFailure | Phase::Compensate => status == "failed",
            Phase::OnSuccess => status == "succeeded",
        }
    }
}

/// A workflow's concurrency policy, compiled.
#[derive(Debug, Clone)]
pub struct ConcurrencyPlan {
    /// The key executions share a limit by (over `$inputs` and `$params`); `None`: one
    /// key for the whole workflow.
    pub key: Option<Template>,
    /// How many may run at once per key.
    pub limit: u32,
    /// What a start beyond the limit does.
    pub on_conflict: crate::definition::ConflictPolicy,
}

/// A trigger, compiled: what it fires on, and the inputs it maps.
#[derive(Debug, Clone)]
pub enum PlanTrigger {
    /// An `event` trigger.
    Event(EventPlan),
    /// A `webhook` trigger.
    Webhook(WebhookPlan),
    /// A `schedule` trigger.
    Schedule(crate::schedule::SchedulePlan),
}

/// A `webhook` trigger, compiled.
#[derive(Debug, Clone)]
pub struct WebhookPlan {
    /// Its position in `triggers:`.
    pub index: usize,
    /// The hook's name (`POST /hooks/{name}`).
    pub name: String,
    /// How requests are verified, as written.
    pub verify: crate::definition::Verify,
    /// The name of the secret (`NAME` of `${ $secrets.NAME }`), unless `preset: none`.
    pub secret: Option<String>,
    /// How far a signed timestamp may be from now.
    pub tolerance: Duration,
    /// The value that makes a delivery a repeat, over `$request`.
    pub dedup: Option<Template>,
    /// The execution's inputs (an object), over `$request` and `$params`.
    pub inputs: ValueTemplate,
}

/// An `event` trigger, compiled.
#[derive(Debug, Clone)]
pub struct EventPlan {
    /// Its position in `triggers:`.
    pub index: usize,
    /// The events' `type`.
    pub ty: String,
    /// Only events from this `source`.
    pub source: Option<String>,
    /// When set, the event starts the workflow only when this is true (over `$event`).
    pub filter: Option<Template>,
    /// The execution's inputs (an object), over `$event` and `$params`.
    pub inputs: ValueTemplate,
}
