//! SQLite: [`SqliteDialect`], and [`SqliteStore`] (the [`SqlStore`] on one SQLite file):
//! opening it, its connections, its durability settings.
//!
//! Connections: one writer (a pool of exactly one connection) and a pool of readers.
//! Every write goes through the writer, so writes are serialized in this process
//! without SQLite's busy-waiting; reads use the readers and, the file being in WAL mode,
//! never wait for the writer (they see the last commit before their query began).
//! Readers are `query_only`: they cannot write by mistake. With no readers asked for
//! ([`SqliteOptions::readers`] 0: a process that does one thing, such as a local run),
//! reads take the writer's connection in turn with the writes, and there is one
//! connection fewer to open (a thread, three files and a reading of the schema). No
//! read holds its connection while it waits for a write, nor the reverse (a write
//! reads through its own transaction), so the shared connection cannot deadlock.
//!
//! A third connection belongs to the [`Checkpointer`](crate::checkpoint), which copies
//! the WAL into the database file in the background, so that commits do not; the
//! dialect pokes it after each commit ([`Dialect::committed`]), and it opens that
//! connection for its first checkpoint. A fourth belongs to the
//! [`LogWriter`](crate::sqlite_log), the thread that writes the execution log's
//! commits in one trip each; it writes only while the caller holds the store's write
//! gate, as the writer connection does (see `store.rs`), so writes stay serialized.
//!
//! Opening: the log writer, the writer and the first reader connect side by side, each
//! on a thread of its own (about a millisecond and a half each, a tenth of a short
//! `harmonia run`), except on a new empty file, which the log writer first gives the
//! schema in one transaction. WAL mode is a property of the file: the image is
//! already in it, and on a file that was not, the first connection to ask sets it and
//! the others wait for it (busy timeout).
//!
//! Durability: WAL mode with `synchronous` [`Synchronous::Normal`] survives a killed
//! process (a commit is in the WAL, in the OS's hands, when `commit` returns) but may
//! lose the last commits to a power loss; [`Synchronous::Full`] also syncs the WAL to
//! disk on every commit.
//!
//! What is SQLite's own in the dialect: `?` placeholders in built statements, 32,766
//! bound values per statement, `BEGIN IMMEDIATE` for the catalog's writes (the write
//! lock before the first read, so another process cannot add the same version number
//! in between; no row locks), values bound and read as sqlx's SQLite types.
//!
//! Invariants:
//! - Migrations run once per `open`, on the writer, before anything is read or
//!   written; they are embedded in the binary (`migrations/sqlite/`) and are
//!   idempotent. A new file is the schema image (`sqlite_image`), which holds them
//!   all, or, when it cannot be, gets the schema in one transaction from the log
//!   writer (`sqlite_schema`), and the migrator finds them applied.
//! - A database file `open` creates is its owner's only (mode 0600), and so are its
//!   `-wal` and `-shm` files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use harmonia_storage::Result;
use sqlx::error::BoxDynError;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode,
    SqlitePoolOptions, SqliteQueryResult, SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments, Executor, Row as _};

use crate::checkpoint::Checkpointer;
use crate::dialect::{Dialect, Value};
use crate::error::backend;
use crate::sqlite_image::Made;
use crate::sqlite_log::{Fresh, LogWriter, Settings};
use crate::store::SqlStore;

/// The migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// How hard a commit holds on to its data (SQLite's `synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// A commit survives the process being killed; the last commits may be lost to a
    /// power loss or an OS crash (the database stays consistent). What Harmonia
    /// promises, and much faster than `Full`.
    #[default]
    Normal,
    /// A commit also survives a power loss: the WAL is synced to disk on every commit.
    Full,
}

/// How to open a [`SqliteStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Durability of commits.
    pub synchronous: Synchronous,
    /// How many connections serve reads; 0: reads share the writer's connection.
    pub readers: u32,
    /// How long a statement waits for a lock held by another connection (such as
    /// another process writing the same file) before failing.
    pub busy_timeout: Duration,
    /// How long an operation waits for a free connection of this store's pools.
    pub acquire_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> SqliteOptions {
        SqliteOptions {
            synchronous: Synchronous::Normal,
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The WAL is truncated to this size after a checkpoint (a big batch makes it large).
const JOURNAL_SIZE_LIMIT: &str = "67108864";

/// Background checkpoints are at least this far apart.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// The log writer's page cache, in KiB (negative, as `cache_size` takes it): SQLite's
/// default. Batches append at the right edge of the log's B-trees, so a bigger cache
/// only held the pages of a big batch: a fan-out of 100,000 items peaked 80 MB higher
/// with 64 MiB, and was no faster.
const LOG_CACHE_KIB: i64 = -2048;

/// The writer's page cache, in KiB (negative: SQLite's unit for a size in KiB). Index
/// pages of big batches stay in memory; the default is 2 MiB.
const WRITER_CACHE_KIB: &str = "-65536";

/// The [`Dialect`] of SQLite, with what a SQLite store keeps beside its pools: the
/// file's path and its checkpointer.
#[derive(Debug)]
pub struct SqliteDialect {
    path: PathBuf,
    checkpointer: Checkpointer,
    log: LogWriter,
}

impl SqliteDialect {
    /// The thread that writes the execution log's commits (see `sqlite_log.rs`).
    pub(crate) fn log_writer(&self) -> &LogWriter {
        &self.log
    }
}

impl Dialect for SqliteDialect {
    type Db = Sqlite;
    type Args = SqliteArguments;

    /// `SQLITE_MAX_VARIABLE_NUMBER`'s default since 3.32 (the bundled SQLite is newer).
    const MAX_BIND_PARAMS: usize = 32_766;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const ONE_WRITER: bool = true;
    const ASSIGNED_INDEXES_REWRITTEN: bool = true;
    const BATCH_SIZED_STATEMENTS: bool = true;
    const LOCK_ROW: &'static str = "";

    fn placeholder(sql: &mut String, _: usize) {
        sql.push('?');
    }

    fn bind(args: &mut SqliteArguments, value: Value) -> Result<(), BoxDynError> {
        match value {
            Value::Int(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::Shared(v) => args.add(v),
        }
    }

    fn exec<'c>(conn: &'c mut SqliteConnection) -> impl Executor<'c, Database = Sqlite> {
        conn
    }

    fn text<'r>(row: &'r SqliteRow, column: &str) -> Result<Option<&'r str>, sqlx::Error> {
        row.try_get(column)
    }

    fn int(row: &SqliteRow, column: &str) -> Result<Option<i64>, sqlx::Error> {
        row.try_get(column)
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn json_field(column: &str, field: &str) -> String {
        format!(
            "CASE json_type({column}, '$.{field}') WHEN 'text' THEN {column} ->> '$.{field}' \
             WHEN 'null' THEN NULL ELSE {column} -> '$.{field}' END"
        )
    }

    fn json_rows(columns: &[&str]) -> String {
        format!("json_group_array(json_array({}))", columns.join(", "))
    }

    /// The main file's pages (the WAL's are not counted: they are copied in at the
    /// next checkpoint).
    const DATABASE_SIZE: Option<&'static str> =
        Some("SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()");

    fn committed(&self) {
        self.checkpointer.poke();
    }

    async fn closing(&self) {
        // Their connections close first, so that the writer, closing last,
        // checkpoints the WAL into the database file.
        self.log.stop().await;
        self.checkpointer.stop().await;
    }
}

/// A store on a SQLite file.
pub type SqliteStore = SqlStore<SqliteDialect>;

impl SqlStore<SqliteDialect> {
    /// Opens the database at `path`, creating the file if it is missing (its directory
    /// must exist), and brings its schema up to date.
    ///
    /// A file it creates is readable and writable by its owner only (mode 0600): it
    /// holds token hashes, inputs and outputs. SQLite gives the `-wal` and `-shm` files
    /// the database file's mode. An existing file keeps the mode it has.
    pub async fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        let migrator = SqliteDialect::migrator();
        let made = crate::sqlite_image::create(path, migrator).await?;
        let (urge, urgent) = tokio::sync::mpsc::channel(1);
        let log = LogWriter::open(
            path,
            Settings {
                synchronous_full: options.synchronous == Synchronous::Full,
                busy_timeout: options.busy_timeout,
                cache_kib: LOG_CACHE_KIB,
                journal_size_limit: JOURNAL_SIZE_LIMIT.parse().unwrap_or(-1),
            },
            match made {
                Made::Image => Fresh::Image,
                Made::Empty => Fresh::Empty(migrator),
                Made::Existing => Fresh::No,
            },
            urge,
        );
        let base = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true)
            .synchronous(match options.synchronous {
                Synchronous::Normal => SqliteSynchronous::Normal,
                Synchronous::Full => SqliteSynchronous::Full,
            });
        let pool = |max: u32| {
            SqlitePoolOptions::new()
                .max_connections(max)
                .acquire_timeout(options.acquire_timeout)
                // Local connections do not go stale: no ping before each use, and no
                // reconnecting (which would drop the prepared statements).
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
        };
        let writer = async {
            pool(1)
                .min_connections(1)
                .connect_with(
                    base.clone()
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT)
                        .pragma("cache_size", WRITER_CACHE_KIB)
                        // The checkpointer's job (see its module).
                        .pragma("wal_autocheckpoint", "0"),
                )
                .await
                .map_err(backend)
        };
        let readers = async {
            if options.readers == 0 {
                return Ok(None);
            }
            pool(options.readers)
                .connect_with(base.clone().pragma("query_only", "ON"))
                .await
                .map(Some)
                .map_err(backend)
        };
        // Each connection opens on a thread of its own. A new empty file gets the
        // whole schema from the log writer first, in one transaction (see
        // `sqlite_schema`), which leaves the migrator nothing to do; a file from the
        // image, or one that was there, is already in WAL mode (a property of the
        // file, set once), so the three open side by side.
        let (log, writer, readers) = if made == Made::Empty {
            let log = log.await?;
            let writer = writer.await?;
            (log, writer, readers.await?)
        } else {
            tokio::try_join!(log, writer, readers)?
        };
        // A file from the image holds exactly these migrations (checked before it was
        // used).
        if made != Made::Image {
            migrator
                .run(&writer)
                .await
                .map_err(|e| crate::error::migration(e, migrator))?;
        }
        let checkpointer = Checkpointer::start(&base, CHECKPOINT_INTERVAL, urgent);
        let readers = readers.unwrap_or_else(|| writer.clone());

        Ok(SqlStore::with(
            writer,
            readers,
            SqliteDialect {
                path: path.to_owned(),
                checkpointer,
                log,
            },
        ))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.dialect.path
    }
}
