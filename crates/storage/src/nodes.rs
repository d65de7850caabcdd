//! The nodes role: the engines that share a store, their leases, and which of them
//! owns each unfinished execution.
//!
//! Every node (one `harmonia serve` process) has a row: its id, its *incarnation* (a
//! random value of this process, so that a restarted node with the same id is told
//! from a live one), and the time its lease expires. It renews the lease well before
//! then. A node is *live* while its lease has not expired; an execution whose owner is
//! not live (or that has no owner) is an *orphan*, which any node may claim.
//!
//! Claiming is how an execution changes hands: it sets the owner and adds 1 to the
//! fence (nothing else of the row changes), in one statement, and returns the new
//! fence. The engine's commits are conditioned on the fence it holds, so the node that
//! had the execution before can never write to it again (see the `ExecutionLog`
//! contract): that, not the lease, is what keeps two nodes from both writing. A lease
//! only says when the others may take over.
//!
//! Contract, checked for every backend by the shared suite (`suite::nodes`):
//! - `join` stores the node's row; a row of the same id whose lease has not expired and
//!   whose incarnation differs refuses it ([`Error::Conflict`]: two processes were given
//!   one id); an expired row of that id (the same node, restarted) is replaced.
//! - `renew` moves the lease of the row of (id, incarnation) and answers `true`; no
//!   such row (another process took the id after the lease expired, or the node left)
//!   answers `false` and changes nothing.
//! - `leave` deletes the row of (id, incarnation) and clears the owner of the node's
//!   unfinished executions, so that others claim them at once.
//! - `nodes` lists every row, live or not, by id, with how many unfinished executions
//!   each owns.
//! - `prune` deletes the rows whose lease expired before a time (nodes long gone: their
//!   rows only inform, since a node without a live row owns nothing), and answers how
//!   many.
//! - `claim_orphans` claims every unfinished execution that has no owner or whose owner
//!   is not live at `now`, oldest first; with `own`, also those `owner` owns already
//!   (a node starting again under its id); never one another live node owns.
//! - `try_lock` takes the named lock for `holder` until a time, with a note, when nobody holds it,
//!   `holder` holds it already (it is then extended), or its holder's time has passed;
//!   `true` when taken. Of concurrent takers, at most one gets it. `unlock` releases it
//!   if `holder` holds it. Locks serialize decisions across nodes (a workflow's
//!   concurrency policy, a worker's lease); the time bounds how long a node that died
//!   holding one blocks the others.
//! - `swap_lock` rewrites a lock's note and time only if `holder` still holds it with
//!   the note the caller read (expired or not): a compare-and-swap, so that of two
//!   nodes moving one lock on from what each read, one does and the other learns that
//!   it moved (a worker lease's answer, applied once and recorded once).
//! - `locks` lists the locks whose name starts with a prefix, expired ones included,
//!   by name; `lock_held_by` is the lock a holder holds (the first by name, if it holds
//!   several), expired or not, or `None`.
//! - `claim` claims one unfinished execution: an orphan, or one `owner` owns already,
//!   or, with `steal`, whoever owns it; `None` when it has ended, does not exist, or
//!   (without `steal`) another live node owns it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::Error;
use crate::{ExecutionId, Result, Timestamp};

/// A node's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Its id (`--node-id`, or random).
    pub id: String,
    /// A random value of the process holding the id.
    pub incarnation: String,
    /// Where its API listens, as it says (for operators; nothing connects to it).
    pub address: Option<String>,
    /// The Harmonia version it runs.
    pub version: String,
    /// When it joined.
    pub started_at: Timestamp,
    /// When it last renewed its lease.
    pub renewed_at: Timestamp,
    /// When its lease expires, unless renewed.
    pub expires_at: Timestamp,
    /// How many unfinished executions it owns (read by `nodes`; ignored by `join`).
    #[serde(default)]
    pub owned: u64,
}

/// A named lock's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    /// Its name.
    pub name: String,
    /// Who holds it.
    pub holder: String,
    /// Until when, unless extended.
    pub expires_at: Timestamp,
    /// What its holder wrote of it (who a worker's lease is for).
    pub note: String,
}

impl NodeRecord {
    /// Whether its lease holds at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

/// The nodes sharing a store, and the ownership of executions.
#[async_trait]
pub trait Nodes: Send + Sync {
    /// Stores a node's row (see the module doc).
    async fn join(&self, node: &NodeRecord) -> Result<()>;

    /// Renews a node's lease: `false` when its row is gone.
    async fn renew(
        &self,
        id: &str,
        incarnation: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool>;

    /// Deletes a node's row and releases its unfinished executions.
    async fn leave(&self, id: &str, incarnation: &str) -> Result<()>;

    /// Every node's row, by id, with the count of what it owns.
    async fn nodes(&self) -> Result<Vec<NodeRecord>>;

    /// Deletes the rows whose lease expired before `expired_before`; how many.
    async fn prune(&self, expired_before: Timestamp) -> Result<u64>;

    /// Claims the orphaned unfinished executions for `owner` (and, with `own`, those
    /// it owns already); returns each with its new fence, oldest first.
    async fn claim_orphans(
        &self,
        owner: &str,
        now: Timestamp,
        own: bool,
    ) -> Result<Vec<(ExecutionId, u64)>>;

    /// Takes lock `name` for `holder` until `until`, with `note`, if it is free,
    /// expired, or `holder`'s (see the module doc).
    async fn try_lock(
        &self,
        name: &str,
        holder: &str,
        note: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool>;

    /// Rewrites the note and time of lock `name` if `holder` holds it (expired or not)
    /// and its note is still `expected`; `true` when rewritten (see the module doc).
    async fn swap_lock(
        &self,
        name: &str,
        holder: &str,
        expected: &str,
        note: &str,
        until: Timestamp,
    ) -> Result<bool>;

    /// Releases lock `name` if `holder` holds it.
    async fn unlock(&self, name: &str, holder: &str) -> Result<()>;

    /// The locks whose name starts with `prefix`, by name, expired ones included.
    async fn locks(&self, prefix: &str) -> Result<Vec<LockRecord>>;

    /// The lock `holder` holds (the first by name), expired or not.
    async fn lock_held_by(&self, holder: &str) -> Result<Option<LockRecord>>;

    /// Claims one unfinished execution for `owner`; its new fence, or `None`.
    async fn claim(
        &self,
        id: ExecutionId,
        owner: &str,
        now: Timestamp,
        steal: bool,
    ) -> Result<Option<u64>>;
}
