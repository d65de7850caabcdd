//! The triggers' pause state on SQL: [`TriggerStates`] for [`SqlStore`], every dialect.
//!
//! Invariants: a row of `trigger_states` (migration `0007_trigger_states.sql`) is a
//! paused trigger; pausing inserts it unless it is there (so the first `paused_at`
//! stays), resuming deletes it. A row of `fire_marks` (migration 0008) is a schedule's
//! latest fire time; the upsert replaces it only with a later one.

use async_trait::async_trait;
use harmonia_storage::{Result, Timestamp, TriggerStates};

use crate::dialect::Dialect;
use crate::error::backend;
use crate::rows::Columns;
use crate::sql::Sql;
use crate::store::SqlStore;

#[async_trait]
impl<D: Dialect> TriggerStates for SqlStore<D> {
    async fn set_trigger_paused(&self, id: &str, paused: bool, at: Timestamp) -> Result<()> {
        let sql = if paused {
            let mut s = Sql::<D>::new("INSERT INTO trigger_states (id, paused_at) VALUES ($1, $2)");
            s.push(&D::insert_ignore("id"));
            s.arg(id).arg(at.0)
        } else {
            Sql::<D>::new("DELETE FROM trigger_states WHERE id = $1").arg(id)
        };
        sql.execute(&mut **self.writer().await?)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn paused_triggers(&self) -> Result<Vec<(String, Timestamp)>> {
        let rows = Sql::<D>::new("SELECT id, paused_at FROM trigger_states ORDER BY id")
            .fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let c = Columns::<D>::new(row, "trigger_states");
                Ok((c.string("id")?, Timestamp(c.int("paused_at")?)))
            })
            .collect()
    }

    async fn mark_fired(&self, id: &str, at: Timestamp) -> Result<()> {
        Sql::<D>::new(
            "INSERT INTO fire_marks (id, fired_for) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET fired_for = excluded.fired_for \
             WHERE excluded.fired_for > fire_marks.fired_for",
        )
        .arg(id)
        .arg(at.0)
        .execute(&mut **self.writer().await?)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn fire_marks(&self) -> Result<Vec<(String, Timestamp)>> {
        let rows = Sql::<D>::new("SELECT id, fired_for FROM fire_marks ORDER BY id")
            .fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let c = Columns::<D>::new(row, "fire_marks");
                Ok((c.string("id")?, Timestamp(c.int("fired_for")?)))
            })
            .collect()
    }
}
