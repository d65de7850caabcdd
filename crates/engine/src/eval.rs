//! Where expressions run: in the scheduler's turn when they are quick, on the blocking
//! pool otherwise.
//!
//! Almost every expression of a workflow takes microseconds, and running it inside the
//! scheduler's turn, committed with its cause, is what makes a chain of pure tasks take
//! microseconds per step. But one expression may run until its deadline (a second, by
//! default), and nothing else could advance meanwhile. So an evaluation in the turn is
//! an attempt under tight limits (`Budget::inline`): a slice of time and memory, and a
//! share of the turn's total. When it runs into them (`harmonia_expr::watch` tells), its
//! result is thrown away and the caller hands the same work to `Offload`, which runs
//! it on the blocking pool under the full limits, at most `MAX_OFFLOADED` at once, and
//! sends the result back to the scheduler as a command.
//!
//! Invariant: re-running is safe because evaluation is pure: an expression has no
//! effect, and a task's work is started only after its result is known.

use std::sync::Arc;
use std::time::{Duration, Instant};

use harmonia_expr::Limits;
use tokio::sync::Semaphore;

/// The time one evaluation may take inside a turn.
pub(crate) const SLICE: Duration = Duration::from_millis(1);
/// The memory one evaluation may hold inside a turn.
pub(crate) const SLICE_MEMORY: usize = 16 << 20;
/// The time all evaluations of one turn may take together; past it, every evaluation
/// of the turn goes to the pool.
pub(crate) const TURN: Duration = Duration::from_millis(5);
/// Evaluations running on the pool at once (each may hold its full memory budget).
pub(crate) const MAX_OFFLOADED: usize = 16;

/// How long a turn may apply queued work before it commits and lets new commands in.
pub(crate) const TURN_WORK: Duration = Duration::from_millis(20);
/// How long a turn applies queued work before it sends what it applied to be written
/// and goes on while that is written (see `scheduler::service`): a long turn is
/// written in parts, each beside the work of the next.
pub(crate) const PART_WORK: Duration = Duration::from_millis(5);

/// What is left of a turn's time: for evaluations inside it, and for its work.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    left: Duration,
    started: Instant,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::turn()
    }
}

impl Budget {
    /// A fresh turn's budget.
    pub(crate) fn turn() -> Budget {
        Budget {
            left: TURN,
            started: Instant::now(),
        }
    }

    /// No time inside the turn: everything goes to the pool.
    #[cfg(test)]
    pub(crate) fn none() -> Budget {
        Budget {
            left: Duration::ZERO,
            started: Instant::now(),
        }
    }

    /// The same evaluation time left, with the turn's work time counted from now.
    #[must_use]
    pub(crate) fn restarted(self) -> Budget {
        Budget {
            started: Instant::now(),
            ..self
        }
    }

    /// Whether the turn has used its time: for evaluations, or [`TURN_WORK`] in all.
    pub(crate) fn is_spent(&self) -> bool {
        self.left.is_zero() || self.started.elapsed() >= TURN_WORK
    }

    /// Whether the turn has used its time, or the part of it that began at `part`
    /// has used [`PART_WORK`] (one reading of the clock for both).
    pub(crate) fn is_part_spent(&self, part: Instant) -> bool {
        if self.left.is_zero() {
            return true;
        }
        let now = Instant::now();
        now.saturating_duration_since(self.started) >= TURN_WORK
            || now.saturating_duration_since(part) >= PART_WORK
    }

    /// Runs `job` here under a slice of `limits`, and returns what it returned, or
    /// `None` when it ran into the slice (or the turn had no time left): then the same
    /// work must run off the turn, under `limits`.
    pub(crate) fn inline<T>(
        &mut self,
        limits: &Limits,
        job: impl FnOnce(&Limits) -> T,
    ) -> Option<T> {
        if self.left.is_zero() {
            return None;
        }
        let slice = limits.at_most(SLICE.min(self.left), SLICE_MEMORY);
        let started = Instant::now();
        let (out, hit) = harmonia_expr::watch(|| job(&slice));
        self.left = self.left.saturating_sub(started.elapsed());
        if hit && slice != *limits {
            return None;
        }
        Some(out)
    }
}

/// Runs evaluations off the scheduler's turn, on tokio's blocking pool.
#[derive(Debug, Clone)]
pub(crate) struct Offload {
    permits: Arc<Semaphore>,
}

impl Default for Offload {
    fn default() -> Offload {
        Offload {
            permits: Arc::new(Semaphore::new(MAX_OFFLOADED)),
        }
    }
}

impl Offload {
    /// Runs `job` on the blocking pool once a place is free; `None` if it panicked
    /// (the panic is the caller's to report) or the runtime is shutting down.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        let out = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await;
        out.ok()
    }
}

#[cfg(test)]
mod tests {
    use harmonia_expr::{Context, Program, Val, VarSet};

    use super::*;

    fn eval(src: &str, limits: &Limits) -> Result<serde_json::Value, harmonia_expr::Error> {
        let p = Program::compile(src, VarSet::ALL).expect("compiles");
        p.eval_one(&Context::new(), &Val::null(), limits)
            .and_then(|v| v.to_json(1 << 20))
    }

    #[test]
    fn quick_work_runs_inline_and_slow_work_is_handed_back() {
        let limits = Limits::default();
        // Quick work runs inline. A machine busy enough to stall this thread for a
        // whole slice may hand even `1 + 1` back (rightly: it took too long), so it
        // gets a few fresh turns; what is answered inline is always the answer.
        let in_fresh_turns = |expr: &str| {
            (0..20).find_map(|_| {
                let answer = Budget::turn().inline(&limits, |l| eval(expr, l));
                if answer.is_none() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                answer
            })
        };
        let quick = in_fresh_turns("1 + 1");
        assert_eq!(quick.and_then(Result::ok), Some(serde_json::json!(2)));
        let mut budget = Budget::turn();
        let slow = budget.inline(&limits, |l| eval("[repeat(1)] | length", l));
        assert!(slow.is_none(), "{slow:?}");
        // The slow one used the turn's time: what is left is less than a slice more.
        assert!(budget.left < TURN);
        // Errors that do not depend on the limits are answers, not hand-backs (in a
        // turn of its own: on a loaded machine the slow one may have used all of this
        // turn's time, and then everything is rightly handed back).
        // The same few fresh turns as the quick one: a stalled machine may hand even
        // this back.
        let bad = in_fresh_turns("error(\"no\")");
        assert!(matches!(bad, Some(Err(_))), "{bad:?}");
    }

    #[test]
    fn an_empty_turn_hands_everything_back() {
        let mut budget = Budget::none();
        assert!(budget.inline(&Limits::default(), |_| 1).is_none());
    }

    #[test]
    fn a_slice_as_large_as_the_limits_is_the_answer() {
        // When the limits are no larger than the slice, running into them is final.
        let limits = Limits {
            timeout: Duration::from_micros(100),
            max_memory_bytes: SLICE_MEMORY,
            ..Limits::default()
        };
        let mut budget = Budget::turn();
        let r = budget.inline(&limits, |l| eval("[repeat(1)] | length", l));
        assert!(
            matches!(r, Some(Err(harmonia_expr::Error::Timeout { .. }))),
            "{r:?}"
        );
    }
}
