//! The tokens on SQL: [`Tokens`] for [`SqlStore`], every dialect.
//!
//! Invariants: `put_token` writes the token and the `had_tokens` row of `settings`
//! (migration `0004_settings.sql`) in one transaction, so a token never exists without
//! the mark; nothing deletes that row. A duplicate id or hash is the database's unique
//! violation, reported as [`Error::Conflict`].

use async_trait::async_trait;
use harmonia_storage::{Error, Result, TokenRecord, Tokens};

use crate::dialect::Dialect;
use crate::error::backend;
use crate::rows;
use crate::sql::Sql;
use crate::store::SqlStore;

/// The `settings` key that marks a database that has had an API token.
const HAD_TOKENS: &str = "had_tokens";

#[async_trait]
impl<D: Dialect> Tokens for SqlStore<D> {
    async fn put_token(&self, token: &TokenRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = Sql::<D>::new(
            "INSERT INTO tokens (id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .arg(token.id.as_str())
        .arg(token.name.as_str())
        .arg(token.role.as_str())
        .arg(token.hash.as_str())
        .arg(token.created_at.0)
        .execute(&mut *tx)
        .await;
        match done {
            Ok(_) => {}
            Err(e) if D::is_unique_violation(&e) => {
                let _ = tx.rollback().await;
                return Err(Error::Conflict(format!(
                    "token {} already exists",
                    token.id
                )));
            }
            Err(e) => return Err(backend(e)),
        }
        let mut mark = Sql::<D>::new("INSERT INTO settings (key, value) VALUES ($1, 'true')");
        mark.push(&D::insert_ignore("key"));
        mark.arg(HAD_TOKENS)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        let row =
            Sql::<D>::new("SELECT id, name, role, hash, created_at FROM tokens WHERE hash = $1")
                .arg(hash)
                .fetch_optional(&mut *self.reader().await?)
                .await
                .map_err(backend)?;
        row.as_ref().map(rows::token::<D>).transpose()
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows = Sql::<D>::new(
            "SELECT id, name, role, hash, created_at FROM tokens ORDER BY created_at, id",
        )
        .fetch_all(&mut *self.reader().await?)
        .await
        .map_err(backend)?;
        rows::all::<D, _>(&rows, rows::token::<D>)
    }

    async fn delete_token(&self, id: &str) -> Result<bool> {
        let done = Sql::<D>::new("DELETE FROM tokens WHERE id = $1")
            .arg(id)
            .execute(&mut **self.writer().await?)
            .await
            .map_err(backend)?;
        Ok(done > 0)
    }

    async fn had_tokens(&self) -> Result<bool> {
        let found = Sql::<D>::new("SELECT value FROM settings WHERE key = $1")
            .arg(HAD_TOKENS)
            .fetch_optional(&mut *self.reader().await?)
            .await
            .map_err(backend)?;
        Ok(found.is_some())
    }
}
