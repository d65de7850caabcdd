//! Bounds on one evaluation: a deadline, a number of outputs and a size of output.
//!
//! jaq has no fuel or interruption, so the bounds are enforced at the points where control
//! passes through code of ours:
//! - between two outputs of a program (the caller pulls them one by one);
//! - inside every generator of the standard library that can run forever (`range`,
//!   `repeat`, `recurse`, `while`, `until`), which this crate redefines to call a native
//!   `__tick` filter. `__tick` fails once the deadline of the evaluation running on this
//!   thread has passed, and keeps failing, so a `try` cannot swallow it for long;
//! - user-defined recursion is rejected at compile time (see `analyze`), so every loop
//!   an expression can express goes through one of the generators above.
//!
//! What is not bounded: a single built-in step on huge data (say `"x" * 1000000000000`)
//! allocates before any check can run. Values coming in are bounded by the engine's own
//! limits on inputs and task outputs.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// Bounds on one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time an evaluation may take.
    pub timeout: Duration,
    /// Size of the result, measured roughly as its compact JSON text.
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(1),
            max_output_bytes: 16 * 1024 * 1024,
        }
    }
}

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static TICKS: Cell<u32> = const { Cell::new(0) };
}

/// How many ticks pass between two reads of the clock.
const TICKS_PER_CHECK: u32 = 256;

/// Arms the deadline of the evaluation on this thread until dropped.
pub(crate) struct DeadlineGuard {
    previous: Option<Instant>,
}

impl DeadlineGuard {
    pub(crate) fn arm(deadline: Instant) -> DeadlineGuard {
        let previous = DEADLINE.with(|d| d.replace(Some(deadline)));
        TICKS.with(|t| t.set(0));
        DeadlineGuard { previous }
    }
}

impl Drop for DeadlineGuard {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.previous));
    }
}

/// Whether the deadline armed on this thread has passed. Cheap: reads the clock only
/// every [`TICKS_PER_CHECK`] calls, and always once the deadline was found passed.
pub(crate) fn tick_expired() -> bool {
    let Some(deadline) = DEADLINE.with(Cell::get) else {
        return false;
    };
    let n = TICKS.with(|t| {
        let n = t.get().wrapping_add(1);
        t.set(n);
        n
    });
    if !n.is_multiple_of(TICKS_PER_CHECK) {
        return false;
    }
    if Instant::now() >= deadline {
        // Stay expired: make every following tick read the clock and fail.
        TICKS.with(|t| t.set(TICKS_PER_CHECK - 1));
        true
    } else {
        false
    }
}

/// Whether `deadline` has passed (a direct check, between outputs).
pub(crate) fn expired(deadline: Instant) -> bool {
    Instant::now() >= deadline
}
