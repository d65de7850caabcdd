//! Checkpoints off the commit path.
//!
//! In WAL mode a commit appends pages to the `-wal` file; a checkpoint copies them into
//! the database file and (with `synchronous` NORMAL or FULL) syncs both files. Left to
//! itself, SQLite checkpoints inside the commit that takes the WAL past 1,000 pages, so
//! that commit pays for copying everything before it and for two `fsync`s: with big
//! batches, a third of the commit's time (measured by the `commit_throughput` example).
//!
//! So the writer connection has automatic checkpoints off, and the [`Checkpointer`]
//! task runs `PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own instead: when a
//! commit pokes it, at most once per interval. A PASSIVE checkpoint waits for no one: it
//! copies what no reader still needs and leaves the rest for next time, so it never
//! blocks a commit or a read. If the process dies first, nothing is lost: the WAL is
//! part of the database, and the next open (or checkpoint) carries on.
//!
//! The task is owned by the store: [`Checkpointer::stop`] cancels it and waits for it;
//! dropping the store cancels it too (a drop guard).

use std::sync::Mutex;
use std::time::Duration;

use harmonia_storage::Result;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::error::backend;

/// A task that checkpoints the WAL after commits; see the module doc.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    pokes: mpsc::Sender<()>,
    cancel: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
    _guard: DropGuard,
}

impl Checkpointer {
    /// Opens the task's connection with `options` and starts it. Checkpoints are at
    /// least `interval` apart.
    pub(crate) async fn start(
        options: &SqliteConnectOptions,
        interval: Duration,
    ) -> Result<Checkpointer> {
        let conn = options.connect().await.map_err(backend)?;
        let (pokes, rx) = mpsc::channel(1);
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(conn, rx, cancel.clone(), interval));
        Ok(Checkpointer {
            pokes,
            _guard: cancel.clone().drop_guard(),
            cancel,
            task: Mutex::new(Some(task)),
        })
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
    mut conn: SqliteConnection,
    mut pokes: mpsc::Receiver<()>,
    cancel: CancellationToken,
    interval: Duration,
) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            poke = pokes.recv() => if poke.is_none() { break },
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await
        {
            // Nothing is lost: the WAL just stays longer, and the next one retries.
            tracing::warn!(error = %e, "SQLite checkpoint failed");
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
    let _ = conn.close().await;
}
