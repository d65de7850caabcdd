//! The execution log on SQL: [`ExecutionLog`] for [`SqlStore`], every dialect.
//!
//! Invariants:
//! - `commit` is one transaction on the writer: events first (a duplicate `(execution,
//!   seq)` fails the primary key, the transaction rolls back, and the caller gets
//!   [`Error::Conflict`] naming the event), then the upserts of the read models (see
//!   `write.rs`).
//! - The batch is checked and encoded (JSON to text, ids to text, statements built and
//!   their values bound) before the writer is taken, so the writer is held only while
//!   the database works.
//! - After a commit the dialect hears of it ([`Dialect::committed`]: SQLite's
//!   checkpointer).

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use harmonia_storage::{CommitBatch, Error, EventRecord, ExecutionId, ExecutionLog, Result};

use crate::dialect::Dialect;
use crate::error::backend;
use crate::rows::{self, event_columns};
use crate::sql::Sql;
use crate::store::{SqlStore, cpu_bound};
use crate::write::{Statements, Table};

#[async_trait]
impl<D: Dialect> ExecutionLog for SqlStore<D> {
    async fn commit(&self, batch: &CommitBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let rows = batch.events.len() + batch.executions.len() + batch.task_runs.len();
        let statements = cpu_bound(rows, || {
            batch.check_json()?;
            Statements::<D>::encode(batch)
        })?;
        let mut tx = self.begin().await?;
        match statements.execute(&mut tx).await {
            Ok(()) => {
                tx.commit().await.map_err(backend)?;
                self.dialect.committed();
                Ok(())
            }
            Err((table, e)) => {
                // Dropping the transaction would roll back too, but later; this way
                // the writer is clean before the next commit takes it. A failed
                // rollback breaks the connection, which the pool then replaces.
                let _ = tx.rollback().await;
                if table == Table::Events && D::is_unique_violation(&e) {
                    Err(Error::Conflict(self.describe_conflict(batch).await))
                } else {
                    Err(backend(e))
                }
            }
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
}

impl<D: Dialect> SqlStore<D> {
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
