//! The inbox on SQL: [`Inbox`] for [`SqlStore`], every dialect.
//!
//! Invariants:
//! - `receive` is an insert-or-ignore on (source, id) that returns the new row's `seq`
//!   (`RETURNING`); when it inserts nothing, the stored row is read back on the same
//!   connection. The unique constraint decides between concurrent receipts, in this
//!   process or another: exactly one inserts, the others read its row (a database with
//!   row locks makes them wait for its commit).
//! - `seq` comes from the database (SQLite: `AUTOINCREMENT`, never reused; PostgreSQL:
//!   an identity column), so it increases in the order receipts commit.
//! - Listings page by `seq` (`ORDER BY seq DESC`, `seq < after`), reading one row more
//!   than the page to know whether another follows; `unrouted` reads the partial index
//!   of events not routed yet.

use async_trait::async_trait;
use harmonia_storage::json::RawJson;
use harmonia_storage::{
    DEFAULT_LIMIT, Error, Inbox, InboxEvent, InboxQuery, Page, Received, Result, Timestamp,
};
use serde_json::Value;

use crate::dialect::Dialect;
use crate::error::{backend, backend_msg};
use crate::rows::{self, Columns, inbox_columns};
use crate::sql::Sql;
use crate::store::{SqlStore, cpu_bound};

#[async_trait]
impl<D: Dialect> Inbox for SqlStore<D> {
    async fn receive(
        &self,
        source: &str,
        id: &str,
        ty: &str,
        event: &RawJson,
        at: Timestamp,
    ) -> Result<Received> {
        event
            .check()
            .map_err(|m| Error::Invalid(format!("inbox event `{id}` of `{source}`: {m}")))?;
        let mut insert = Sql::<D>::new(
            "INSERT INTO inbox (source, id, type, received_at, event) VALUES ($1, $2, $3, $4, $5)",
        );
        insert.push(&D::insert_ignore("source, id"));
        insert.push(" RETURNING seq");
        let mut conn = self.writer().await?;
        let inserted = insert
            .arg(source)
            .arg(id)
            .arg(ty)
            .arg(at.0)
            .arg(event.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
        if let Some(row) = inserted {
            let seq = Columns::<D>::new(&row, "inbox").u64("seq")?;
            return Ok(Received::New(InboxEvent {
                seq,
                source: source.to_owned(),
                id: id.to_owned(),
                ty: ty.to_owned(),
                received_at: at,
                event: event.clone(),
                routed_at: None,
                deliveries: None,
            }));
        }
        let row = Sql::<D>::new(concat!(
            "SELECT ",
            inbox_columns!(),
            " FROM inbox WHERE source = $1 AND id = $2"
        ))
        .arg(source)
        .arg(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| {
            backend_msg(format!(
                "inbox event `{id}` of `{source}` was neither inserted nor found"
            ))
        })?;
        rows::inbox_event::<D>(&row).map(Received::Duplicate)
    }

    async fn mark_routed(&self, seq: u64, deliveries: &Value, at: Timestamp) -> Result<()> {
        let refuse = |m: String| Error::Invalid(format!("deliveries of inbox event {seq}: {m}"));
        harmonia_storage::json::check(deliveries).map_err(refuse)?;
        let text = serde_json::to_string(deliveries).map_err(|e| refuse(e.to_string()))?;
        let Ok(key) = i64::try_from(seq) else {
            return Err(Error::Invalid(format!("no inbox event has seq {seq}")));
        };
        let done = Sql::<D>::new("UPDATE inbox SET routed_at = $1, deliveries = $2 WHERE seq = $3")
            .arg(at.0)
            .arg(text)
            .arg(key)
            .execute(&mut **self.writer().await?)
            .await
            .map_err(backend)?;
        if done == 0 {
            return Err(Error::Invalid(format!("no inbox event has seq {seq}")));
        }
        Ok(())
    }

    async fn unrouted(&self) -> Result<Vec<InboxEvent>> {
        let rows = Sql::<D>::new(concat!(
            "SELECT ",
            inbox_columns!(),
            " FROM inbox WHERE routed_at IS NULL ORDER BY seq"
        ))
        .fetch_all(&mut *self.reader().await?)
        .await
        .map_err(backend)?;
        cpu_bound(rows.len(), || {
            rows::all::<D, _>(&rows, rows::inbox_event::<D>)
        })
    }

    async fn inbox(&self, q: &InboxQuery) -> Result<Page<InboxEvent>> {
        let mut sql = Sql::<D>::new(concat!(
            "SELECT ",
            inbox_columns!(),
            " FROM inbox WHERE 1 = 1"
        ));
        if let Some(ty) = &q.ty {
            sql.push(" AND type = ").bind(ty.as_str());
        }
        if let Some(after) = q.after {
            // Every stored seq is below i64::MAX: a larger cursor is past all of them.
            sql.push(" AND seq < ")
                .bind(i64::try_from(after).unwrap_or(i64::MAX));
        }
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit };
        sql.push(" ORDER BY seq DESC LIMIT ")
            .bind(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX));
        let rows = sql
            .fetch_all(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        let items = rows::all::<D, _>(&rows, rows::inbox_event::<D>)?;
        Ok(Page::of(items, limit))
    }
}
