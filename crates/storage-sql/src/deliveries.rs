//! Webhook deliveries on SQL: [`Deliveries`] for [`SqlStore`], every dialect.
//!
//! Invariants:
//! - `seq` comes from the database (`AUTOINCREMENT` / an identity column), read back
//!   with `RETURNING`; the body is stored base64-encoded in a text column, so bytes
//!   that are not UTF-8 come back exactly.
//! - Recording a delivery and forgetting its trigger's oldest beyond
//!   [`KEPT_PER_TRIGGER`] happen in one transaction, so a listing never sees more.
//! - Listings read the index on (trigger, seq), one row more than the page.

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use harmonia_storage::{
    DEFAULT_LIMIT, Deliveries, DeliveryQuery, DeliveryRecord, Error, ExecutionId, KEPT_PER_TRIGGER,
    NewDelivery, Page, Result,
};

use crate::dialect::{Dialect, Row};
use crate::error::{backend, backend_msg};
use crate::rows::Columns;
use crate::sql::Sql;
use crate::store::SqlStore;

const COLUMNS: &str = "seq, trigger_id, hook, received_at, verdict, reason, execution, \
                       method, headers, query, body, replay_of, verified";

#[async_trait]
impl<D: Dialect> Deliveries for SqlStore<D> {
    async fn record_delivery(&self, d: &NewDelivery) -> Result<DeliveryRecord> {
        let json = |what: &str, v: &serde_json::Value| {
            harmonia_storage::json::check(v)
                .and_then(|()| serde_json::to_string(v).map_err(|e| e.to_string()))
                .map_err(|m| Error::Invalid(format!("a delivery's {what}: {m}")))
        };
        let (headers, query) = (json("headers", &d.headers)?, json("query", &d.query)?);
        let replay_of = d.replay_of.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
        let mut tx = self.begin().await?;
        let row = Sql::<D>::new(
            "INSERT INTO deliveries (trigger_id, hook, received_at, verdict, reason, \
             execution, method, headers, query, body, replay_of, verified) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
        )
        .arg(d.trigger.as_str())
        .arg(d.hook.as_str())
        .arg(d.received_at.0)
        .arg(d.verdict.as_str())
        .arg(d.reason.clone())
        .arg(d.execution.map(|e| e.to_string()))
        .arg(d.method.as_str())
        .arg(headers)
        .arg(query)
        .arg(STANDARD.encode(&d.body))
        .arg(replay_of)
        .arg(d.verified)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?
        .ok_or_else(|| backend_msg("inserting a delivery returned no row".to_string()))?;
        let seq = Columns::<D>::new(&row, "deliveries").u64("seq")?;
        let kept = i64::try_from(KEPT_PER_TRIGGER).unwrap_or(i64::MAX);
        Sql::<D>::new(
            "DELETE FROM deliveries WHERE trigger_id = $1 AND seq <= \
             (SELECT seq FROM deliveries WHERE trigger_id = $2 ORDER BY seq DESC LIMIT 1 OFFSET $3)",
        )
        .arg(d.trigger.as_str())
        .arg(d.trigger.as_str())
        .arg(kept)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(DeliveryRecord {
            seq,
            delivery: d.clone(),
        })
    }

    async fn delivery(&self, seq: u64) -> Result<Option<DeliveryRecord>> {
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        let row = Sql::<D>::new(format!("SELECT {COLUMNS} FROM deliveries WHERE seq = $1"))
            .arg(seq)
            .fetch_optional(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        row.as_ref().map(delivery::<D>).transpose()
    }

    async fn deliveries(&self, trigger: &str, q: &DeliveryQuery) -> Result<Page<DeliveryRecord>> {
        let mut sql = Sql::<D>::new(format!(
            "SELECT {COLUMNS} FROM deliveries WHERE trigger_id = "
        ));
        sql.bind(trigger);
        if let Some(after) = q.after {
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
        let items = rows.iter().map(delivery::<D>).collect::<Result<Vec<_>>>()?;
        Ok(Page::of(items, limit))
    }
}

/// A row of `deliveries`.
fn delivery<D: Dialect>(row: &Row<D>) -> Result<DeliveryRecord> {
    let c = Columns::<D>::new(row, "deliveries");
    Ok(DeliveryRecord {
        seq: c.u64("seq")?,
        delivery: NewDelivery {
            trigger: c.string("trigger_id")?,
            hook: c.string("hook")?,
            verified: c.bool("verified")?,
            received_at: c.time("received_at")?,
            verdict: c.string("verdict")?,
            reason: c.opt_string("reason")?,
            execution: c.opt_uuid("execution")?.map(ExecutionId),
            method: c.string("method")?,
            headers: c.json("headers")?,
            query: c.json("query")?,
            body: STANDARD
                .decode(c.text("body")?)
                .map_err(|e| c.corrupt("body", format!("invalid base64: {e}")))?,
            replay_of: c.opt_int("replay_of")?.and_then(|s| u64::try_from(s).ok()),
        },
    })
}
