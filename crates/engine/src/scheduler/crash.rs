//! Test-only crash points, to test recovery at the exact moments that matter.
//!
//! `HARMONIA_TEST_CRASH_AT` makes the process abort (like a `kill -9`: no cleanup, no
//! flush) at a chosen commit:
//! - `before_commit:N`: just before the N-th commit is written (its events are lost;
//!   none of its effects happened);
//! - `after_commit:N`: just after the N-th commit that records a task's success, before
//!   any effect of that commit (the next task is decided and durable, but not started).
//!
//! and `panic_on:TASK` makes applying the success of an attempt of task `TASK` panic,
//! as a bug in the state machine would (see `guard`: the execution fails, the engine
//! goes on).
//!
//! Unset (always, outside tests), this costs one comparison per commit.

/// Where to crash, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CrashPoint {
    BeforeCommit(u64),
    AfterSuccessCommit(u64),
    PanicOnTask(String),
}

impl CrashPoint {
    pub(super) fn from_env() -> Option<CrashPoint> {
        let value = std::env::var("HARMONIA_TEST_CRASH_AT").ok()?;
        let (kind, n) = value.split_once(':')?;
        if kind.trim() == "panic_on" {
            return Some(CrashPoint::PanicOnTask(n.trim().to_string()));
        }
        let n: u64 = n.trim().parse().ok()?;
        match kind.trim() {
            "before_commit" => Some(CrashPoint::BeforeCommit(n)),
            "after_commit" => Some(CrashPoint::AfterSuccessCommit(n)),
            _ => None,
        }
    }
}

/// Counts commits and aborts at the crash point.
#[derive(Debug, Default)]
pub(super) struct Crasher {
    point: Option<CrashPoint>,
    commits: u64,
    success_commits: u64,
}

impl Crasher {
    pub(super) fn new(point: Option<CrashPoint>) -> Crasher {
        Crasher {
            point,
            ..Crasher::default()
        }
    }

    /// Panics when `event` is the success of an attempt of the task named by
    /// `panic_on`.
    pub(super) fn on_event(&self, event: &crate::event::Event) {
        if let Some(CrashPoint::PanicOnTask(name)) = &self.point
            && let crate::event::Event::AttemptSucceeded { task, .. } = event
            && task == name
        {
            panic!("test crash point: panic on the success of `{task}`");
        }
    }

    pub(super) fn before_commit(&mut self) {
        let Some(point) = self.point.clone() else {
            return;
        };
        self.commits += 1;
        if point == CrashPoint::BeforeCommit(self.commits) {
            tracing::warn!(
                commit = self.commits,
                "test crash point: aborting before a commit"
            );
            std::process::abort();
        }
    }

    pub(super) fn after_commit(&mut self, recorded_success: bool) {
        let Some(point) = self.point.clone() else {
            return;
        };
        if recorded_success {
            self.success_commits += 1;
            if point == CrashPoint::AfterSuccessCommit(self.success_commits) {
                tracing::warn!(
                    commit = self.success_commits,
                    "test crash point: aborting after a commit"
                );
                std::process::abort();
            }
        }
    }
}
