//! Idempotency keys on SQL: [`Idempotency`] for [`SqlStore`], every dialect.
//!
//! Keys are written by commits (see `log.rs`, which decides and writes them in the
//! commit's transaction); here they are looked up by primary key, unexpired only, and
//! pruned through the index on `expires_at` (migration `0006_durable.sql`).

use async_trait::async_trait;
use harmonia_storage::{Idempotency, IdempotencyRecord, Result, Timestamp};

use crate::dialect::Dialect;
use crate::error::backend;
use crate::rows::{self, idempotency_columns};
use crate::sql::Sql;
use crate::store::SqlStore;

#[async_trait]
impl<D: Dialect> Idempotency for SqlStore<D> {
    async fn idempotency(
        &self,
        scope: &str,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        let row = Sql::<D>::new(concat!(
            "SELECT ",
            idempotency_columns!(),
            " FROM idempotency WHERE scope = $1 AND key = $2 AND expires_at > $3"
        ))
        .arg(scope)
        .arg(key)
        .arg(now.0)
        .fetch_optional(&mut *self.reader().await?)
        .await
        .map_err(backend)?;
        row.as_ref().map(rows::idempotency::<D>).transpose()
    }

    async fn prune_idempotency(&self, now: Timestamp) -> Result<u64> {
        Sql::<D>::new("DELETE FROM idempotency WHERE expires_at <= $1")
            .arg(now.0)
            .execute(&mut **self.writer().await?)
            .await
            .map_err(backend)
    }
}
