//! Keeping SQLite's WAL small while commits come back to back: when the log writer
//! (`sqlite_log.rs`) asks for checkpoints, and the one it makes itself.
//!
//! SQLite starts the WAL over (writes from its start again, over pages already on
//! disk) only when a write transaction begins with the whole WAL copied into the
//! database file. The background checkpointer (`checkpoint.rs`) copies beside the
//! commits, so while they come back to back, commits land during each of its
//! checkpoints and that moment never comes: the `-wal` file grew by every commit
//! (58 MB after 2,000 steps) until the commits paused. A commit that overwrites the WAL
//! also costs less than one that appends to it: no new pages in the kernel's cache, and
//! with `synchronous = FULL` no change of the file's size or blocks for its flush.
//!
//! So the WAL goes through a cycle, which [`Cadence`] drives from the frame counts the
//! connection's WAL hook reports after each commit:
//! 1. Once the WAL has grown by [`CHECKPOINT_FRAMES`] since it started over, the log
//!    writer urges the background checkpointer, which copies the bulk beside the
//!    commits (and flushes both files) at once rather than after its interval.
//! 2. [`FINISH_FRAMES`] later, the log writer checkpoints itself, between two commits:
//!    it copies only what came after the bulk, and nothing commits meanwhile, so the
//!    whole WAL is copied (unless a reader still needs some of it) and the next commit
//!    starts the WAL over. If the background checkpoint still runs, SQLite says busy
//!    and the log writer tries again [`FINISH_FRAMES`] later.
//!
//! Measured under `scripts/bench-api.sh`'s `POST .../execute` load, a log writer that
//! copied all of a cycle itself spent a median 3.6 ms per checkpoint, 15% of its time,
//! with commits waiting.
//!
//! Invariants: the hook runs on the thread that commits on the log's connection (the
//! log writer's thread, or the engine's scheduler thread committing there, see
//! `sqlite_log.rs`), and that same thread reads [`frames`] right after the commit;
//! every checkpoint here is PASSIVE, which waits for no reader and no writer.

use std::cell::Cell;
use std::ffi::c_int;

use rusqlite::Connection;

/// Frames (pages) the WAL grows by before a cycle's checkpoints: 2 MiB of 4 KiB pages,
/// about 95 steps of a sequential workflow. Each cycle opens the checkpointer's
/// connection once, runs two checkpoints and flushes both files twice, and a longer
/// cycle copies a page the steps keep changing (a leaf of the log's B-trees) once for
/// more of its versions: against 256 frames, a chain of 1,000 separate attempts took
/// 1 to 6% less CPU with `synchronous = NORMAL` and 7% less time with `FULL`
/// (docs/performance.md). 1,024 frames took less CPU again, but more time with `FULL`:
/// each new WAL's first cycle is made room for with zeros, flushed once, and a longer
/// cycle flushes more of them before its commits write over what the file has. Many
/// more, and the WAL outgrows the kernel's cache of it.
pub(crate) const CHECKPOINT_FRAMES: i32 = 512;

/// Frames between urging the background checkpointer and finishing its work: a few
/// commits of a sequential workflow, time for the bulk to be copied.
pub(crate) const FINISH_FRAMES: i32 = 32;

/// Commits of a cycle's largest size a cycle holds at least. A big turn's parts (a
/// fan-out of 100,000 items commits some 600 frames a part) each made a whole cycle
/// of 512 frames: the log writer's own checkpoint, which waits for its flush of both
/// files with nothing committed meanwhile, then came after every part, and carried
/// half of all that was written. With a cycle of eight parts, it carries about an
/// eighth, and the writer blocks an eighth as often.
const COMMITS_PER_CYCLE: i32 = 8;

/// The longest cycle, in frames: 32 MiB of 4 KiB pages.
const MAX_CYCLE_FRAMES: i32 = 8_192;

thread_local! {
    /// The frames in the WAL after the last commit of this thread's connection, as its
    /// WAL hook reports them.
    static WAL_FRAMES: Cell<i32> = const { Cell::new(0) };
}

/// Sets the hook that counts frames on `conn`. After any `wal_autocheckpoint` pragma,
/// which replaces the hook.
pub(crate) fn count_frames(conn: &Connection) {
    conn.wal_hook(Some(on_commit));
}

/// The WAL hook: SQLite calls it after each commit with the frames the WAL holds.
fn on_commit(_: &rusqlite::hooks::Wal, frames: c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.with(|f| f.set(frames));
    Ok(())
}

/// The frames in the WAL after this thread's last commit.
pub(crate) fn frames() -> i32 {
    WAL_FRAMES.with(Cell::get)
}

/// What to do after a commit; see [`Cadence::after_commit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Nothing,
    /// Ask the background checkpointer to copy the bulk now.
    Urge,
    /// Checkpoint on this connection, between commits.
    Finish,
}

/// Where the WAL is in its cycle (see the module doc), from the frame counts alone.
///
/// A cycle is [`CHECKPOINT_FRAMES`] long, or [`COMMITS_PER_CYCLE`] of its largest
/// commit when that is longer (up to [`MAX_CYCLE_FRAMES`]): big commits get a longer
/// cycle, so that the checkpoint the writer waits for comes after several of them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cadence {
    /// The frame count at which the cycle began.
    start: i32,
    /// The frame count after the last commit.
    last: i32,
    /// The frames the largest commit of the cycle added (counted from the frames after
    /// the commit before it on this connection, so with any other connection's commit
    /// in between).
    largest: i32,
    /// The count at which to finish the cycle, once it has begun.
    finish_at: Option<i32>,
}

impl Cadence {
    /// The frame count at which the cycle's checkpoints begin.
    fn due(&self) -> i32 {
        let cycle = self
            .largest
            .saturating_mul(COMMITS_PER_CYCLE)
            .clamp(CHECKPOINT_FRAMES, MAX_CYCLE_FRAMES);
        self.start.saturating_add(cycle)
    }

    /// What to do now that a commit left `frames` frames in the WAL.
    pub(crate) fn after_commit(&mut self, frames: i32) -> Action {
        let added = if frames >= self.last {
            frames - self.last
        } else {
            frames
        };
        self.last = frames;
        if frames < self.start {
            // The WAL started over: a new cycle, counted from here.
            self.start = frames;
            self.largest = 0;
            self.finish_at = None;
        }
        self.largest = self.largest.max(added);
        match self.finish_at {
            None if frames >= self.due() => {
                self.finish_at = Some(frames.saturating_add(FINISH_FRAMES));
                Action::Urge
            }
            Some(at) if frames >= at => Action::Finish,
            _ => Action::Nothing,
        }
    }

    /// After a [`Action::Finish`]: `busy`, another connection was checkpointing (try
    /// again a little later); else the cycle is over, and the next is due a full cycle
    /// on (or sooner, from where the WAL starts over).
    pub(crate) fn finished(&mut self, frames: i32, busy: bool) {
        if busy {
            self.finish_at = Some(frames.saturating_add(FINISH_FRAMES));
        } else {
            self.start = frames;
            self.largest = 0;
            self.finish_at = None;
        }
    }
}

/// The log writer's own checkpoint: PASSIVE, so it waits for no one. Whether another
/// connection's checkpoint was running (SQLite's busy flag); a failure is logged and
/// counts as done, for the next cycle to retry.
pub(crate) fn finish(conn: &Connection) -> bool {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0)) {
        Ok(busy) => busy != 0,
        Err(e) => {
            tracing::debug!(error = %e, "the SQLite log writer's checkpoint failed");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits of five frames each (a step of a sequential workflow) from `from` up to
    /// `to`; the actions they got other than nothing, with the frames they left.
    fn steps(c: &mut Cadence, from: i32, to: i32) -> Vec<(i32, Action)> {
        (from / 5 + 1..=to / 5)
            .map(|n| (n * 5, c.after_commit(n * 5)))
            .filter(|(_, a)| *a != Action::Nothing)
            .collect()
    }

    /// Steps up to the cycle's finish: urged at the first commit past
    /// [`CHECKPOINT_FRAMES`], finished [`FINISH_FRAMES`] later. The frames then.
    fn to_finish(c: &mut Cadence) -> i32 {
        assert_eq!(steps(c, 0, CHECKPOINT_FRAMES - 2), vec![]);
        assert_eq!(c.after_commit(515), Action::Urge);
        assert_eq!(steps(c, 515, 545), vec![]);
        assert_eq!(c.after_commit(550), Action::Finish);
        550
    }

    #[test]
    fn a_cycle_urges_then_finishes_then_starts_over() {
        let mut c = Cadence::default();
        let at = to_finish(&mut c);
        c.finished(at, false);
        // The WAL started over: the next cycle is counted from its new start.
        assert_eq!(steps(&mut c, 0, 515), vec![]);
        assert_eq!(c.after_commit(520), Action::Urge);
    }

    #[test]
    fn a_busy_finish_is_tried_again_a_little_later() {
        let mut c = Cadence::default();
        let at = to_finish(&mut c);
        c.finished(at, true);
        assert_eq!(steps(&mut c, at, at + FINISH_FRAMES), vec![]);
        assert_eq!(c.after_commit(at + FINISH_FRAMES + 3), Action::Finish);
    }

    #[test]
    fn big_commits_get_a_cycle_of_several_of_them() {
        let mut c = Cadence::default();
        let part = 600;
        for n in 1..COMMITS_PER_CYCLE {
            assert_eq!(c.after_commit(n * part), Action::Nothing, "commit {n}");
        }
        assert_eq!(c.after_commit(COMMITS_PER_CYCLE * part), Action::Urge);
        let at = (COMMITS_PER_CYCLE + 1) * part;
        assert_eq!(c.after_commit(at), Action::Finish);
        c.finished(at, false);
        // Started over: the next cycle is as long again.
        assert_eq!(c.after_commit(part), Action::Nothing);
        assert_eq!(c.after_commit(2 * part), Action::Nothing);
        // And no longer than the longest: a huge commit urges at once.
        let mut c = Cadence::default();
        assert_eq!(c.after_commit(MAX_CYCLE_FRAMES), Action::Urge);
    }

    #[test]
    fn a_wal_a_reader_keeps_from_starting_over_gets_a_cycle_per_growth() {
        let mut c = Cadence::default();
        let at = to_finish(&mut c);
        c.finished(at, false);
        // Not started over (a reader): the next cycle a full cycle on.
        assert_eq!(steps(&mut c, at, at + CHECKPOINT_FRAMES - 5), vec![]);
        assert_eq!(c.after_commit(at + CHECKPOINT_FRAMES), Action::Urge);
    }
}
