//! Checkpoints off the commit path.
//!
//! In WAL mode a commit appends pages to the `-wal` file; a checkpoint copies them into
//! the database file and (with `synchronous` NORMAL or FULL) syncs both files. Left to
//! itself, SQLite checkpoints inside the commit that takes the WAL past 1,000 pages, so
//! that commit pays for copying everything before it and for two `fsync`s: with big
//! batches, a third of the commit's time (measured by the `commit_throughput` example).
//!
//! So the writer connection has automatic checkpoints off, and the [`Checkpointer`]
//! task runs `PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own instead: an
//! interval after a commit pokes it, so at most once per interval. It cannot keep the
//! WAL small on its own: SQLite starts the WAL over only when a write begins with all
//! of it copied, and commits back to back land during each of its checkpoints. The
//! execution log's writer thread (`sqlite_log.rs`) checkpoints between its commits for
//! that; this task covers the rest (the writer connection's commits, and a WAL left
//! behind when the commits pause), and copies the bulk of a WAL at once when the log
//! writer urges it (`sqlite_wal.rs`). Its connection is
//! opened for the first checkpoint: a process that commits a little and closes within
//! the interval (`harmonia run` of a small workflow) never opens it, and the checkpoint
//! the last connection makes on closing does the job. A PASSIVE checkpoint waits for no one: it
//! copies what no reader still needs and leaves the rest for next time, so it never
//! blocks a commit or a read. If the process dies first, nothing is lost: the WAL is
//! part of the database, and the next open (or checkpoint) carries on.
//!
//! The task is owned by the store: [`Checkpointer::stop`] cancels it and waits for it;
//! dropping the store cancels it too (a drop guard).

use std::sync::Mutex;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

/// A task that checkpoints the WAL after commits; see the module doc.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    pokes: mpsc::Sender<()>,
    cancel: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
    _guard: DropGuard,
}

impl Checkpointer {
    /// Starts the task, which opens its connection with `options` when it first
    /// checkpoints. Checkpoints are at least `interval` apart, and an `interval` after
    /// the poke that asks for them; one `urgent` asks for comes at once.
    pub(crate) fn start(
        options: &SqliteConnectOptions,
        interval: Duration,
        urgent: mpsc::Receiver<()>,
    ) -> Checkpointer {
        let (pokes, rx) = mpsc::channel(1);
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(options.clone(), rx, urgent, cancel.clone(), interval));
        Checkpointer {
            pokes,
            _guard: cancel.clone().drop_guard(),
            cancel,
            task: Mutex::new(Some(task)),
        }
    }

    /// Asks for a checkpoint soon (after a commit). Never waits: if one is already
    /// asked for, that one will do.
    pub(crate) fn poke(&self) {
        let _ = self.pokes.try_send(());
    }

    /// Stops the task and waits until it has closed its connection.
    pub(crate) async fn stop(&self) {
        self.cancel.cancel();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn run(
    options: SqliteConnectOptions,
    mut pokes: mpsc::Receiver<()>,
    mut urgent: mpsc::Receiver<()>,
    cancel: CancellationToken,
    interval: Duration,
) {
    let mut conn: Option<SqliteConnection> = None;
    // Once the log writer is gone, only pokes are left.
    let mut urged = true;
    'run: loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            poke = pokes.recv() => {
                if poke.is_none() { break }
                // The interval, unless urged meanwhile. The log writer going away (it
                // stops first when the store closes) is no urge: that checkpoint
                // opened a connection for nothing, since the close checkpoints anyway.
                let wait = tokio::time::sleep(interval);
                tokio::pin!(wait);
                loop {
                    tokio::select! {
                        () = cancel.cancelled() => break 'run,
                        () = &mut wait => break,
                        u = urgent.recv(), if urged => {
                            urged = u.is_some();
                            if urged { break }
                        }
                    }
                }
            }
            u = urgent.recv(), if urged => {
                urged = u.is_some();
                if !urged { continue }
            }
        }
        // What was asked for meanwhile, this one does.
        while pokes.try_recv().is_ok() {}
        if conn.is_none() {
            match options.connect().await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    // Nothing is lost: the WAL just stays longer; the next poke retries.
                    tracing::warn!(error = %e, "cannot open the SQLite checkpoint connection");
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(c)
            .await
        {
            // Nothing is lost: the WAL just stays longer, and the next one retries.
            tracing::warn!(error = %e, "SQLite checkpoint failed");
        }
    }
    if let Some(c) = conn {
        let _ = c.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store closing stops the log writer first, which drops the urging end: that
    /// must not be taken for an urge, or the checkpointer opens its connection (and
    /// syncs the files) just before the close's own checkpoint.
    #[tokio::test]
    async fn the_urging_end_going_away_is_no_urge() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("never.db");
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let (urge, urgent) = mpsc::channel(1);
        let checkpointer = Checkpointer::start(&options, Duration::from_secs(60), urgent);
        checkpointer.poke();
        tokio::task::yield_now().await;
        drop(urge);
        // Time for a checkpoint to start, had the dropped end woken it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        checkpointer.stop().await;
        assert!(
            !path.exists(),
            "the checkpointer opened its connection when the urging end went away"
        );
    }
}
