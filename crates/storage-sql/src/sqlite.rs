//! [`SqliteStore`]: the [`Store`] on one SQLite file.
//!
//! Connections: one writer (a pool of exactly one connection) and a pool of readers.
//! Every write (`commit`, `put_workflow`) goes through the writer, so writes are
//! serialized in this process without SQLite's busy-waiting; reads use the readers and,
//! the file being in WAL mode, never wait for the writer (they see the last commit
//! before their query began). Readers are `query_only`: they cannot write by mistake.
//!
//! A third connection belongs to the [`Checkpointer`](crate::checkpoint), which copies
//! the WAL into the database file in the background, so that commits do not.
//!
//! Durability: WAL mode with `synchronous` [`Synchronous::Normal`] survives a killed
//! process (a commit is in the WAL, in the OS's hands, when `commit` returns) but may
//! lose the last commits to a power loss; [`Synchronous::Full`] also syncs the WAL to
//! disk on every commit.
//!
//! Invariants:
//! - `commit` is one transaction: events first (a duplicate `(execution, seq)` fails
//!   the primary key, the transaction rolls back, and the caller gets
//!   [`Error::Conflict`]), then the upserts of the read models.
//! - The batch is encoded (JSON to text, ids to text, statements built) before the
//!   writer is taken, so the writer is held only while SQLite works.
//! - Template writes (`put_template`, `import_templates`) go through the writer too, in
//!   `BEGIN IMMEDIATE` transactions; their queries live in `templates.rs`.
//! - `put_token` writes the token and the `had_tokens` row of `settings` in one
//!   transaction; nothing deletes that row.
//! - Migrations run once per `open`, on the writer, before anything else; they are
//!   embedded in the binary (`migrations/sqlite/`) and are idempotent.
//! - The queries use plain SQL that PostgreSQL accepts too (`$n` parameters, `ON
//!   CONFLICT ... DO UPDATE`, `excluded`), except `BEGIN IMMEDIATE` (SQLite's way to
//!   take the write lock before reading, in `put_workflow`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use harmonia_storage::{
    CommitBatch, DEFAULT_LIMIT, Error, EventRecord, ExecutionId, ExecutionQuery, ExecutionRecord,
    ExecutionStatus, NewTemplateVersion, NewWorkflowVersion, OnConflict, Result, Store,
    TaskRunRecord, TemplateId, TemplatePut, TemplateQuery, TemplateRecord, TokenRecord, WorkflowId,
    WorkflowRecord,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};

use crate::checkpoint::Checkpointer;
use crate::error::{backend, backend_msg, corrupt, is_unique_violation};
use crate::rows::{
    self, event_columns, execution_read_columns, executions_with_inputs, task_run_columns,
    workflow_columns,
};
use crate::templates;
use crate::write::{Statements, Table};

/// The migrations, embedded at build time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

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
    /// How many connections serve reads (at least 1).
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

/// The writer's page cache, in KiB (negative: SQLite's unit for a size in KiB). Index
/// pages of big batches stay in memory; the default is 2 MiB.
const WRITER_CACHE_KIB: &str = "-65536";

/// A [`Store`] on a SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: SqlitePool,
    readers: SqlitePool,
    checkpointer: Checkpointer,
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file if it is missing (its directory
    /// must exist), and brings its schema up to date.
    ///
    /// A file it creates is readable and writable by its owner only (mode 0600): it
    /// holds token hashes, inputs and outputs. SQLite gives the `-wal` and `-shm` files
    /// the database file's mode. An existing file keeps the mode it has.
    pub async fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        create_private(path).await?;
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

        // WAL is a property of the file, set (once) by the writer; readers open after.
        let writer = pool(1)
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
            .map_err(backend)?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| Error::Backend(Box::new(e)))?;
        let checkpointer = Checkpointer::start(&base, CHECKPOINT_INTERVAL).await?;
        let readers = pool(options.readers.max(1))
            .connect_with(base.pragma("query_only", "ON"))
            .await
            .map_err(backend)?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer,
            readers,
            checkpointer,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the connections, waiting for the ones in use to be returned. The last
    /// connection to close checkpoints the WAL into the database file. Operations
    /// after this fail.
    pub async fn close(&self) {
        self.checkpointer.stop().await;
        self.readers.close().await;
        self.writer.close().await;
    }

    /// Says which event of a batch that failed with a duplicate key exists already
    /// (after the failed transaction rolled back): a duplicate inside the batch, or the
    /// first stored one found among the batch's executions.
    async fn describe_conflict(&self, batch: &CommitBatch) -> String {
        let mut seen = HashSet::with_capacity(batch.events.len());
        if let Some(e) = batch
            .events
            .iter()
            .find(|e| !seen.insert((e.execution, e.seq)))
        {
            return format!(
                "event {} of execution {} is in the batch twice",
                e.seq, e.execution
            );
        }
        // The seq range of each execution in the batch, in batch order.
        let mut ranges: Vec<(ExecutionId, u64, u64)> = Vec::new();
        let mut index: HashMap<ExecutionId, usize> = HashMap::new();
        for e in &batch.events {
            match index.get(&e.execution) {
                Some(&i) => {
                    let r = &mut ranges[i];
                    r.1 = r.1.min(e.seq);
                    r.2 = r.2.max(e.seq);
                }
                None => {
                    index.insert(e.execution, ranges.len());
                    ranges.push((e.execution, e.seq, e.seq));
                }
            }
        }
        for (execution, first, last) in ranges.into_iter().take(64) {
            let (Ok(first), Ok(last)) = (i64::try_from(first), i64::try_from(last)) else {
                continue;
            };
            let found: Result<Option<i64>, sqlx::Error> = sqlx::query_scalar(
                "SELECT MIN(seq) FROM events WHERE execution = $1 AND seq >= $2 AND seq <= $3",
            )
            .bind(execution.to_string())
            .bind(first)
            .bind(last)
            .fetch_one(&self.readers)
            .await;
            if let Ok(Some(seq)) = found
                && let Ok(seq) = u64::try_from(seq)
                && seen.contains(&(execution, seq))
            {
                return format!("event {seq} of execution {execution} already exists");
            }
        }
        "an event of the batch already exists".to_owned()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn commit(&self, batch: &CommitBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let rows = batch.events.len() + batch.executions.len() + batch.task_runs.len();
        let mut statements = cpu_bound(rows, || {
            batch.check_json()?;
            Statements::encode(batch)
        })?;
        let mut tx = self.writer.begin().await.map_err(backend)?;
        match statements.execute(&mut tx).await {
            Ok(()) => {
                tx.commit().await.map_err(backend)?;
                self.checkpointer.poke();
                Ok(())
            }
            Err((table, e)) => {
                // Dropping the transaction would roll back too, but later; this way
                // the writer is clean before the next commit takes it. A failed
                // rollback breaks the connection, which the pool then replaces.
                let _ = tx.rollback().await;
                if table == Table::Events && is_unique_violation(&e) {
                    Err(Error::Conflict(self.describe_conflict(batch).await))
                } else {
                    Err(backend(e))
                }
            }
        }
    }

    async fn events(&self, execution: ExecutionId) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE execution = $1 ORDER BY seq"
        ))
        .bind(execution.to_string())
        .fetch_all(&self.readers)
        .await
        .map_err(backend)?;
        cpu_bound(rows.len(), || rows::all(&rows, rows::event))
    }

    async fn execution(&self, id: ExecutionId) -> Result<Option<ExecutionRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            execution_read_columns!(),
            " FROM ",
            executions_with_inputs!(),
            " WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.readers)
        .await
        .map_err(backend)?;
        row.as_ref().map(rows::execution).transpose()
    }

    async fn executions(&self, q: &ExecutionQuery) -> Result<Vec<ExecutionRecord>> {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(concat!(
            "SELECT ",
            execution_read_columns!(),
            " FROM ",
            executions_with_inputs!(),
            " WHERE 1 = 1"
        ));
        if let Some(workflow) = &q.workflow {
            sql.push(" AND workflow = ").push_bind(workflow.as_str());
        }
        if let Some(status) = q.status {
            sql.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(since) = q.since {
            sql.push(" AND created_at >= ").push_bind(since.0);
        }
        if let Some(until) = q.until {
            sql.push(" AND created_at < ").push_bind(until.0);
        }
        if let Some(after) = q.after {
            sql.push(" AND id < ").push_bind(after.to_string());
        }
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
        sql.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = sql
            .build()
            .fetch_all(&self.readers)
            .await
            .map_err(backend)?;
        rows::all(&rows, rows::execution)
    }

    async fn unfinished(&self) -> Result<Vec<ExecutionRecord>> {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(concat!(
            "SELECT ",
            execution_read_columns!(),
            " FROM ",
            executions_with_inputs!(),
            " WHERE status IN ("
        ));
        let mut open = sql.separated(", ");
        for status in ExecutionStatus::ALL.iter().filter(|s| !s.is_terminal()) {
            open.push_bind(status.as_str());
        }
        sql.push(") ORDER BY id");
        let rows = sql
            .build()
            .fetch_all(&self.readers)
            .await
            .map_err(backend)?;
        rows::all(&rows, rows::execution)
    }

    async fn task_runs(&self, execution: ExecutionId) -> Result<Vec<TaskRunRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            task_run_columns!(),
            " FROM task_runs WHERE execution = $1 ORDER BY task, item"
        ))
        .bind(execution.to_string())
        .fetch_all(&self.readers)
        .await
        .map_err(backend)?;
        cpu_bound(rows.len(), || rows::all(&rows, rows::task_run))
    }

    async fn put_workflow(&self, new: &NewWorkflowVersion) -> Result<WorkflowRecord> {
        // IMMEDIATE: take the write lock before reading the latest version, so that
        // another process cannot add the same version number in between.
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend)?;
        // Storing a definition under a deleted workflow's name brings it back.
        sqlx::query(
            "UPDATE workflows SET deleted_at = NULL WHERE name = $1 AND deleted_at IS NOT NULL",
        )
        .bind(new.name.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let latest = latest_version(&mut *tx, &new.name).await?;
        if let Some(latest) = latest.as_ref()
            && latest.source == new.source
            && latest.format == new.format
        {
            tx.rollback().await.map_err(backend)?;
            return Ok(latest.clone());
        }
        let (id, version) = match latest {
            Some(latest) => {
                let version = latest.version.checked_add(1).ok_or_else(|| {
                    backend_msg(format!(
                        "workflow `{}` has no version numbers left",
                        new.name
                    ))
                })?;
                (latest.id, version)
            }
            None => (workflow_id(&mut tx, &new.name).await?, 1),
        };
        sqlx::query(
            "INSERT INTO workflow_versions \
             (workflow_id, version, description, source, format, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(i64::from(version))
        .bind(new.description.as_deref())
        .bind(new.source.as_str())
        .bind(new.format.as_str())
        .bind(new.created_at.0)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(WorkflowRecord {
            id,
            name: new.name.clone(),
            version,
            description: new.description.clone(),
            source: new.source.clone(),
            format: new.format.clone(),
            created_at: new.created_at,
        })
    }

    async fn workflow(&self, name: &str, version: Option<u32>) -> Result<Option<WorkflowRecord>> {
        let row = match version {
            None => latest_version(&self.readers, name).await?,
            Some(version) => {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    workflow_columns!(),
                    " FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id \
                     WHERE w.name = $1 AND v.version = $2"
                ))
                .bind(name)
                .bind(i64::from(version))
                .fetch_optional(&self.readers)
                .await
                .map_err(backend)?;
                row.as_ref().map(rows::workflow).transpose()?
            }
        };
        Ok(row)
    }

    async fn workflows(&self) -> Result<Vec<WorkflowRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            workflow_columns!(),
            " FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id \
             WHERE w.deleted_at IS NULL AND v.version = \
             (SELECT MAX(version) FROM workflow_versions WHERE workflow_id = w.id) \
             ORDER BY w.name"
        ))
        .fetch_all(&self.readers)
        .await
        .map_err(backend)?;
        rows::all(&rows, rows::workflow)
    }

    async fn workflow_versions(&self, name: &str) -> Result<Vec<WorkflowRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            workflow_columns!(),
            " FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id \
             WHERE w.name = $1 AND w.deleted_at IS NULL ORDER BY v.version"
        ))
        .bind(name)
        .fetch_all(&self.readers)
        .await
        .map_err(backend)?;
        rows::all(&rows, rows::workflow)
    }

    async fn workflow_by_id(
        &self,
        id: WorkflowId,
        version: Option<u32>,
    ) -> Result<Option<WorkflowRecord>> {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM workflows WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.readers)
            .await
            .map_err(backend)?;
        match name {
            Some(name) => self.workflow(&name, version).await,
            None => Ok(None),
        }
    }

    async fn delete_workflow(&self, name: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE workflows SET deleted_at = $2 WHERE name = $1 AND deleted_at IS NULL",
        )
        .bind(name)
        .bind(harmonia_storage::Timestamp::now().0)
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_template(&self, new: &NewTemplateVersion) -> Result<TemplatePut> {
        templates::put(&self.writer, new).await
    }

    async fn import_templates(
        &self,
        versions: &[NewTemplateVersion],
        on_conflict: OnConflict,
    ) -> Result<Vec<TemplatePut>> {
        templates::import(&self.writer, versions, on_conflict).await
    }

    async fn template(&self, name: &str, version: Option<u32>) -> Result<Option<TemplateRecord>> {
        templates::get(&self.readers, name, version).await
    }

    async fn template_by_id(
        &self,
        id: TemplateId,
        version: Option<u32>,
    ) -> Result<Option<TemplateRecord>> {
        match templates::name_of(&self.readers, id).await? {
            Some(name) => templates::get(&self.readers, &name, version).await,
            None => Ok(None),
        }
    }

    async fn templates(&self, query: &TemplateQuery) -> Result<Vec<TemplateRecord>> {
        templates::list(&self.readers, query).await
    }

    async fn template_versions(&self, name: &str) -> Result<Vec<TemplateRecord>> {
        templates::versions(&self.readers, name).await
    }

    async fn delete_template(&self, name: &str) -> Result<bool> {
        templates::delete(&self.writer, name).await
    }

    async fn put_token(&self, token: &TokenRecord) -> Result<()> {
        // The token and the mark that the store has had one, together: a token never
        // exists without the mark, so deleting it cannot reopen the server.
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let done = sqlx::query(
            "INSERT INTO tokens (id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.id.as_str())
        .bind(token.name.as_str())
        .bind(token.role.as_str())
        .bind(token.hash.as_str())
        .bind(token.created_at.0)
        .execute(&mut *tx)
        .await;
        match done {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                let _ = tx.rollback().await;
                return Err(Error::Conflict(format!(
                    "token {} already exists",
                    token.id
                )));
            }
            Err(e) => return Err(backend(e)),
        }
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, 'true') ON CONFLICT (key) DO NOTHING",
        )
        .bind(HAD_TOKENS)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        let row =
            sqlx::query("SELECT id, name, role, hash, created_at FROM tokens WHERE hash = $1")
                .bind(hash)
                .fetch_optional(&self.readers)
                .await
                .map_err(backend)?;
        row.as_ref().map(rows::token).transpose()
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, role, hash, created_at FROM tokens ORDER BY created_at, id",
        )
        .fetch_all(&self.readers)
        .await
        .map_err(backend)?;
        rows::all(&rows, rows::token)
    }

    async fn delete_token(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM tokens WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn had_tokens(&self) -> Result<bool> {
        let found: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(HAD_TOKENS)
            .fetch_optional(&self.readers)
            .await
            .map_err(backend)?;
        Ok(found.is_some())
    }
}

/// The `settings` key that marks a database that has had an API token (migration
/// `0004_settings.sql`).
const HAD_TOKENS: &str = "had_tokens";

/// Creates `path` as an empty file with mode 0600 unless it exists (SQLite takes an
/// empty file for a new database).
async fn create_private(path: &Path) -> Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    match options.open(path).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Backend(Box::new(e))),
    }
}

/// Rows of work from which CPU time counts: see [`cpu_bound`].
const CPU_BOUND_ROWS: usize = 10_000;

/// Runs `work`, CPU work over `rows` rows (encoding a batch, decoding a long event
/// log: ~100 ms for 100,000 rows). From [`CPU_BOUND_ROWS`] on, and on a multi-threaded
/// runtime, through `block_in_place`, so that the runtime moves this worker's other
/// tasks to another thread meanwhile instead of stalling them. (A current-thread
/// runtime has no other thread; there the work runs in place.)
fn cpu_bound<T>(rows: usize, work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let multi_thread =
        Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
    if rows >= CPU_BOUND_ROWS && multi_thread {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

/// The latest version of the workflow `name`, on `conn` (a reader, or the writer
/// inside `put_workflow`'s transaction).
async fn latest_version<'c, E>(conn: E, name: &str) -> Result<Option<WorkflowRecord>>
where
    E: sqlx::Executor<'c, Database = Sqlite>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        workflow_columns!(),
        " FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id \
         WHERE w.name = $1 AND w.deleted_at IS NULL ORDER BY v.version DESC LIMIT 1"
    ))
    .bind(name)
    .fetch_optional(conn)
    .await
    .map_err(backend)?;
    row.as_ref().map(rows::workflow).transpose()
}

/// The id of the workflow `name`, created if it has none (inside `put_workflow`).
async fn workflow_id(conn: &mut SqliteConnection, name: &str) -> Result<WorkflowId> {
    named_id(conn, Named::Workflows, name).await.map(WorkflowId)
}

/// A table of named things whose versions live in another table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Named {
    Workflows,
    Templates,
}

/// The id of the row named `name` in `table`, inserted with a new (time-ordered) id
/// when there is none. Run inside the transaction that adds the version.
pub(crate) async fn named_id(
    conn: &mut SqliteConnection,
    table: Named,
    name: &str,
) -> Result<uuid::Uuid> {
    let (table, select, insert) = match table {
        Named::Workflows => (
            "workflows",
            "SELECT id FROM workflows WHERE name = $1",
            "INSERT INTO workflows (id, name) VALUES ($1, $2)",
        ),
        Named::Templates => (
            "templates",
            "SELECT id FROM templates WHERE name = $1",
            "INSERT INTO templates (id, name) VALUES ($1, $2)",
        ),
    };
    let existing: Option<String> = sqlx::query_scalar(select)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    if let Some(id) = existing {
        return id
            .parse::<uuid::Uuid>()
            .map_err(|e| corrupt(table, "id", format!("invalid uuid `{id}`: {e}")));
    }
    let id = uuid::Uuid::now_v7();
    sqlx::query(insert)
        .bind(id.to_string())
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(id)
}
