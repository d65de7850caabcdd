//! The timers and waits on SQL: [`Timers`] for [`SqlStore`], every dialect.
//!
//! Both read what commits wrote (see `write.rs`): `timers` the `timers` table in the
//! order of its `due` index; `waiting` the task runs with a wait, through the partial
//! index on (`wait_for`, `wait_key`) of migration `0006_durable.sql`, each checked
//! against its execution's row (by primary key) to keep those of unfinished
//! executions only.

use async_trait::async_trait;
use harmonia_storage::{Result, TaskRunRecord, TaskStatus, TimerRecord, Timers};

use crate::dialect::Dialect;
use crate::error::backend;
use crate::queries::push_unfinished;
use crate::rows::{self, task_run_columns, timer_columns};
use crate::sql::Sql;
use crate::store::{SqlStore, cpu_bound};

#[async_trait]
impl<D: Dialect> Timers for SqlStore<D> {
    async fn timers(&self) -> Result<Vec<TimerRecord>> {
        let rows = Sql::<D>::new(concat!(
            "SELECT ",
            timer_columns!(),
            " FROM timers ORDER BY due, execution, key"
        ))
        .fetch_all(&mut *self.reader().await?)
        .await
        .map_err(backend)?;
        cpu_bound(rows.len(), || rows::all::<D, _>(&rows, rows::timer::<D>))
    }

    async fn waiting(&self, wait_for: &str, wait_key: Option<&str>) -> Result<Vec<TaskRunRecord>> {
        let mut sql = Sql::<D>::new(concat!(
            "SELECT ",
            task_run_columns!(),
            " FROM task_runs WHERE wait_for = "
        ));
        sql.bind(wait_for);
        if let Some(key) = wait_key {
            sql.push(" AND wait_key = ").bind(key);
        }
        sql.push(" AND status = ")
            .bind(TaskStatus::Running.as_str());
        sql.push(
            " AND EXISTS (SELECT 1 FROM executions x \
             WHERE x.id = task_runs.execution AND x.status IN (",
        );
        push_unfinished(&mut sql);
        sql.push(")) ORDER BY execution, task, item");
        let rows = sql
            .fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        cpu_bound(rows.len(), || rows::all::<D, _>(&rows, rows::task_run::<D>))
    }
}
