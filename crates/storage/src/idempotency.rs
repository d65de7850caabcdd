//! The idempotency role: looking up the idempotency keys that commits stored, and
//! forgetting expired ones.
//!
//! A key is stored by [`ExecutionLog::commit`] with the execution it starts
//! ([`CommitBatch::idempotency`]), which is where its uniqueness is decided (a second
//! execution with the key, while it holds, is left out of its batch and reported). This
//! role answers "which execution did this key start?" for the API, and prunes.
//!
//! Contract, checked for every backend by the shared suite (`suite::idempotency`):
//! - A record holds its key while `now < expires_at`: `idempotency` answers it then,
//!   and `None` once it has expired (or was never stored).
//! - `prune_idempotency` deletes the records expired at `now` and says how many; it
//!   leaves the others alone. An expired record that is not pruned yet changes nothing:
//!   a commit replaces it.
//!
//! [`ExecutionLog::commit`]: crate::ExecutionLog::commit
//! [`CommitBatch::idempotency`]: crate::CommitBatch::idempotency

use async_trait::async_trait;

use crate::Result;
use crate::records::IdempotencyRecord;
use crate::time::Timestamp;

/// Idempotency keys.
#[async_trait]
pub trait Idempotency: Send + Sync {
    /// The record that holds (scope, key) at `now`, if any (unexpired only).
    async fn idempotency(
        &self,
        scope: &str,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>>;

    /// Deletes the records expired at `now`; returns how many.
    async fn prune_idempotency(&self, now: Timestamp) -> Result<u64>;
}
