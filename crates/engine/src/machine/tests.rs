//! Unit tests of the state machine: each drives it with events and asserts on effects.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use harmonia_expr::Limits;
use harmonia_model::{ErrorClass, Format, Plan, Source, load};
use harmonia_storage::{ExecutionId, ExecutionStatus, TaskStatus, Timestamp, WorkflowId};
use serde_json::{Value, json};

use super::*;
use crate::event::{SkipReason, StopReason, TaskError, Wait};

pub(crate) fn plan(yaml: &str) -> Arc<Plan> {
    match load(
        &Source::new("t.yaml", yaml, Format::Yaml),
        &crate::kinds::builtin_types(),
    ) {
        Ok(l) => Arc::new(l.plan),
        Err(e) => panic!("{:#?}", e.diagnostics()),
    }
}

/// A hand-driven scheduler: keeps the log, the dispatched attempts and the timers.
pub(crate) struct Sim {
    pub(crate) x: Execution,
    pub(crate) now: i64,
    pub(crate) log: Vec<(Event, Timestamp)>,
    pub(crate) dispatched: VecDeque<AttemptRef>,
    pub(crate) timers: Vec<(TimerKey, Timestamp)>,
    pub(crate) aborted: Vec<AttemptRef>,
    pub(crate) finished: bool,
    seed: u64,
}

impl Sim {
    pub(crate) fn new(yaml: &str, inputs: Value) -> Sim {
        let plan = plan(yaml);
        let inputs = plan.prepare_inputs(inputs).expect("valid inputs");
        let first = Event::ExecutionStarted {
            workflow_id: WorkflowId::new(),
            workflow: plan.workflow.name.clone(),
            version: 1,
            inputs: inputs.into(),
            params: Value::Null,
            parent: None,
            retry_of: None,
            origin: None,
            reused: Vec::new(),
        };
        let at = Timestamp(1_000_000);
        let x = start(ExecutionId::new(), plan, &first, at).expect("started");
        let mut sim = Sim {
            x,
            now: 1_000_000,
            log: Vec::new(),
            dispatched: VecDeque::new(),
            timers: Vec::new(),
            aborted: Vec::new(),
            finished: false,
            seed: 7,
        };
        sim.feed(first);
        sim
    }

    pub(crate) fn env(&mut self) -> Env {
        self.seed += 1;
        Env::new(Timestamp(self.now), self.seed, Limits::default())
    }

    pub(crate) fn feed(&mut self, event: Event) -> Vec<Effect> {
        let mut env = self.env();
        self.log.push((event.clone(), Timestamp(self.now)));
        let effects = apply(&mut self.x, &event, &mut env);
        self.absorb(&effects);
        effects
    }

    pub(crate) fn absorb(&mut self, effects: &[Effect]) {
        for e in effects {
            match e {
                Effect::Record(ev) => self.log.push(((**ev).clone(), Timestamp(self.now))),
                Effect::Dispatch { attempt, .. } => self.dispatched.push_back(*attempt),
                Effect::SetTimer { key, due } => self.timers.push((key.clone(), *due)),
                Effect::Abort(a) => self.aborted.push(*a),
                Effect::Finished => self.finished = true,
                Effect::CancelChild(_) | Effect::AwaitChild { .. } => {}
                Effect::Continue => {
                    let mut env = self.env();
                    let effects = super::proceed(&mut self.x, &mut env);
                    self.absorb(&effects);
                }
                // As the scheduler does, off the turn: run it, bring the result back.
                Effect::Evaluate(job) => {
                    let done = job.run(&Limits::default());
                    let mut env = self.env();
                    let effects = super::evaluated(&mut self.x, done, &mut env);
                    self.absorb(&effects);
                }
            }
        }
    }

    pub(crate) fn name(&self, a: &AttemptRef) -> String {
        self.x.plan.tasks[a.task].name.clone()
    }

    /// Starts the next dispatched attempt and returns it.
    pub(crate) fn start_next(&mut self) -> AttemptRef {
        let a = self
            .dispatched
            .pop_front()
            .expect("something was dispatched");
        let task = self.name(&a);
        self.feed(Event::AttemptStarted {
            task,
            item: a.item,
            attempt: a.attempt,
            recovered: false,
        });
        a
    }

    pub(crate) fn succeed(&mut self, a: AttemptRef, output: Value) -> Vec<Effect> {
        let task = self.name(&a);
        self.feed(Event::AttemptSucceeded {
            task,
            item: a.item,
            attempt: a.attempt,
            output,
            usage: None,
        })
    }

    pub(crate) fn fail(&mut self, a: AttemptRef, class: ErrorClass) -> Vec<Effect> {
        let task = self.name(&a);
        self.feed(Event::AttemptFailed {
            task,
            item: a.item,
            attempt: a.attempt,
            error: TaskError::new(class, "boom"),
            usage: None,
        })
    }

    /// Runs every dispatched attempt to success with output `{"task": name}`.
    pub(crate) fn run_all(&mut self) {
        while !self.dispatched.is_empty() {
            let a = self.start_next();
            let name = self.name(&a);
            self.succeed(a, json!({"task": name}));
        }
    }

    /// When the timer `key` is due; panics when it is not set.
    pub(crate) fn due(&self, key: &TimerKey) -> Timestamp {
        self.timers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, d)| *d)
            .expect("timer was set")
    }

    pub(crate) fn fire(&mut self, key: TimerKey) -> Vec<Effect> {
        let due = self.due(&key);
        self.now = self.now.max(due.0);
        self.timers.retain(|(k, _)| *k != key);
        self.feed(Event::TimerFired { key })
    }

    pub(crate) fn status(&self, task: &str) -> TaskStatus {
        let t = self.x.task_index(task).expect("task exists");
        self.x.tasks[t].status
    }

    pub(crate) fn kinds(&self) -> Vec<&'static str> {
        self.log.iter().map(|(e, _)| e.kind()).collect()
    }
}

const DIAMOND: &str = "
name: diamond
tasks:
  a: {type: set, with: {n: 1}}
  b: {type: set, needs: [a], with: {n: 2}}
  c: {type: set, needs: [a], with: {n: 3}}
  d: {type: set, needs: [b, c], with: {n: 4}}
outputs:
  sum: ${ $tasks.b.output.n + $tasks.c.output.n }
  d: ${ $tasks.d.output }
";

#[test]
fn a_diamond_runs_in_dependency_order_and_passes_outputs() {
    let mut s = Sim::new(DIAMOND, json!({}));
    assert_eq!(
        s.dispatched.iter().map(|a| a.task).collect::<Vec<_>>(),
        vec![0]
    );
    let a = s.start_next();
    let effects = s.succeed(a, json!({"n": 1}));
    // b and c start together once a succeeded.
    let dispatched: Vec<usize> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Dispatch { attempt, .. } => Some(attempt.task),
            _ => None,
        })
        .collect();
    assert_eq!(dispatched, vec![1, 2]);
    let b = s.start_next();
    let c = s.start_next();
    s.succeed(c, json!({"n": 3}));
    assert!(s.dispatched.is_empty(), "d waits for b");
    s.succeed(b, json!({"n": 2}));
    let d = s.start_next();
    s.succeed(d, json!({"n": 4}));
    assert!(s.finished);
    assert_eq!(s.x.status, ExecutionStatus::Succeeded);
    assert_eq!(s.x.outputs, Some(json!({"sum": 5, "d": {"n": 4}})));
}

#[test]
fn a_false_condition_skips_the_task_and_its_strict_dependents() {
    let mut s = Sim::new(
        "
name: cond
inputs: {type: object, properties: {go: {type: boolean, default: false}}}
tasks:
  gate: {type: set, if: '${ $inputs.go }'}
  after: {type: set, needs: [gate]}
  after2: {type: set, needs: [after]}
  always: {type: set, needs: [after2], join: all_done, with: {v: '${ $tasks.gate.output }'}}
outputs:
  skipped: ${ $tasks.after2.skip_reason }
",
        json!({}),
    );
    assert_eq!(s.status("gate"), TaskStatus::Skipped);
    assert_eq!(s.status("after"), TaskStatus::Skipped);
    assert_eq!(s.status("after2"), TaskStatus::Skipped);
    let t = s.x.task_index("gate").expect("gate");
    assert_eq!(s.x.tasks[t].skip_reason, Some(SkipReason::Condition));
    let t = s.x.task_index("after").expect("after");
    assert_eq!(s.x.tasks[t].skip_reason, Some(SkipReason::UpstreamSkipped));
    // all_done runs anyway, and a skipped task's output reads as null.
    let a = s.start_next();
    assert_eq!(s.name(&a), "always");
    let ctx = s.x.context(a.task, None);
    let with = s.x.plan.tasks[a.task]
        .with
        .eval(&ctx, &Limits::default())
        .expect("evaluates");
    assert_eq!(with.to_json(1000).ok(), Some(json!({"v": null})));
    s.succeed(a, json!(1));
    assert_eq!(s.x.status, ExecutionStatus::Succeeded);
    assert_eq!(s.x.outputs, Some(json!({"skipped": "upstream_skipped"})));
}

#[test]
fn a_literal_false_condition_skips_the_task() {
    // `if: false` (a literal, not an expression) once ran the task.
    let mut s = Sim::new(
        "
name: never
tasks:
  off: {type: set, if: false, with: 1}
  on: {type: set, if: true, with: 2}
",
        json!({}),
    );
    assert_eq!(s.status("off"), TaskStatus::Skipped);
    let t = s.x.task_index("off").expect("off");
    assert_eq!(s.x.tasks[t].skip_reason, Some(SkipReason::Condition));
    let a = s.start_next();
    assert_eq!(s.name(&a), "on");
}

#[test]
fn join_any_runs_when_one_dependency_succeeded() {
    let mut s = Sim::new(
        "
name: any
tasks:
  yes: {type: set}
  no: {type: set, if: '${ false }'}
  either: {type: set, needs: [yes, no], join: any}
  both: {type: set, needs: [yes, no]}
",
        json!({}),
    );
    let y = s.start_next();
    s.succeed(y, json!(1));
    let e = s.start_next();
    assert_eq!(s.name(&e), "either");
    assert_eq!(s.status("both"), TaskStatus::Skipped);
}

const FAILING: &str = "
name: failing
tasks:
  a: {type: set}
  bad: {type: set, needs: [a]}
  slow: {type: set, needs: [a]}
  later: {type: set, needs: [bad, slow]}
  other: {type: set, needs: [slow]}
";

#[test]
fn a_failure_stops_new_work_lets_running_work_finish_and_names_the_task() {
    let mut s = Sim::new(FAILING, json!({}));
    let a = s.start_next();
    s.succeed(a, json!(1));
    let bad = s.start_next();
    let slow = s.start_next();
    s.fail(bad, ErrorClass::Validation);
    assert!(s.kinds().contains(&"stopping"));
    // What comes after waits for its dependencies to end before it is decided.
    assert_eq!(s.status("later"), TaskStatus::Pending);
    assert_eq!(s.status("other"), TaskStatus::Pending);
    // slow is still running and may finish; nothing new starts.
    assert_eq!(s.status("slow"), TaskStatus::Running);
    assert!(s.aborted.is_empty());
    assert!(!s.finished);
    s.succeed(slow, json!("done"));
    assert!(s.dispatched.is_empty());
    assert!(s.finished);
    assert_eq!(s.x.status, ExecutionStatus::Failed);
    let error = s.x.error.clone().expect("error");
    assert_eq!(error.task.as_deref(), Some("bad"));
    assert!(
        error.message.starts_with("task `bad` failed: boom"),
        "{}",
        error.message
    );
    assert_eq!(s.status("slow"), TaskStatus::Succeeded);
    // Regression: a task whose dependency failed is skipped (`upstream_failed`), not
    // cancelled; one that never started for a failure elsewhere is cancelled.
    assert_eq!(s.status("later"), TaskStatus::Skipped);
    let later = s.x.task_index("later").expect("later");
    assert_eq!(
        s.x.tasks[later].skip_reason,
        Some(crate::event::SkipReason::UpstreamFailed)
    );
    assert_eq!(s.status("other"), TaskStatus::Cancelled);
}

#[test]
fn on_error_continue_keeps_the_execution_going() {
    let mut s = Sim::new(
        "
name: tolerant
tasks:
  flaky: {type: set, on_error: continue}
  strict: {type: set, needs: [flaky]}
  cleanup: {type: set, needs: [flaky], join: all_done, with: {s: '${ $tasks.flaky.status }'}}
",
        json!({}),
    );
    let f = s.start_next();
    s.fail(f, ErrorClass::ExitCode);
    assert_eq!(s.status("flaky"), TaskStatus::Failed);
    assert_eq!(s.status("strict"), TaskStatus::Skipped);
    let c = s.start_next();
    assert_eq!(s.name(&c), "cleanup");
    s.succeed(c, json!(1));
    assert_eq!(s.x.status, ExecutionStatus::Succeeded);
}

#[test]
fn retries_follow_the_policy_and_keep_the_last_error() {
    let mut s = Sim::new(
        "
name: retry
tasks:
  call:
    type: set
    retry: {max_attempts: 3, backoff: exponential, initial_delay: 1s, multiplier: 2, retry_on: [timeout]}
",
        json!({}),
    );
    let a1 = s.start_next();
    assert_eq!(a1.attempt, 1);
    s.fail(a1, ErrorClass::Timeout);
    assert_eq!(s.x.tasks[0].units[0].status, TaskStatus::Retrying);
    let key = TimerKey::Retry {
        task: "call".into(),
        item: None,
        attempt: 2,
    };
    let due = s.due(&key);
    assert_eq!(due.0 - s.now, 1000);
    assert!(s.dispatched.is_empty());
    s.fire(key);
    let a2 = s.start_next();
    assert_eq!(a2.attempt, 2);
    s.fail(a2, ErrorClass::Timeout);
    let key = TimerKey::Retry {
        task: "call".into(),
        item: None,
        attempt: 3,
    };
    let due = s.due(&key);
    assert_eq!(due.0 - s.now, 2000, "exponential: 1s then 2s");
    s.fire(key);
    let a3 = s.start_next();
    s.fail(a3, ErrorClass::Timeout);
    // Three attempts in all: the third failure is final.
    assert_eq!(s.status("call"), TaskStatus::Failed);
    assert_eq!(s.x.status, ExecutionStatus::Failed);
    assert_eq!(s.x.tasks[0].attempts(), 3);
    assert_eq!(
        s.x.tasks[0].error.as_ref().map(|e| e.class),
        Some(ErrorClass::Timeout)
    );
    assert_eq!(
        s.kinds()
            .iter()
            .filter(|k| **k == "retry_scheduled")
            .count(),
        2
    );
}

#[test]
fn errors_outside_retry_on_are_not_retried() {
    let mut s = Sim::new(
        "name: r\ntasks:\n  c: {type: set, retry: {max_attempts: 5}}\n",
        json!({}),
    );
    let a = s.start_next();
    s.fail(a, ErrorClass::Http4xx);
    assert_eq!(s.status("c"), TaskStatus::Failed);
}

#[test]
fn retry_after_lengthens_the_delay() {
    let mut s = Sim::new(
        "name: r\ntasks:\n  c: {type: set, retry: {max_attempts: 2, initial_delay: 100ms}}\n",
        json!({}),
    );
    let a = s.start_next();
    let mut error = TaskError::new(ErrorClass::Http429, "slow down").with_status(429);
    error.retry_after_ms = Some(5_000);
    s.feed(Event::AttemptFailed {
        task: "c".into(),
        item: None,
        attempt: a.attempt,
        error,
        usage: None,
    });
    let (_, due) = s.timers.last().cloned().expect("timer");
    assert_eq!(due.0 - s.now, 5_000);
}

const FAN_OUT: &str = "
name: fan
inputs: {type: object, properties: {n: {type: integer, default: 5}}}
tasks:
  each:
    type: set
    for_each: ${ [range($inputs.n)] }
    concurrency: 2
    with: {i: '${ $item }'}
    output: ${ $output.i * 10 }
  after: {type: set, needs: [each], with: {all: '${ $tasks.each.output }'}}
";

#[test]
fn a_fan_out_respects_its_concurrency_and_keeps_item_order() {
    let mut s = Sim::new(FAN_OUT, json!({}));
    assert_eq!(s.dispatched.len(), 2, "concurrency 2");
    let i0 = s.start_next();
    let i1 = s.start_next();
    assert_eq!((i0.item, i1.item), (Some(0), Some(1)));
    // Completion order 1, then 0: one new item per freed slot.
    s.succeed(i1, json!(10));
    assert_eq!(s.dispatched.len(), 1);
    s.succeed(i0, json!(0));
    assert_eq!(s.dispatched.len(), 2);
    let mut running = Vec::new();
    while let Some(a) = s.dispatched.front().copied() {
        s.start_next();
        running.push(a);
        assert!(s.x.tasks[0].in_flight <= 2);
    }
    for a in running.into_iter().rev() {
        s.succeed(a, json!(a.item.map(|i| i * 10)));
        while !s.dispatched.is_empty() {
            let b = s.start_next();
            s.succeed(b, json!(b.item.map(|i| i * 10)));
        }
    }
    assert_eq!(s.status("each"), TaskStatus::Succeeded);
    assert_eq!(s.x.tasks[0].output, Some(json!([0, 10, 20, 30, 40])));
}

#[test]
fn a_fan_out_over_a_non_list_fails_clearly() {
    let mut s = Sim::new(
        "name: f\ninputs: {type: object, properties: {x: {default: oops}}}\ntasks:\n  t: {type: set, for_each: '${ $inputs.x }'}\n",
        json!({}),
    );
    assert_eq!(s.status("t"), TaskStatus::Failed);
    let msg = s.x.error.clone().expect("error").message;
    assert!(
        msg.contains("`for_each` must yield a list, but it yielded the string \"oops\""),
        "{msg}"
    );
    let _ = s.env();
}

#[test]
fn an_empty_fan_out_succeeds_with_an_empty_list() {
    let s = Sim::new(
        "name: f\ntasks:\n  t: {type: set, for_each: []}\n",
        json!({}),
    );
    assert_eq!(s.status("t"), TaskStatus::Succeeded);
    assert_eq!(s.x.tasks[0].output, Some(json!([])));
    assert_eq!(s.x.status, ExecutionStatus::Succeeded);
}

#[test]
fn a_failed_item_fails_the_fan_out_after_the_running_items() {
    let mut s = Sim::new(FAN_OUT, json!({"n": 4}));
    let i0 = s.start_next();
    let i1 = s.start_next();
    s.fail(i1, ErrorClass::Validation);
    // No new item starts; item 0 may finish.
    assert!(s.dispatched.is_empty());
    s.succeed(i0, json!(0));
    assert_eq!(s.status("each"), TaskStatus::Failed);
    let e = s.x.tasks[0].error.clone().expect("error");
    assert_eq!(e.item, Some(1));
    assert!(e.message.starts_with("item 1 failed"));
    assert_eq!(s.x.tasks[0].units[2].status, TaskStatus::Cancelled);
    assert_eq!(s.x.status, ExecutionStatus::Failed);
}

#[test]
fn the_workflow_timeout_stops_running_work() {
    let mut s = Sim::new(
        "name: t\ntimeout: 5s\ntasks:\n  long: {type: set}\n  next: {type: set, needs: [long]}\n",
        json!({}),
    );
    let a = s.start_next();
    s.fire(TimerKey::Timeout);
    assert_eq!(s.aborted, vec![a]);
    assert_eq!(s.status("long"), TaskStatus::Cancelled);
    assert_eq!(s.status("next"), TaskStatus::Cancelled);
    assert_eq!(s.x.status, ExecutionStatus::Failed);
    let e = s.x.error.clone().expect("error");
    assert_eq!(e.class, ErrorClass::Timeout);
    assert!(e.message.contains("timeout of 5s"), "{}", e.message);
    // A late result of the aborted attempt changes nothing.
    s.succeed(a, json!(1));
    assert_eq!(s.status("long"), TaskStatus::Cancelled);
}

#[test]
fn cancel_stops_everything_and_ends_cancelled() {
    let mut s = Sim::new(FAN_OUT, json!({}));
    let a = s.start_next();
    let queued = *s.dispatched.front().expect("queued");
    s.feed(Event::CancelRequested {
        reason: Some("enough".into()),
    });
    assert!(s.aborted.contains(&a));
    assert!(
        s.aborted.contains(&queued),
        "queued attempts are aborted too"
    );
    assert_eq!(s.x.status, ExecutionStatus::Cancelled);
    assert!(matches!(s.x.stopping, Some(StopReason::Cancelled { .. })));
    // Cancelling again changes nothing.
    let effects = s.feed(Event::CancelRequested { reason: None });
    assert!(effects.is_empty());
}

#[test]
fn sleep_is_a_durable_timer() {
    let mut s = Sim::new(
        "name: s\ntasks:\n  nap: {type: sleep, with: {duration: 2s}}\n",
        json!({}),
    );
    let a = s.start_next();
    let due = Timestamp(s.now + 2000);
    s.feed(Event::AttemptWaiting {
        task: "nap".into(),
        item: None,
        attempt: a.attempt,
        wait: Box::new(Wait::Timer { due }),
    });
    assert_eq!(s.timers.last().map(|(_, d)| *d), Some(due));
    assert_eq!(s.status("nap"), TaskStatus::Running);
    s.fire(TimerKey::Sleep {
        task: "nap".into(),
        item: None,
        attempt: 1,
    });
    assert_eq!(s.status("nap"), TaskStatus::Succeeded);
    assert_eq!(s.x.status, ExecutionStatus::Succeeded);
}

#[test]
fn external_waits_end_with_a_result() {
    let mut s = Sim::new(
        "name: s\ntasks:\n  approve: {type: set}\n  go: {type: set, needs: [approve]}\n",
        json!({}),
    );
    let a = s.start_next();
    s.feed(Event::AttemptWaiting {
        task: "approve".into(),
        item: None,
        attempt: a.attempt,
        wait: Box::new(Wait::Signal {
            name: "approval".into(),
            key: None,
            spec: json!(null),
            until: None,
        }),
    });
    assert!(s.dispatched.is_empty());
    s.succeed(a, json!({"approved_by": "ada"}));
    assert_eq!(s.status("approve"), TaskStatus::Succeeded);
    assert_eq!(s.dispatched.len(), 1);
}

#[test]
fn pause_holds_new_work_and_resume_releases_it() {
    let mut s = Sim::new(DIAMOND, json!({}));
    let a = s.start_next();
    s.feed(Event::Paused);
    assert_eq!(s.x.status, ExecutionStatus::Paused);
    s.succeed(a, json!({"n": 1}));
    assert!(s.dispatched.is_empty(), "paused: nothing starts");
    s.feed(Event::Resumed);
    assert_eq!(s.x.status, ExecutionStatus::Running);
    assert_eq!(s.dispatched.len(), 2);
}

#[test]
fn replaying_the_log_rebuilds_the_same_state() {
    let mut s = Sim::new(FAN_OUT, json!({"n": 3}));
    let a = s.start_next();
    s.fail(a, ErrorClass::Validation);
    s.run_all();
    let log = s.log.clone();
    let (first, at) = log[0].clone();
    let mut r = start(s.x.id, s.x.plan.clone(), &first, at).expect("start");
    for (e, at) in &log {
        replay(&mut r, e, *at);
    }
    assert_eq!(r.status, s.x.status);
    assert_eq!(r.error, s.x.error);
    assert_eq!(r.seq, s.x.seq);
    assert_eq!(r.seq as usize, log.len());
    for (x, y) in r.tasks.iter().zip(&s.x.tasks) {
        assert_eq!(
            (x.status, &x.output, &x.error),
            (y.status, &y.output, &y.error)
        );
        assert_eq!(x.units, y.units);
    }
}

#[test]
fn resume_reruns_in_flight_attempts_as_recovered_and_rearms_timers() {
    let mut s = Sim::new(
        "name: r\ntimeout: 1h\ntasks:\n  a: {type: set}\n  b: {type: set, retry: {max_attempts: 3}}\n  c: {type: set}\n",
        json!({}),
    );
    let a = s.start_next();
    let b = s.start_next();
    let _c = s.start_next();
    s.succeed(a, json!(1));
    s.fail(b, ErrorClass::Timeout);
    // "Crash" now: replay the log into a fresh state and resume it.
    let (first, at) = s.log[0].clone();
    let mut r = start(s.x.id, s.x.plan.clone(), &first, at).expect("start");
    for (e, at) in &s.log {
        replay(&mut r, e, *at);
    }
    let mut env = Env::new(Timestamp(s.now + 10), 1, Limits::default());
    let effects = resume(&mut r, &mut env);
    assert!(
        effects.contains(&Effect::Dispatch {
            attempt: AttemptRef {
                task: 2,
                item: None,
                attempt: 2
            },
            recovered: true
        }),
        "{effects:#?}"
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            key: TimerKey::Retry { attempt: 2, .. },
            ..
        }
    )));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            key: TimerKey::Timeout,
            ..
        }
    )));
    assert_eq!(r.tasks[0].status, TaskStatus::Succeeded);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Dispatch { attempt, .. } if attempt.task == 0))
    );
}

#[test]
fn read_models_list_what_changed() {
    let mut s = Sim::new(FAN_OUT, json!({"n": 2}));
    let records = s.x.take_records(Timestamp(s.now));
    assert!(records.execution.is_some());
    let rows: Vec<(String, Option<u32>)> = records
        .task_runs
        .iter()
        .map(|r| (r.task.clone(), r.item))
        .collect();
    assert!(rows.contains(&("each".into(), None)));
    assert!(rows.contains(&("each".into(), Some(0))));
    let again = s.x.take_records(Timestamp(s.now));
    assert!(again.execution.is_none() && again.task_runs.is_empty());
    s.run_all();
    let records = s.x.take_records(Timestamp(s.now));
    let each = records
        .task_runs
        .iter()
        .find(|r| r.task == "each" && r.item.is_none())
        .expect("task row");
    assert_eq!(each.status, TaskStatus::Succeeded);
    assert_eq!(each.attempts, 2);
    let _ = Duration::ZERO;
}

#[test]
fn a_tasks_step_rewrites_its_rows_not_the_executions() {
    let mut s = Sim::new(DIAMOND, json!({}));
    let first = s.x.take_records(Timestamp(s.now));
    assert!(
        first.execution.is_some(),
        "a new execution's row is written"
    );
    let a = s.start_next();
    s.succeed(a, json!({"n": 1}));
    let b = s.start_next();
    let step = s.x.take_records(Timestamp(s.now));
    assert!(
        step.execution.is_none(),
        "a task's step leaves the execution's row"
    );
    let mut tasks: Vec<&str> = step.task_runs.iter().map(|r| r.task.as_str()).collect();
    tasks.sort();
    assert_eq!(tasks, ["a", "b", "c"]);
    // A change of the execution's own state rewrites it: a pause, a resume, the end.
    s.feed(Event::Paused);
    let paused = s.x.take_records(Timestamp(s.now)).execution.expect("row");
    assert_eq!(paused.status, ExecutionStatus::Paused);
    s.feed(Event::Resumed);
    let resumed = s.x.take_records(Timestamp(s.now)).execution.expect("row");
    assert_eq!(resumed.status, ExecutionStatus::Running);
    s.succeed(b, json!({"n": 2}));
    s.run_all();
    assert!(s.finished);
    let end = s.x.take_records(Timestamp(s.now)).execution.expect("row");
    assert_eq!(end.status, ExecutionStatus::Succeeded);
    assert!(end.outputs.is_some());
    assert_eq!(end.outputs, s.x.outputs);
}

#[test]
fn a_decision_evaluated_off_the_turn_keeps_the_execution_from_parking() {
    let mut s = Sim::new(
        "name: s\ntasks:\n  nap: {type: sleep, with: {duration: 2s}}\n  fan: {type: set, for_each: '${ [1] }', with: 1, needs: [nap]}\n",
        json!({}),
    );
    let a = s.start_next();
    s.feed(Event::AttemptWaiting {
        task: "nap".into(),
        item: None,
        attempt: a.attempt,
        wait: Box::new(Wait::Timer {
            due: Timestamp(s.now + 2000),
        }),
    });
    assert!(s.x.is_parked(), "only a timer is left: parked");
    // A `for_each` (or `if`, or the outputs) being evaluated off the turn is work the
    // log does not hold: a parked execution would not evaluate it again until its
    // timer fired.
    let fan = s.x.task_index("fan").expect("fan");
    s.x.tasks[fan].start = Some(evaluate::Pending::Evaluating);
    assert!(!s.x.is_parked());
    s.x.tasks[fan].start = None;
    s.x.outputs_eval = Some(evaluate::Pending::Evaluating);
    assert!(!s.x.is_parked());
    s.x.outputs_eval = None;
    let woke = |attempt| Event::AttemptSucceeded {
        task: "nap".into(),
        item: None,
        attempt,
        output: Value::Null,
        usage: None,
    };
    assert!(!stale_result(&s.x, &woke(a.attempt)));
    assert!(stale_result(&s.x, &woke(a.attempt + 1)), "not its attempt");
    s.fire(TimerKey::Sleep {
        task: "nap".into(),
        item: None,
        attempt: a.attempt,
    });
    assert!(stale_result(&s.x, &woke(a.attempt)), "it woke up already");
}
