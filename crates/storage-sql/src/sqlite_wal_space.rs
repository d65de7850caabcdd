//! Room in SQLite's `-wal` file made ahead of the log's commits, so that they write
//! over blocks the file already has instead of growing it.
//!
//! A commit that appends to a file costs the kernel new pages in its cache and new
//! blocks on disk, and with `synchronous = FULL` its `fdatasync` must also carry the
//! file's new size and blocks (a journal commit) besides the data: measured on the
//! development machine, four frames written as SQLite writes them and flushed took 169
//! to 187 µs at the end of a file, and 93 to 114 µs over blocks already written and
//! flushed. The WAL is written over once
//! its cycle has started it over (see `sqlite_wal.rs`), but a new database's WAL, and
//! every WAL after the store reopens (the last connection out deletes it), starts
//! empty: its whole first cycle, some sixty steps of a sequential workflow, was
//! appends. So from its [`STEADY`]th commit on (a connection writing steadily), the log
//! writer writes zeros past the WAL's end whenever the next commits would reach it,
//! doubling it each time up to one cycle's size ([`cap`]); SQLite's frames then land on
//! blocks already there, and one flush in many carries the file's growth.
//!
//! Invariants:
//! - Zeros are written only at or past the file's size as read just before, and only
//!   inside a write transaction of the log's connection (`BEGIN IMMEDIATE` holds the
//!   WAL's write lock, in every process): no frame is being written meanwhile, and every
//!   frame ever written lies below that size, so no frame is overwritten. What lies
//!   past the last valid frame is ignored by SQLite's readers and by its recovery, which
//!   stops at the first frame whose salt and checksum do not follow (zeros never do).
//! - The `-wal` file is never created here, and the handle to it stays open as long as
//!   the log's connection: SQLite takes no file lock on the `-wal` file, and closing
//!   a handle would release this process's locks on no other file.
//! - Making room is best effort: a failure is logged once and the WAL grows as SQLite
//!   writes it, as before.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use crate::sqlite_wal::{CHECKPOINT_FRAMES, FINISH_FRAMES};

/// The WAL's header: 32 bytes before the first frame.
const HEADER: u64 = 32;

/// A frame's header, before the page it carries.
const FRAME_HEADER: u64 = 24;

/// The commits on the log's connection before room is made: the WAL of a short run
/// (a one-task `harmonia run` makes one commit there) grows as SQLite writes it, and
/// gets no room it would not use.
pub(crate) const STEADY: u32 = 4;

/// Room the next commits should find past the WAL's end before it is made larger: a
/// step of a sequential workflow writes four or five frames.
const MARGIN_FRAMES: u64 = 16;

/// Zeros written per call.
static ZEROS: [u8; 64 << 10] = [0; 64 << 10];

/// The `-wal` file's room; see the module doc.
#[derive(Debug)]
pub(crate) struct WalSpace {
    path: PathBuf,
    /// A frame's size (the database's page size and the frame's header), read when
    /// room is first considered: a short run never asks.
    frame: Option<u64>,
    /// The handle, opened when room is first made; `Err` once that failed.
    file: Option<Result<File, ()>>,
    /// The file's size as last known here (it only grows while the log's connection
    /// is open, except past 64 MiB, SQLite's `journal_size_limit` here).
    known: u64,
    /// Commits begun on the connection, up to [`STEADY`].
    commits: u32,
}

/// The size room is made up to: one cycle of the WAL, with some to spare.
pub(crate) fn cap(frame: u64) -> u64 {
    let frames = (CHECKPOINT_FRAMES + 2 * FINISH_FRAMES) as u64;
    HEADER + frames * frame
}

impl WalSpace {
    /// For the database SQLite names `db` (its `-wal` file is that name and `-wal`).
    pub(crate) fn new(db: PathBuf) -> WalSpace {
        let mut path = db.into_os_string();
        path.push("-wal");
        WalSpace {
            path: PathBuf::from(path),
            frame: None,
            file: None,
            known: 0,
            commits: 0,
        }
    }

    /// Where the next commit's room should reach, the WAL holding `frames` frames of
    /// `frame` bytes, or `None` when nothing is to be made: the WAL is past a cycle, or
    /// the room is already there as far as is known here.
    fn wanted(&self, frames: u64, frame: u64) -> Option<u64> {
        let used = HEADER + frames * frame;
        let cap = cap(frame);
        if used + MARGIN_FRAMES * frame > cap || used + MARGIN_FRAMES * frame <= self.known {
            return None;
        }
        Some((2 * used).clamp(used + MARGIN_FRAMES * frame, cap))
    }

    /// A commit begins: makes room past the WAL's end if the connection writes
    /// steadily and the next commits need it, the WAL holding `frames` frames after the
    /// connection's last commit; `page_size` reads the database's page size, once. The
    /// caller's connection holds a write transaction (see the module doc).
    pub(crate) fn reserve(&mut self, frames: u64, page_size: impl FnOnce() -> u64) {
        self.commits = self.commits.saturating_add(1).min(STEADY);
        if self.commits < STEADY {
            return;
        }
        let frame = *self.frame.get_or_insert_with(|| page_size() + FRAME_HEADER);
        let Some(want) = self.wanted(frames, frame) else {
            return;
        };
        let file = match &self.file {
            Some(Ok(file)) => file,
            Some(Err(())) => return,
            None => {
                let opened = OpenOptions::new().write(true).open(&self.path);
                let file = self.file.insert(opened.map_err(|e| {
                    tracing::debug!(error = %e, "cannot open the WAL to make room in it");
                }));
                match file {
                    Ok(file) => file,
                    Err(()) => return,
                }
            }
        };
        match extend(file, want) {
            Ok(size) => self.known = size,
            Err(e) => {
                tracing::debug!(error = %e, "cannot make room in the WAL");
                self.file = Some(Err(()));
            }
        }
    }
}

/// Writes zeros from `file`'s end up to `want` bytes, if it is shorter; its size after.
fn extend(file: &File, want: u64) -> std::io::Result<u64> {
    let mut at = file.metadata()?.len();
    while at < want {
        let n = (want - at).min(ZEROS.len() as u64) as usize;
        file.write_all_at(&ZEROS[..n], at)?;
        at += n as u64;
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: u64 = 4096 + FRAME_HEADER;

    fn space() -> WalSpace {
        WalSpace::new(PathBuf::from("/nonexistent/x.db"))
    }

    #[test]
    fn the_first_commits_leave_the_wal_to_grow_and_ask_nothing() {
        let mut s = space();
        for _ in 1..STEADY {
            s.reserve(5, || panic!("the page size asked for"));
        }
        // The next commit asks, and would make room (the file is missing here).
        let mut asked = false;
        s.reserve(5, || {
            asked = true;
            4096
        });
        assert!(asked);
        assert_eq!(
            s.wanted(5, FRAME),
            Some(HEADER + (5 + MARGIN_FRAMES) * FRAME)
        );
    }

    #[test]
    fn room_doubles_the_wal_up_to_a_cycle() {
        let mut s = space();
        let frames = 20;
        let used = HEADER + frames * FRAME;
        assert_eq!(s.wanted(frames, FRAME), Some(2 * used));
        s.known = 2 * used;
        // Room enough for the next commits: nothing to do, and no system call.
        assert_eq!(s.wanted(frames + 4, FRAME), None);
        let near = (2 * used - HEADER) / FRAME - MARGIN_FRAMES + 1;
        assert_eq!(s.wanted(near, FRAME), Some(2 * (HEADER + near * FRAME)));
        let late = (cap(FRAME) - HEADER) / FRAME - MARGIN_FRAMES - 10;
        assert_eq!(s.wanted(late, FRAME), Some(cap(FRAME)));
    }

    #[test]
    fn a_wal_past_its_cycle_is_left_to_grow() {
        let s = space();
        assert_eq!(
            s.wanted((CHECKPOINT_FRAMES + 2 * FINISH_FRAMES) as u64, FRAME),
            None
        );
    }

    #[test]
    fn zeros_go_past_the_end_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db-wal");
        std::fs::write(&path, [7u8; 100]).unwrap();
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        assert_eq!(extend(&file, 200_000).unwrap(), 200_000);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 200_000);
        assert!(bytes[..100].iter().all(|&b| b == 7));
        assert!(bytes[100..].iter().all(|&b| b == 0));
        // Never shorter: a file already longer is left as it is.
        assert_eq!(extend(&file, 50).unwrap(), 200_000);
    }

    #[test]
    fn a_missing_wal_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = WalSpace::new(dir.path().join("x.db"));
        for _ in 0..STEADY {
            s.reserve(100, || 4096);
        }
        assert!(!dir.path().join("x.db-wal").exists());
        assert!(matches!(s.file, Some(Err(()))));
    }
}
