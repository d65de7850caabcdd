//! The tokens role: API tokens, stored by the hash of their secret, and the one-way fact
//! that the store has had a token.
//!
//! Contract, checked for every backend by the shared suite (`suite::tokens`):
//! - `put_token` fails with [`Error::Conflict`] when a token with the same id or hash
//!   exists, and writes nothing then.
//! - `put_token` also records, in the same transaction, that the store has had a token;
//!   `had_tokens` answers true from then on, whatever is deleted since (a server that
//!   has had tokens never falls back to serving without them).
//! - `tokens` lists oldest first; `delete_token` says whether the token existed.

use async_trait::async_trait;

#[cfg(doc)]
use crate::Error;
use crate::Result;
use crate::records::TokenRecord;

/// API tokens.
#[async_trait]
pub trait Tokens: Send + Sync {
    /// Stores an API token (see the module doc).
    async fn put_token(&self, token: &TokenRecord) -> Result<()>;

    /// The token with this hash.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>>;

    /// Every token, oldest first.
    async fn tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Deletes a token by id. Returns whether it existed.
    async fn delete_token(&self, id: &str) -> Result<bool>;

    /// Whether a token was ever stored: true from the first `put_token` on, even once
    /// every token is deleted (see the module doc).
    async fn had_tokens(&self) -> Result<bool>;
}
