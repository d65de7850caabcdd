//! Bounds on one evaluation: a deadline, a memory budget, a number and size of outputs.
//!
//! jaq has no fuel or interruption, so the bounds are enforced at points where control
//! passes through code of ours. `instrument` rewrites every program (and the standard
//! library it uses) so that each way to loop passes through the native `__tick`:
//! - the body of every definition (every call of a jq-defined builtin, and every step
//!   of a recursion such as `repeat`, `recurse`, `until` or `combinations`);
//! - every element of an iteration `.[]`, and every step of `reduce` and `foreach`;
//! - every number of `range` (a native generator).
//!
//! `__tick` fails once the deadline of the evaluation running on this thread has
//! passed, or once the evaluation has allocated more than its memory budget (net of what
//! it freed), and keeps failing, so a `try` cannot swallow it for long. The deadline is
//! also checked between outputs.
//!
//! Memory is measured with the allocator's per-thread counters. They exist when the
//! program's global allocator is jemalloc (the `harmonia` binary and this workspace's
//! test binaries install it); under another allocator the budget is not enforced and
//! only the deadline holds. A single built-in step allocates before any tick can run;
//! the one step that multiplies the size of a small input, string repetition
//! (`"x" * 1e12`), is checked against the budget before it allocates (`__mul`).
//!
//! Deep recursion: jaq recurses over the structure of programs and of values. Values
//! are kept at most [`crate::MAX_DEPTH`] deep (every array and object an expression
//! builds is checked, see `instrument`), programs are bounded in size and depth (see
//! `shape`), and every evaluation and compilation runs with a large stack
//! ([`with_stack`]); recursion that passes through ticks (definitions, iterations,
//! path updates along a long path) fails cleanly when little of that stack is left.
//!
//! Invariants: the state here is per thread and armed only for the duration of one
//! evaluation (`Armed` restores what was there before, so evaluations may nest).

use std::cell::Cell;
use std::time::{Duration, Instant};

/// Bounds on one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time an evaluation may take.
    pub timeout: Duration,
    /// Size of the result, measured roughly as its compact JSON text.
    pub max_output_bytes: usize,
    /// Memory an evaluation may hold at once (allocated and not yet freed), in bytes.
    pub max_memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(1),
            max_output_bytes: 16 * 1024 * 1024,
            max_memory_bytes: 128 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// These limits, with a deadline and a memory budget no larger than `timeout` and
    /// `memory`.
    #[must_use]
    pub fn at_most(self, timeout: Duration, memory: usize) -> Limits {
        Limits {
            timeout: self.timeout.min(timeout),
            max_memory_bytes: self.max_memory_bytes.min(memory),
            ..self
        }
    }
}

/// Which bound an evaluation ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    /// The deadline.
    Time,
    /// The memory budget.
    Memory,
    /// A value was built nested deeper than [`crate::MAX_DEPTH`].
    Nesting,
    /// The evaluation recursed until little stack was left.
    Stack,
}

/// The stack an evaluation must leave unused when it ticks: room for the recursion
/// that passes no tick (over a value, bounded by [`crate::MAX_DEPTH`], and over the
/// program, bounded by `shape`).
const STACK_RED_ZONE: usize = 8 << 20;

/// The bounds armed on this thread.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    deadline: Instant,
    /// The allocator's net count when the evaluation started, and the most it may add.
    base: i64,
    budget: i64,
    /// Set once a bound was hit: every later tick fails too.
    tripped: Option<Exceeded>,
}

thread_local! {
    static BOUNDS: Cell<Option<Bounds>> = const { Cell::new(None) };
    /// Whether an evaluation on this thread hit its deadline, memory or stack since
    /// [`watch`] last started looking.
    static HIT: Cell<bool> = const { Cell::new(false) };
    static TICKS: Cell<u32> = const { Cell::new(0) };
    static COUNTERS: Option<Counters> = Counters::new();
}

/// The allocator's per-thread counters of bytes allocated and freed.
struct Counters {
    allocated: tikv_jemalloc_ctl::thread::ThreadLocal<u64>,
    deallocated: tikv_jemalloc_ctl::thread::ThreadLocal<u64>,
}

impl Counters {
    fn new() -> Option<Counters> {
        let allocated = tikv_jemalloc_ctl::thread::allocatedp::read().ok()?;
        let deallocated = tikv_jemalloc_ctl::thread::deallocatedp::read().ok()?;
        Some(Counters {
            allocated,
            deallocated,
        })
    }

    /// Bytes allocated and not freed by this thread since it started (may be negative:
    /// a thread can free what another allocated).
    fn net(&self) -> i64 {
        self.allocated.get().wrapping_sub(self.deallocated.get()) as i64
    }
}

fn net_allocated() -> i64 {
    COUNTERS.with(|c| c.as_ref().map_or(0, Counters::net))
}

/// Runs `f` and says whether an evaluation inside it ran into its deadline, its memory
/// budget or the stack: the bounds that depend on how much was granted, as opposed to
/// errors that any limits would give (a type error, a value nested too deeply). A
/// caller that tried an evaluation under tight limits knows from this that it may
/// succeed under the full ones, whatever the evaluation did with the error.
pub fn watch<T>(f: impl FnOnce() -> T) -> (T, bool) {
    let before = HIT.with(|h| h.replace(false));
    let out = f();
    let hit = HIT.with(|h| h.replace(before || h.get()));
    (out, hit)
}

/// Whether memory is measured on this thread (the global allocator keeps counts).
pub fn memory_is_measured() -> bool {
    COUNTERS.with(|c| {
        c.as_ref().is_some_and(|c| {
            let before = c.allocated.get();
            let probe = std::hint::black_box(vec![0u8; 64]);
            drop(probe);
            c.allocated.get() != before
        })
    })
}

/// How many ticks pass between two reads of the clock.
const TICKS_PER_CHECK: u32 = 256;

/// Arms the bounds of the evaluation on this thread until dropped.
pub(crate) struct Armed {
    previous: Option<Bounds>,
}

impl Armed {
    pub(crate) fn arm(deadline: Instant, memory: usize) -> Armed {
        let bounds = Bounds {
            deadline,
            base: net_allocated(),
            budget: i64::try_from(memory).unwrap_or(i64::MAX),
            tripped: None,
        };
        let previous = BOUNDS.with(|b| b.replace(Some(bounds)));
        TICKS.with(|t| t.set(0));
        Armed { previous }
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        BOUNDS.with(|b| b.set(self.previous));
    }
}

/// Records that a bound was hit; every later tick of this evaluation fails too.
pub(crate) fn trip_now(why: Exceeded) {
    if let Some(bounds) = BOUNDS.with(Cell::get) {
        trip(bounds, why);
    }
}

fn trip(mut bounds: Bounds, why: Exceeded) -> Option<Exceeded> {
    if why != Exceeded::Nesting {
        HIT.with(|h| h.set(true));
    }
    bounds.tripped = Some(why);
    BOUNDS.with(|b| b.set(Some(bounds)));
    Some(why)
}

/// Which bound of the evaluation armed on this thread has been hit, if any. Cheap: the
/// memory count is two loads; the clock is read every [`TICKS_PER_CHECK`] calls.
pub(crate) fn tick() -> Option<Exceeded> {
    let bounds = BOUNDS.with(Cell::get)?;
    if bounds.tripped.is_some() {
        return bounds.tripped;
    }
    if net_allocated().saturating_sub(bounds.base) > bounds.budget {
        return trip(bounds, Exceeded::Memory);
    }
    if stacker::remaining_stack().is_some_and(|left| left < STACK_RED_ZONE) {
        return trip(bounds, Exceeded::Stack);
    }
    let n = TICKS.with(|t| {
        let n = t.get().wrapping_add(1);
        t.set(n);
        n
    });
    if n.is_multiple_of(TICKS_PER_CHECK) && Instant::now() >= bounds.deadline {
        return trip(bounds, Exceeded::Time);
    }
    None
}

/// What the evaluation on this thread ran into, once it is over (a direct check).
pub(crate) fn exceeded() -> Option<Exceeded> {
    let bounds = BOUNDS.with(Cell::get)?;
    if bounds.tripped.is_some() {
        return bounds.tripped;
    }
    if Instant::now() >= bounds.deadline {
        HIT.with(|h| h.set(true));
        return Some(Exceeded::Time);
    }
    None
}

/// Whether allocating `bytes` more would exceed the memory budget armed on this thread.
pub(crate) fn would_exceed(bytes: usize) -> bool {
    let Some(bounds) = BOUNDS.with(Cell::get) else {
        return false;
    };
    let used = net_allocated().saturating_sub(bounds.base);
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    used.saturating_add(bytes) > bounds.budget
}

/// The stack an evaluation or a compilation starts with at least: more than the red
/// zone, so that recursion guarded by ticks has room to go deep.
pub(crate) const STACK_NEEDED: usize = 32 << 20;
/// The stack a thread that evaluates expressions is given (reserved, not committed):
/// twice [`STACK_NEEDED`], so that an evaluation on it never maps a segment of its own.
/// On a smaller stack every evaluation maps and unmaps [`STACK_SEGMENT`], which costs
/// tens of microseconds.
pub const THREAD_STACK: usize = 2 * STACK_NEEDED;
/// The size of the stack segment allocated when the current one has less left.
pub(crate) const STACK_SEGMENT: usize = 256 << 20;

/// Runs `f` with at least [`STACK_NEEDED`] of stack: on this stack when it has that
/// much left (the `harmonia` binary's threads do), on a new segment otherwise.
pub(crate) fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(STACK_NEEDED, STACK_SEGMENT, f)
}
