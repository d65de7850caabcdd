//! The execution log on SQL: [`ExecutionLog`] for [`SqlStore`], every dialect.
//!
//! Invariants:
//! - `commit` is one transaction on the writer: events first (a duplicate `(execution,
//!   seq)` fails the primary key, the transaction rolls back, and the caller gets
//!   [`Error::Conflict`] naming the event), then the upserts of the read models and the
//!   timers (see `write.rs`), then the idempotency records.
//! - The batch is checked and encoded (JSON to text, ids to text, statements built and
//!   their values bound) before the writer is taken, so the writer is held only while
//!   the database works.
//! - A conditional batch (fences or idempotency records) starts its transaction with
//!   [`Dialect::BEGIN_WRITE`] and first reads the stored fences and keys it depends on,
//!   locked ([`Dialect::LOCK_ROW`]); [`commit::decide`], shared with every backend,
//!   says what is left out. Only when something is, is the rest encoded again, in the
//!   transaction. A key stored before is then replaced (its row is locked), a new one
//!   inserted with insert-or-ignore: if that inserts nothing, a concurrent commit took
//!   the key after the read (possible where there are row locks, not on SQLite, whose
//!   write lock is taken first), and the transaction is rolled back and run again, at
//!   most [`KEY_RACES`] times.
//! - On SQLite, a batch without idempotency records is written by the log writer
//!   thread in one trip (`sqlite_log.rs`), the fences checked there; a fence that does
//!   not match sends the batch down the path above, which decides what is left out.
//! - After a commit the dialect hears of it ([`Dialect::committed`]: SQLite's
//!   checkpointer).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use harmonia_storage::{
    CommitBatch, CommitReport, Error, EventRecord, ExecutionId, ExecutionLog, IdempotencyRecord,
    Result, commit,
};
use sqlx::Transaction;

use crate::dialect::{Connection, Dialect, Value};
use crate::error::backend;
use crate::rows::{self, Columns, event_columns, idempotency_columns};
use crate::sql::{MAX_ANY_OF, Sql};
use crate::sqlite::SqliteDialect;
use crate::sqlite_log::Outcome;
use crate::store::{Gated, SqlStore, cpu_bound};
use crate::write::{Statements, Table};

/// How many times a conditional commit runs again when a concurrent commit takes one
/// of its new idempotency keys between its read and its write.
const KEY_RACES: usize = 3;

/// Execution ids looked up per statement when reading a batch's fences.
const LOOKUPS: usize = 500;

/// The stored idempotency records a batch's keys have, by (scope, key).
type StoredKeys = HashMap<(String, String), IdempotencyRecord>;

#[async_trait]
impl<D: Dialect> ExecutionLog for SqlStore<D> {
    async fn commit(&self, batch: &CommitBatch) -> Result<CommitReport> {
        if batch.is_empty() {
            return Ok(CommitReport::default());
        }
        let rows = batch.events.len()
            + batch.executions.len()
            + batch.task_runs.len()
            + batch.timers_set.len()
            + batch.timers_cleared.len();
        let statements = cpu_bound(rows, || {
            batch.check_json()?;
            Statements::<D>::encode(batch)
        })?;
        let mut encoded = Some(statements);
        if let Some(report) = self.commit_direct(batch, &mut encoded).await? {
            return Ok(report);
        }
        let statements = match encoded {
            Some(statements) => statements,
            None => cpu_bound(rows, || Statements::<D>::encode(batch))?,
        };
        if !batch.is_conditional() {
            let tx = self.begin().await?;
            self.finish(tx, statements, batch, &StoredKeys::new())
                .await?;
            return Ok(CommitReport::default());
        }
        let mut encoded = Some(statements);
        for _ in 0..KEY_RACES {
            let mut tx = self.begin_write().await?;
            let (fences, keys) = match read_conditions::<D>(&mut tx, batch).await {
                Ok(read) => read,
                Err(e) => {
                    let _ = tx.rollback().await;
                    return Err(e);
                }
            };
            let decision = commit::decide(
                batch,
                |id| fences.get(&id).copied(),
                |scope, key| keys.get(&(scope.to_owned(), key.to_owned())).cloned(),
            );
            let kept = decision.kept(batch);
            let statements = match (&kept, encoded.take()) {
                (Cow::Borrowed(_), Some(statements)) => statements,
                _ => match cpu_bound(rows, || Statements::<D>::encode(&kept)) {
                    Ok(statements) => statements,
                    Err(e) => {
                        let _ = tx.rollback().await;
                        return Err(e);
                    }
                },
            };
            if self.finish(tx, statements, &kept, &keys).await? {
                return Ok(decision.report);
            }
            tracing::debug!("an idempotency key was taken by a concurrent commit; deciding again");
        }
        Err(Error::Conflict(
            "the batch's idempotency keys kept being taken by concurrent commits".to_owned(),
        ))
    }

    /// On SQLite, through the log writer's connection on the calling thread (see
    /// `sqlite_log.rs`), when the write gate is free and the batch needs no reads of the
    /// pools (no idempotency records). Whatever does not commit there (a fence that
    /// does not match, a failed statement, a closed connection) rolled back, and
    /// `commit` decides it, says why or tells.
    fn commit_here(&self, batch: &CommitBatch) -> Option<Result<CommitReport>> {
        let sqlite = (&self.dialect as &dyn std::any::Any).downcast_ref::<SqliteDialect>()?;
        if batch.is_empty() {
            return Some(Ok(CommitReport::default()));
        }
        if !batch.idempotency.is_empty() {
            return None;
        }
        let statements = match batch
            .check_json()
            .and_then(|()| Statements::<D>::encode(batch))
        {
            Ok(statements) => statements,
            Err(e) => return Some(Err(e)),
        };
        let fences: Vec<(String, i64)> = batch
            .fences
            .iter()
            .map(|(id, fence)| (id.to_string(), i64::try_from(*fence).unwrap_or(i64::MAX)))
            .collect();
        // The write gate, as `commit_direct` holds it; taken by another writer, the
        // caller's `commit` waits for it instead.
        let held = self.try_gate()?;
        let outcome = sqlite
            .log_writer()
            .commit_here(&fences, statements.into_parts());
        drop(held);
        match outcome {
            Outcome::Committed => {
                self.dialect.committed();
                Some(Ok(CommitReport::default()))
            }
            Outcome::Fenced | Outcome::Stopped | Outcome::Failed { .. } => None,
        }
    }

    async fn events(&self, execution: ExecutionId) -> Result<Vec<EventRecord>> {
        let rows = Sql::<D>::new(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE execution = $1 ORDER BY seq"
        ))
        .arg(execution.to_string())
        .fetch_all(&mut *self.reader().await?)
        .await
        .map_err(backend)?;
        cpu_bound(rows.len(), || rows::all::<D, _>(&rows, rows::event::<D>))
    }

    async fn events_after(&self, execution: ExecutionId, seq: u64) -> Result<Vec<EventRecord>> {
        let rows = Sql::<D>::new(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE execution = $1 AND seq > $2 ORDER BY seq"
        ))
        .arg(execution.to_string())
        .arg(i64::try_from(seq).unwrap_or(i64::MAX))
        .fetch_all(&mut *self.reader().await?)
        .await
        .map_err(backend)?;
        cpu_bound(rows.len(), || rows::all::<D, _>(&rows, rows::event::<D>))
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Commits through SQLite's log writer (see `sqlite_log.rs`) when this store is
    /// SQLite's and the batch carries no idempotency records, taking `encoded`.
    /// `None`: not done (another backend, idempotency records, or a fence that did not
    /// match, which the caller's path decides); nothing was written.
    async fn commit_direct(
        &self,
        batch: &CommitBatch,
        encoded: &mut Option<Statements<D>>,
    ) -> Result<Option<CommitReport>> {
        let Some(sqlite) = (&self.dialect as &dyn std::any::Any).downcast_ref::<SqliteDialect>()
        else {
            return Ok(None);
        };
        if !batch.idempotency.is_empty() {
            return Ok(None);
        }
        let Some(statements) = encoded.take() else {
            return Ok(None);
        };
        let fences = batch
            .fences
            .iter()
            .map(|(id, fence)| (id.to_string(), i64::try_from(*fence).unwrap_or(i64::MAX)))
            .collect();
        // The write gate, held while the thread writes: the writer connection's writes
        // wait, and it waits for theirs (see `store.rs`).
        let held = self.gate().await?;
        let outcome = sqlite
            .log_writer()
            .commit(fences, statements.into_parts())
            .await;
        drop(held);
        match outcome? {
            Outcome::Committed => {
                self.dialect.committed();
                Ok(Some(CommitReport::default()))
            }
            Outcome::Fenced => Ok(None),
            Outcome::Stopped => Err(Error::Backend("the SQLite log writer has stopped".into())),
            Outcome::Failed {
                table: Some(Table::Events),
                unique: true,
                ..
            } => Err(Error::Conflict(self.describe_conflict(batch).await)),
            Outcome::Failed { error, .. } => Err(Error::Backend(Box::new(error))),
        }
    }

    /// Runs `statements` (the encoded `batch`) and writes the batch's idempotency
    /// records in `tx`, then commits. `false`: a new key was taken concurrently, and
    /// the transaction was rolled back.
    async fn finish(
        &self,
        mut tx: Gated<Transaction<'static, D::Db>>,
        statements: Statements<D>,
        batch: &CommitBatch,
        stored: &StoredKeys,
    ) -> Result<bool> {
        if let Err((table, e)) = statements.execute(&mut tx).await {
            // Dropping the transaction would roll back too, but later; this way the
            // writer is clean before the next commit takes it. A failed rollback
            // breaks the connection, which the pool then replaces.
            let _ = tx.rollback().await;
            return if table == Table::Events && D::is_unique_violation(&e) {
                Err(Error::Conflict(self.describe_conflict(batch).await))
            } else {
                Err(backend(e))
            };
        }
        match write_keys::<D>(&mut tx, &batch.idempotency, stored).await {
            Ok(true) => {}
            Ok(false) => {
                let _ = tx.rollback().await;
                return Ok(false);
            }
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(backend(e));
            }
        }
        tx.commit().await.map_err(backend)?;
        self.dialect.committed();
        Ok(true)
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
        let Ok(mut conn) = self.reader().await else {
            return "an event of the batch already exists".to_owned();
        };
        for (execution, first, last) in ranges.into_iter().take(64) {
            let (Ok(first), Ok(last)) = (i64::try_from(first), i64::try_from(last)) else {
                continue;
            };
            let found = Sql::<D>::new(
                "SELECT MIN(seq) AS seq FROM events \
                 WHERE execution = $1 AND seq >= $2 AND seq <= $3",
            )
            .arg(execution.to_string())
            .arg(first)
            .arg(last)
            .fetch_optional(&mut *conn)
            .await;
            if let Ok(Some(row)) = found
                && let Ok(Some(seq)) = D::int(&row, "seq")
                && let Ok(seq) = u64::try_from(seq)
                && seen.contains(&(execution, seq))
            {
                return format!("event {seq} of execution {execution} already exists");
            }
        }
        "an event of the batch already exists".to_owned()
    }
}

/// Reads, locked, what a conditional batch depends on: the stored fence of each
/// execution of its `fences` (absent: no row), and the stored record of each
/// idempotency key it carries.
async fn read_conditions<D: Dialect>(
    conn: &mut Connection<D>,
    batch: &CommitBatch,
) -> Result<(HashMap<ExecutionId, u64>, StoredKeys)> {
    let ids: Vec<String> = batch
        .fences
        .iter()
        .map(|(id, _)| *id)
        .collect::<HashSet<_>>()
        .into_iter()
        .map(|id| id.to_string())
        .collect();
    let mut fences = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(LOOKUPS) {
        let mut sql = Sql::<D>::new("SELECT id, fence FROM executions WHERE id IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(id.as_str());
        }
        // In key order, so that two commits locking some of the same rows cannot
        // deadlock (where there are row locks).
        sql.push(") ORDER BY id").push(D::LOCK_ROW);
        let found = sql.fetch_all(&mut *conn).await.map_err(backend)?;
        for row in &found {
            let c = Columns::<D>::new(row, "executions");
            fences.insert(ExecutionId(c.uuid("id")?), c.u64("fence")?);
        }
    }

    let wanted: Vec<(&str, &str)> = batch
        .idempotency
        .iter()
        .map(|r| (r.scope.as_str(), r.key.as_str()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut keys = StoredKeys::with_capacity(wanted.len());
    for chunk in wanted.chunks(MAX_ANY_OF) {
        let mut sql = Sql::<D>::new(concat!(
            "SELECT ",
            idempotency_columns!(),
            " FROM idempotency WHERE "
        ));
        sql.any_of(
            ["scope", "key"],
            chunk
                .iter()
                .map(|(scope, key)| [Value::from(*scope), Value::from(*key)]),
        );
        sql.push(" ORDER BY scope, key").push(D::LOCK_ROW);
        let found = sql.fetch_all(&mut *conn).await.map_err(backend)?;
        for row in &found {
            let r = rows::idempotency::<D>(row)?;
            keys.insert((r.scope.clone(), r.key.clone()), r);
        }
    }
    Ok((fences, keys))
}

/// Writes the accepted idempotency records of a batch, in order: a key that was stored
/// (its row locked by [`read_conditions`]) or written earlier in the batch is replaced;
/// a new one is inserted unless it exists. `false`: a new key existed after all (a
/// concurrent commit took it since the read).
async fn write_keys<D: Dialect>(
    conn: &mut Connection<D>,
    records: &[IdempotencyRecord],
    stored: &StoredKeys,
) -> Result<bool, sqlx::Error> {
    /// The columns a replace writes: all but the key.
    const UPDATES: [&str; 4] = ["body_hash", "execution", "created_at", "expires_at"];
    let mut written: HashSet<(&str, &str)> = HashSet::new();
    for r in records {
        let key = (r.scope.as_str(), r.key.as_str());
        let replace =
            written.contains(&key) || stored.contains_key(&(r.scope.clone(), r.key.clone()));
        let mut sql = Sql::<D>::new(concat!(
            "INSERT INTO idempotency (",
            idempotency_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        ));
        sql.push(&if replace {
            D::upsert("scope, key", &UPDATES)
        } else {
            D::insert_ignore("scope, key")
        });
        let done = sql
            .arg(r.scope.as_str())
            .arg(r.key.as_str())
            .arg(r.body_hash.as_str())
            .arg(r.execution.to_string())
            .arg(r.created_at.0)
            .arg(r.expires_at.0)
            .execute(&mut *conn)
            .await?;
        if done == 0 {
            return Ok(false);
        }
        written.insert(key);
    }
    Ok(true)
}
