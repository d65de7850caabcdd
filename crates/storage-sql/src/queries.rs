//! The execution queries on SQL: [`ExecutionQueries`] for [`SqlStore`], every dialect.
//!
//! Executions are read with their inputs, which live in `execution_inputs` (written
//! once; see `write.rs`), joined in every `SELECT` ([`executions_with_inputs`]).
//! Listings page by id (ids sort by creation): `ORDER BY id DESC` with `id < after`,
//! which the indexes of the initial migration serve (and `executions_by_origin`, of
//! `0010_execution_origins.sql`, a trigger's executions). Filters on origin kinds and on
//! the inputs' text (`instr`, joined inputs) are checked row by row along that order: a
//! page stops at `limit` matches, a rare match reads the whole table (measured in
//! `docs/performance.md`).
//!
//! Claiming executions is the nodes role's (`nodes.rs`).

use async_trait::async_trait;
use harmonia_storage::{
    DEFAULT_LIMIT, ExecutionId, ExecutionQueries, ExecutionQuery, ExecutionRecord, ExecutionStatus,
    OriginKind, Result, TaskRunRecord,
};

use crate::dialect::Dialect;
use crate::error::backend;
use crate::rows::{self, execution_read_columns, executions_with_inputs, task_run_columns};
use crate::sql::Sql;
use crate::store::{SqlStore, cpu_bound};

#[async_trait]
impl<D: Dialect> ExecutionQueries for SqlStore<D> {
    async fn execution(&self, id: ExecutionId) -> Result<Option<ExecutionRecord>> {
        let row = Sql::<D>::new(concat!(
            "SELECT ",
            execution_read_columns!(),
            " FROM ",
            executions_with_inputs!(),
            " WHERE id = $1"
        ))
        .arg(id.to_string())
        .fetch_optional(&mut *self.reader().await?)
        .await
        .map_err(backend)?;
        row.as_ref().map(rows::execution::<D>).transpose()
    }

    async fn executions(&self, q: &ExecutionQuery) -> Result<Vec<ExecutionRecord>> {
        let mut sql = Sql::<D>::new(concat!(
            "SELECT ",
            execution_read_columns!(),
            " FROM ",
            executions_with_inputs!(),
            " WHERE 1 = 1"
        ));
        if let Some(workflow) = &q.workflow {
            sql.push(" AND workflow = ").bind(workflow.as_str());
        }
        if !q.statuses.is_empty() {
            sql.push(" AND status IN (");
            for (i, status) in q.statuses.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(status.as_str());
            }
            sql.push(")");
        }
        if let Some(prefix) = &q.id_prefix {
            // The caller lets only hex digits and dashes in: no LIKE wildcard.
            sql.push(" AND id LIKE ").bind(format!("{prefix}%"));
        }
        if !q.origins.is_empty() {
            sql.push(" AND origin_kind IN (");
            for (i, kind) in q.origins.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(kind.as_str());
            }
            sql.push(")");
        }
        if let Some(trigger) = &q.trigger {
            // `executions_by_origin` serves it, newest first.
            sql.push(" AND origin_by = ").bind(trigger.as_str());
            sql.push(" AND origin_kind IN (");
            let kinds = OriginKind::ALL.iter().filter(|k| k.is_trigger());
            for (i, kind) in kinds.enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(kind.as_str());
            }
            sql.push(")");
        }
        if let Some(text) = &q.input {
            // A literal, case-sensitive search of the stored JSON text: no wildcards.
            sql.push(" AND ")
                .push(D::FIND)
                .push("(inputs, ")
                .bind(text.as_str())
                .push(") > 0");
        }
        if let Some(since) = q.since {
            sql.push(" AND created_at >= ").bind(since.0);
        }
        if let Some(until) = q.until {
            sql.push(" AND created_at < ").bind(until.0);
        }
        if let Some(after) = q.after {
            sql.push(" AND id < ").bind(after.to_string());
        }
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
        sql.push(" ORDER BY id DESC LIMIT ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = sql
            .fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        rows::all::<D, _>(&rows, rows::execution::<D>)
    }

    async fn unfinished(&self) -> Result<Vec<ExecutionRecord>> {
        let mut sql = Sql::<D>::new(concat!(
            "SELECT ",
            execution_read_columns!(),
            " FROM ",
            executions_with_inputs!(),
            " WHERE status IN ("
        ));
        push_unfinished(&mut sql);
        sql.push(") ORDER BY id");
        let rows = sql
            .fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        rows::all::<D, _>(&rows, rows::execution::<D>)
    }

    async fn task_runs(&self, execution: ExecutionId) -> Result<Vec<TaskRunRecord>> {
        let rows = Sql::<D>::new(concat!(
            "SELECT ",
            task_run_columns!(),
            " FROM task_runs WHERE execution = $1 ORDER BY task, item"
        ))
        .arg(execution.to_string())
        .fetch_all(&mut *self.reader().await?)
        .await
        .map_err(backend)?;
        cpu_bound(rows.len(), || rows::all::<D, _>(&rows, rows::task_run::<D>))
    }
}

/// Appends the statuses of unfinished executions, bound, comma-separated (for
/// `status IN (...)`).
pub(crate) fn push_unfinished<D: Dialect>(sql: &mut Sql<D>) {
    let open = ExecutionStatus::ALL.iter().filter(|s| !s.is_terminal());
    for (i, status) in open.enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(status.as_str());
    }
}
