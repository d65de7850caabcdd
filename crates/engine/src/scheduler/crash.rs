//! Test-only crash points, to test recovery at the exact moments that matter.
//!
//! `HARMONIA_TEST_CRASH_AT` makes the process abort (like a `kill -9`: no cleanup, no
//! flush) at a chosen commit:
//! - `before_commit:N`: just before the N-th commit is written (its events are lost;
//!   none of its effects happened);
//! - `after_commit:N`: just after the N-th commit that records a task's success, before
//!   any effect of that commit (the next task is decided and durable, but not started).
//!
//! Unset (always, outside tests), this costs one comparison per commit.

/// Where to crash, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CrashPoint {
    BeforeCommit(u64),
    AfterSuccessCommit(u64),
}

impl CrashPoint {
    pub(super) fn from_env() -> Option<CrashPoint> {
        let value = std::env::var("HARMONIA_TEST_CRASH_AT").ok()?;
        let (kind, n) = value.split_once(':')?;
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

    pub(super) fn before_commit(&mut self) {
        let Some(point) = self.point else { return };
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
        let Some(point) = self.point else { return };
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
