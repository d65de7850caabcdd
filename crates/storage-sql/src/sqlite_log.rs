//! SQLite's log writer: a thread of its own, with a connection of its own, that writes
//! a commit of the execution log in one trip.
//!
//! sqlx runs each SQLite statement on its connection's worker thread and sends every
//! result back through a channel: a commit of five statements inside `BEGIN` and
//! `COMMIT` is seven trips between threads, each a wake-up of both (about 25 context
//! switches), which cost far more than SQLite's own work for a small batch. The
//! engine commits once per step, so that cost is the engine's cost per step.
//!
//! Here the caller encodes the batch (see `write.rs`), then hands the statements to
//! this thread, which runs the whole transaction (`BEGIN IMMEDIATE`, the fence check,
//! every statement, `COMMIT`) with prepared statements it keeps, and answers once:
//! two wake-ups per commit. It takes the batches the common case is made of: fences
//! and no idempotency records. When a fence does not match it rolls back and says so
//! ([`Outcome::Fenced`]); the caller then commits through the pools, where the shared
//! decision (`commit::decide`) says what is left out.
//!
//! A caller with a thread of its own that does nothing else while it waits for a
//! commit (the engine's scheduler) can skip even those two wake-ups:
//! [`LogWriter::commit_here`] runs the same transaction on the calling thread with the
//! thread's connection, which a mutex lends to one of them at a time. Measured with the
//! `commit_step` example, the trip to the thread and back cost more than the commit
//! itself (about 110 µs around 70 µs of SQLite's work, with `synchronous = NORMAL`).
//!
//! It also keeps the WAL small: after a commit, the frame count it leaves says when to
//! urge the background checkpointer and when to finish its work between two commits
//! (see `sqlite_wal.rs`). And inside each commit's transaction, before its statements,
//! it makes room past the WAL's end for the commits to come (see
//! `sqlite_wal_space.rs`). Its connection opens the file on the VFS of
//! `sqlite_vfs.rs`, which writes a commit's WAL frames in one system call.
//!
//! Invariants:
//! - The thread's connection has the settings of the store's writer (`synchronous`,
//!   foreign keys, busy timeout) but SQLite's automatic checkpoints, which would run
//!   inside a commit, before its answer; its checkpoints run between commits.
//! - The caller holds the store's write gate (see `store.rs`) while the thread (or
//!   the caller itself) commits, as every use of the writer connection does: writes
//!   stay serialized in this process, and neither connection waits on SQLite's busy
//!   handler for the other. So the mutex around the connection is always free when
//!   taken.
//! - A transaction that fails is rolled back before the answer goes out; nothing of it
//!   is written.
//! - [`LogWriter::stop`] (the store closing) copies the WAL into the database file
//!   on this connection, then closes it and waits for the thread; dropping the writer
//!   lets the thread finish on its own. This connection has synced the WAL before
//!   (its first commit of a WAL did, which synced the directory too, once per
//!   connection); the close's checkpoint on the store's last connection to close,
//!   which had not, synced the directory again, and now finds nothing left to copy.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harmonia_storage::{Error, Result};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use sqlx::migrate::Migrator;
use tokio::sync::oneshot;

use crate::dialect::Value;
use crate::sqlite_wal::{self, Action, Cadence};
use crate::sqlite_wal_space::WalSpace;
use crate::write::Table;

/// Execution ids looked up per fence query.
const LOOKUPS: usize = 500;

/// Prepared statements the connection keeps (each table's statement shapes, eighteen
/// at most, see `write.rs`, and the fence queries).
const STATEMENT_CACHE: usize = 192;

/// What the thread did with a commit.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Written and committed.
    Committed,
    /// A fence did not match its stored row (or the row is missing): nothing was
    /// written; the caller decides through the pools.
    Fenced,
    /// The connection is closed: nothing was written.
    Stopped,
    /// A statement failed (`table`: which one's, if one did); nothing was written.
    Failed {
        table: Option<Table>,
        unique: bool,
        error: rusqlite::Error,
    },
}

/// An encoded commit: the fences to check, then the statements.
struct Job {
    fences: Vec<(String, i64)>,
    statements: Vec<(Table, Cow<'static, str>, Vec<Value>)>,
    reply: oneshot::Sender<Outcome>,
}

/// The settings of the connection, as the store's writer has them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) synchronous_full: bool,
    pub(crate) busy_timeout: Duration,
    pub(crate) cache_kib: i64,
    pub(crate) journal_size_limit: i64,
}

/// What a database file the log writer opens first needs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fresh {
    /// Nothing: it was there.
    No,
    /// It is new and empty: the schema of these migrations (see `sqlite_schema`).
    Empty(&'static Migrator),
    /// It is new, from the schema image (see `sqlite_image`): its migrations' record
    /// gets the time.
    Image,
}

/// The log's connection and where its WAL is in its cycle: the thread's, lent to
/// [`LogWriter::commit_here`].
struct Log {
    conn: Connection,
    cadence: Cadence,
    urge: tokio::sync::mpsc::Sender<()>,
    /// Room made in the `-wal` file ahead of the commits (see `sqlite_wal_space.rs`).
    space: WalSpace,
    /// The frames in the WAL after this connection's last commit.
    frames: i32,
}

impl Log {
    /// Commits, then does what the WAL's cycle asks (see `sqlite_wal.rs`), on the
    /// calling thread (the one whose WAL hook counted the frames).
    fn commit(&mut self, fences: &[(String, i64)], statements: Statements) -> Outcome {
        let outcome = commit(
            &mut self.conn,
            fences,
            statements,
            &mut self.space,
            self.frames,
        );
        let frames = sqlite_wal::frames();
        self.frames = frames;
        match self.cadence.after_commit(frames) {
            Action::Nothing => {}
            // Full: a checkpoint is already asked for.
            Action::Urge => {
                let _ = self.urge.try_send(());
            }
            Action::Finish => self
                .cadence
                .finished(frames, sqlite_wal::finish(&self.conn)),
        }
        outcome
    }
}

type Statements = Vec<(Table, Cow<'static, str>, Vec<Value>)>;

/// The thread and the way to it; see the module doc.
pub(crate) struct LogWriter {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// The connection, `None` once closed. The thread holds it while it commits, and so
    /// does [`LogWriter::commit_here`]: both under the write gate, so it is free.
    log: Arc<Mutex<Option<Log>>>,
    closed: tokio::sync::Mutex<Option<oneshot::Receiver<()>>>,
    /// Set by [`LogWriter::stop`]: the thread checkpoints before it closes.
    stopping: Arc<AtomicBool>,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter").finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Opens a connection to the database at `path` on a new thread, and waits until
    /// it is ready, having first done what `fresh` says a new file needs. `urge` asks
    /// the background checkpointer to checkpoint now (see `sqlite_wal.rs`).
    pub(crate) async fn open(
        path: &Path,
        settings: Settings,
        fresh: Fresh,
        urge: tokio::sync::mpsc::Sender<()>,
    ) -> Result<LogWriter> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready, is_ready) = oneshot::channel::<Result<()>>();
        let (closed_tx, closed) = oneshot::channel();
        let path = path.to_owned();
        let log = Arc::new(Mutex::new(None));
        let shared = log.clone();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop_asked = stopping.clone();
        std::thread::Builder::new()
            .name("sqlite-log".into())
            .spawn(move || {
                let mut conn = match connect(&path, settings) {
                    Ok(conn) => conn,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                match fresh {
                    Fresh::No => {}
                    Fresh::Empty(migrator) => crate::sqlite_schema::create(&mut conn, migrator),
                    // Informational only (sqlx reads the checksums): the image's record
                    // has a fixed time. Left as it is if this fails.
                    Fresh::Image => {
                        if let Err(e) = conn.execute(
                            "UPDATE _sqlx_migrations SET installed_on = CURRENT_TIMESTAMP",
                            [],
                        ) {
                            tracing::debug!(error = %e, "cannot date the migrations of a new database");
                        }
                    }
                }
                // SQLite's own name for the file (symbolic links resolved), to which it
                // adds `-wal`.
                let db = conn.path().map(std::path::PathBuf::from).unwrap_or(path);
                let space = WalSpace::new(db);
                if let Ok(mut slot) = shared.lock() {
                    *slot = Some(Log {
                        conn,
                        cadence: Cadence::default(),
                        urge,
                        space,
                        frames: 0,
                    });
                }
                let _ = ready.send(Ok(()));
                while let Ok(job) = rx.recv() {
                    let outcome = match shared.lock() {
                        Ok(mut slot) => match slot.as_mut() {
                            Some(log) => log.commit(&job.fences, job.statements),
                            None => Outcome::Stopped,
                        },
                        Err(_) => Outcome::Stopped,
                    };
                    let _ = job.reply.send(outcome);
                }
                let log = shared.lock().ok().and_then(|mut slot| slot.take());
                if let Some(log) = &log
                    && stop_asked.load(Ordering::Acquire)
                {
                    sqlite_wal::finish(&log.conn);
                }
                if let Some(log) = log
                    && let Err((_, e)) = log.conn.close()
                {
                    tracing::warn!(error = %e, "closing the SQLite log writer's connection failed");
                }
                let _ = closed_tx.send(());
            })
            .map_err(|e| Error::Backend(Box::new(e)))?;
        is_ready
            .await
            .map_err(|_| Error::Backend("the SQLite log writer did not start".into()))??;
        Ok(LogWriter {
            jobs: Mutex::new(Some(jobs)),
            log,
            closed: tokio::sync::Mutex::new(Some(closed)),
            stopping,
        })
    }

    /// Commits `statements` if every one of `fences` (execution id, fence) matches the
    /// stored row; see [`Outcome`].
    pub(crate) async fn commit(
        &self,
        fences: Vec<(String, i64)>,
        statements: Vec<(Table, Cow<'static, str>, Vec<Value>)>,
    ) -> Result<Outcome> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            fences,
            statements,
            reply,
        };
        let sent = match self.jobs.lock() {
            Ok(jobs) => jobs.as_ref().is_some_and(|j| j.send(job).is_ok()),
            Err(_) => false,
        };
        if !sent {
            return Err(stopped());
        }
        answer.await.map_err(|_| stopped())
    }

    /// Commits as [`LogWriter::commit`] does, but on the calling thread, blocking it:
    /// no trip to the log writer's thread and back (two wake-ups, about as long as a
    /// small commit itself). For a thread that does nothing else meanwhile; the caller
    /// holds the write gate.
    pub(crate) fn commit_here(&self, fences: &[(String, i64)], statements: Statements) -> Outcome {
        match self.log.lock() {
            Ok(mut slot) => match slot.as_mut() {
                Some(log) => log.commit(fences, statements),
                None => Outcome::Stopped,
            },
            Err(_) => Outcome::Stopped,
        }
    }

    /// Stops the thread once the commits sent are done, and waits until it has
    /// checkpointed (PASSIVE: what no reader still needs) and closed its connection.
    pub(crate) async fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(closed) = self.closed.lock().await.take() {
            let _ = closed.await;
        }
    }
}

fn stopped() -> Error {
    Error::Backend("the SQLite log writer has stopped".into())
}

fn connect(path: &Path, settings: Settings) -> Result<Connection> {
    let backend = |e: rusqlite::Error| Error::Backend(Box::new(e));
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    // A commit's WAL frames in one write (see `sqlite_vfs.rs`).
    let conn = match crate::sqlite_vfs::name() {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs),
        None => Connection::open_with_flags(path, flags),
    }
    .map_err(backend)?;
    conn.busy_timeout(settings.busy_timeout).map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let pragmas = format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; \
         PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = {}; PRAGMA journal_size_limit = {};",
        if settings.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        },
        settings.cache_kib,
        settings.journal_size_limit,
    );
    conn.execute_batch(&pragmas).map_err(backend)?;
    sqlite_wal::count_frames(&conn);
    Ok(conn)
}

/// The database's page size (SQLite's default if it cannot be read).
fn page_size(conn: &Connection) -> u64 {
    conn.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
        .ok()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(4096)
}

/// Runs one commit in a transaction of its own; see [`Outcome`]. Inside it, before the
/// statements, makes room in the WAL for the commits to come (`frames`: the WAL's
/// frames after the connection's last commit), while the transaction holds the WAL's
/// write lock.
fn commit(
    conn: &mut Connection,
    fences: &[(String, i64)],
    statements: Vec<(Table, Cow<'static, str>, Vec<Value>)>,
    space: &mut WalSpace,
    frames: i32,
) -> Outcome {
    let failed = |table, error: rusqlite::Error| Outcome::Failed {
        table,
        unique: is_unique_violation(&error),
        error,
    };
    // Dropped unfinished, the transaction rolls back.
    let tx = match Transaction::begin(conn) {
        Ok(tx) => tx,
        Err(e) => return failed(None, e),
    };
    space.reserve(u64::try_from(frames).unwrap_or(0), || page_size(tx.conn));
    match fences_hold(tx.conn, fences) {
        Ok(true) => {}
        Ok(false) => return Outcome::Fenced,
        Err(e) => return failed(None, e),
    }
    for (table, text, values) in statements {
        let text = match table {
            Table::Events => rolling_back_on_conflict(text),
            _ => text,
        };
        if let Err(e) = execute(tx.conn, &text, values) {
            return failed(Some(table), e);
        }
    }
    match tx.commit() {
        Ok(()) => Outcome::Committed,
        Err(e) => failed(None, e),
    }
}

/// A write transaction whose `BEGIN IMMEDIATE` and `COMMIT` are prepared once per
/// connection (the statement cache), where rusqlite's own transaction parses both
/// again at every commit: about a thirtieth of a one-step commit. Dropped before
/// [`Transaction::commit`] succeeds, it rolls back.
struct Transaction<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Transaction<'c> {
    fn begin(conn: &'c Connection) -> rusqlite::Result<Transaction<'c>> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.raw_execute()?;
        Ok(Transaction { conn, open: true })
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        self.conn.prepare_cached("COMMIT")?.raw_execute()?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        // A failed COMMIT may leave the transaction open (SQLite's busy case); a
        // failed statement leaves it open. Either way nothing of it is kept.
        if self.open && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Whether every execution of `fences` has its row, with that fence.
fn fences_hold(conn: &Connection, fences: &[(String, i64)]) -> rusqlite::Result<bool> {
    let mut stored: HashMap<String, i64> = HashMap::with_capacity(fences.len());
    for chunk in fences.chunks(LOOKUPS) {
        let mut sql = String::from("SELECT id, fence FROM executions WHERE id IN (");
        for i in 0..chunk.len() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
        }
        sql.push(')');
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(chunk.iter().map(|(id, _)| id)))?;
        while let Some(row) = rows.next()? {
            stored.insert(row.get(0)?, row.get(1)?);
        }
    }
    Ok(fences
        .iter()
        .all(|(id, fence)| stored.get(id) == Some(fence)))
}

/// An `INSERT` that, should it violate a constraint, rolls the whole transaction back
/// itself (`INSERT OR ROLLBACK`), where a plain one undoes only its own rows. Any
/// failure rolls this connection's whole commit back anyway, and the difference is
/// what SQLite does beforehand: a statement that writes several rows and could stop
/// halfway copies every page it changes into a statement journal first, so as to undo
/// just itself. An events insert no longer can, so a step's commit copies two pages
/// fewer. Other statements pass unchanged (an upsert's `DO UPDATE` always undoes
/// itself alone).
fn rolling_back_on_conflict(text: Cow<'static, str>) -> Cow<'static, str> {
    match text.strip_prefix("INSERT INTO ") {
        Some(rest) => Cow::Owned(format!("INSERT OR ROLLBACK INTO {rest}")),
        None => text,
    }
}

fn execute(conn: &Connection, text: &str, values: Vec<Value>) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(text)?;
    for (i, value) in values.into_iter().enumerate() {
        match value {
            Value::Int(v) => stmt.raw_bind_parameter(i + 1, v)?,
            Value::Text(v) => stmt.raw_bind_parameter(i + 1, v)?,
            Value::Shared(v) => stmt.raw_bind_parameter(i + 1, &*v)?,
        }
    }
    stmt.raw_execute()?;
    Ok(())
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == ErrorCode::ConstraintViolation
                && matches!(
                    f.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                        | rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &str) -> Value {
        Value::Text(Some(v.to_owned()))
    }

    #[test]
    fn only_a_plain_insert_is_made_to_roll_back_on_conflict() {
        let insert = rolling_back_on_conflict(Cow::Borrowed("INSERT INTO events (a) VALUES (?)"));
        assert_eq!(insert, "INSERT OR ROLLBACK INTO events (a) VALUES (?)");
        let other = rolling_back_on_conflict(Cow::Borrowed("DELETE FROM timers WHERE a = ?"));
        assert_eq!(other, "DELETE FROM timers WHERE a = ?");
    }

    /// The events insert of a commit conflicts on its second row, after another table's
    /// statement was written: nothing of the commit is kept, the failure names the
    /// events and a unique key, and the connection commits again at once.
    #[test]
    fn a_conflict_halfway_through_a_commit_keeps_nothing_of_it() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("log.db");
        let mut conn = Connection::open(&path).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE executions (id TEXT NOT NULL PRIMARY KEY, fence BIGINT NOT NULL);
             CREATE TABLE events (execution TEXT NOT NULL, seq BIGINT NOT NULL,
                                  PRIMARY KEY (execution, seq));
             INSERT INTO events VALUES ('x', 2);",
        )
        .expect("schema");
        let mut space = WalSpace::new(path.clone());
        let statements = |seq: i64| -> Statements {
            vec![
                (
                    Table::Executions,
                    Cow::Borrowed("INSERT INTO executions (id, fence) VALUES (?, ?)"),
                    vec![text("x"), Value::Int(Some(seq))],
                ),
                (
                    Table::Events,
                    Cow::Borrowed("INSERT INTO events (execution, seq) VALUES (?, ?), (?, ?)"),
                    vec![
                        text("x"),
                        Value::Int(Some(seq)),
                        text("x"),
                        Value::Int(Some(2)),
                    ],
                ),
            ]
        };
        let outcome = commit(&mut conn, &[], statements(1), &mut space, 0);
        assert!(
            matches!(
                outcome,
                Outcome::Failed {
                    table: Some(Table::Events),
                    unique: true,
                    ..
                }
            ),
            "{outcome:?}"
        );
        assert!(conn.is_autocommit());
        let count = |conn: &Connection, sql: &str| {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0)).expect(sql)
        };
        assert_eq!(count(&conn, "SELECT count(*) FROM executions"), 0);
        assert_eq!(count(&conn, "SELECT count(*) FROM events"), 1);

        let mut fine = statements(3);
        fine[1].2 = vec![
            text("x"),
            Value::Int(Some(3)),
            text("x"),
            Value::Int(Some(4)),
        ];
        let outcome = commit(&mut conn, &[], fine, &mut space, 0);
        assert!(matches!(outcome, Outcome::Committed), "{outcome:?}");
        assert_eq!(count(&conn, "SELECT count(*) FROM events"), 3);
    }
}
