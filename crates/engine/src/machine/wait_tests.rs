//! The state machine and waits: a signal before the wait begins, after it, a wait's
//! timeout, a cancel while waiting, and a restart while waiting.

use harmonia_model::ErrorClass;
use harmonia_storage::{ExecutionStatus, TaskStatus, Timestamp};
use serde_json::json;

use super::tests::Sim;
use super::*;
use crate::event::{TaskError, Wait};

const APPROVAL: &str = "name: s\ntasks:\n  go: {type: approval, with: {prompt: ok}}\n  after: {type: set, needs: [go]}\n";

fn signal_wait(until: Option<Timestamp>) -> Wait {
    Wait::Signal {
        name: "approval".into(),
        key: None,
        spec: json!({"prompt": "ok"}),
        until,
    }
}

fn waiting(s: &mut Sim, a: AttemptRef, until: Option<Timestamp>) {
    s.feed(Event::AttemptWaiting {
        task: "go".into(),
        item: None,
        attempt: a.attempt,
        wait: Box::new(signal_wait(until)),
    });
}

fn received(s: &mut Sim, a: AttemptRef) {
    s.feed(Event::SignalReceived {
        task: "go".into(),
        item: None,
        attempt: a.attempt,
        name: "approval".into(),
        by: Some("ada".into()),
    });
}

fn wait_key(a: AttemptRef) -> TimerKey {
    TimerKey::Wait {
        task: "go".into(),
        item: None,
        attempt: a.attempt,
    }
}

fn unit_wait(s: &Sim) -> Option<Wait> {
    s.x.tasks[0].units[0].wait.as_deref().cloned()
}

#[test]
fn a_signal_before_the_wait_begins_changes_nothing() {
    let mut s = Sim::new(APPROVAL, json!({}));
    let a = s.start_next();
    received(&mut s, a);
    assert_eq!(s.status("go"), TaskStatus::Running);
    assert_eq!(unit_wait(&s), None);
    // The wait begins afterwards and is not ended by the early signal.
    waiting(&mut s, a, None);
    assert_eq!(unit_wait(&s), Some(signal_wait(None)));
    assert!(s.dispatched.is_empty());
}

#[test]
fn a_signal_after_the_wait_begins_ends_it_and_its_timeout_is_then_moot() {
    let mut s = Sim::new(APPROVAL, json!({}));
    let a = s.start_next();
    let until = Timestamp(s.now + 60_000);
    waiting(&mut s, a, Some(until));
    assert_eq!(
        s.timers.last(),
        Some(&(wait_key(a), until)),
        "the timeout is armed"
    );
    received(&mut s, a);
    assert_eq!(unit_wait(&s), None, "the signal ends the wait");
    s.succeed(a, json!({"decision": "approved"}));
    assert_eq!(s.status("go"), TaskStatus::Succeeded);
    // The timer fires later: nothing changes.
    let seq = s.x.seq;
    s.fire(wait_key(a));
    assert_eq!(s.status("go"), TaskStatus::Succeeded);
    assert_eq!(s.x.seq, seq + 1, "only the event itself was applied");
    assert_eq!(s.dispatched.len(), 1, "`after` runs once");
}

#[test]
fn a_timeout_ends_the_wait_so_a_late_signal_finds_nothing() {
    let mut s = Sim::new(APPROVAL, json!({}));
    let a = s.start_next();
    let until = Timestamp(s.now + 1000);
    waiting(&mut s, a, Some(until));
    s.fire(wait_key(a));
    assert_eq!(unit_wait(&s), None);
    assert_eq!(
        s.status("go"),
        TaskStatus::Running,
        "the kind decides what it means"
    );
    received(&mut s, a);
    s.feed(Event::AttemptFailed {
        task: "go".into(),
        item: None,
        attempt: a.attempt,
        error: TaskError::new(ErrorClass::WaitTimeout, "no answer"),
        usage: None,
    });
    assert_eq!(s.status("go"), TaskStatus::Failed);
    assert_eq!(s.x.status, ExecutionStatus::Failed);
}

#[test]
fn a_cancel_while_waiting_ends_the_wait_and_ignores_what_comes_after() {
    let mut s = Sim::new(APPROVAL, json!({}));
    let a = s.start_next();
    let until = Timestamp(s.now + 1000);
    waiting(&mut s, a, Some(until));
    s.feed(Event::CancelRequested { reason: None });
    assert_eq!(s.status("go"), TaskStatus::Cancelled);
    assert_eq!(unit_wait(&s), None);
    assert_eq!(s.x.status, ExecutionStatus::Cancelled);
    s.fire(wait_key(a));
    received(&mut s, a);
    s.succeed(a, json!({}));
    assert_eq!(s.status("go"), TaskStatus::Cancelled);
    assert!(s.dispatched.is_empty());
}

#[test]
fn after_a_restart_the_wait_goes_on_with_its_timeout_armed_again() {
    let mut s = Sim::new(APPROVAL, json!({}));
    let a = s.start_next();
    let until = Timestamp(s.now + 60_000);
    waiting(&mut s, a, Some(until));
    let log = s.log.clone();
    let (first, at) = log[0].clone();
    let mut r = start(s.x.id, s.x.plan.clone(), &first, at).expect("start");
    for (e, at) in &log {
        replay(&mut r, e, *at);
    }
    let mut env = s.env();
    let effects = resume(&mut r, &mut env);
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::SetTimer { key, due } if *key == wait_key(a) && *due == until)
        ),
        "{effects:?}"
    );
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Dispatch { .. })),
        "a waiting attempt does not run again"
    );
    assert_eq!(
        r.tasks[0].units[0].wait.as_deref(),
        Some(&signal_wait(Some(until)))
    );
}
