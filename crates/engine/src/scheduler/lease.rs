//! The node's membership: joining the nodes that share a store, renewing its lease,
//! taking over the executions of nodes whose lease expired, and leaving.
//!
//! Only an engine with a lease ([`EngineConfig::lease`]) is a member; one without (a
//! CLI run) claims at start what no live node holds and is otherwise alone.
//!
//! A member's task, beside the scheduler's loop:
//! - renews the lease every third of its length, so that two renewals may fail (a slow
//!   database) before it expires; a renewal that finds the row gone (another process
//!   took the id after the lease expired) joins again;
//! - every [`SCAN`] (or a fifth of the lease, if shorter) claims the orphans: unfinished
//!   executions whose owner's lease has expired (a node killed), or that have no owner
//!   (a node that left). The scheduler then loads and resumes them ([`Command::Adopt`]):
//!   attempts that were in flight on the lost node are recovered, and completed tasks
//!   are never run again, since their results are in the log.
//!
//! Safety does not depend on the lease: an execution changes hands only by a claim,
//! which bumps its fence, and every commit is conditioned on the fence its engine
//! holds. A node that was paused past its lease (SIGSTOP, a long GC-like stall, a
//! partition) resumes, renews, and finds its next commit for each execution that was
//! taken over fenced; it lets go of those and keeps the others.
//!
//! Rows of nodes whose lease expired an hour ago are deleted (every minute, by any
//! member): a node without a live row owns nothing either way.
//!
//! Leaving (after the engine stops) deletes the node's row and clears the owner of its
//! unfinished executions, so that the others claim them at their next scan instead of
//! after the lease.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use harmonia_storage::{NodeRecord, Store, Timestamp};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Command;
use crate::config::EngineConfig;
use crate::error::Result;

/// How often a member looks for orphans, at most.
pub(super) const SCAN: Duration = Duration::from_secs(1);

/// How long the row of a node whose lease expired is kept (for `GET /api/nodes?all=true`)
/// before a member deletes it; members look every [`PRUNE_EVERY`].
const KEEP_GONE: Duration = Duration::from_secs(3600);
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What a refusal of a node's id says to do.
const SAME_ID: &str = "another live process uses this node id; give each node its own (--node-id)";

/// What a node has done as a member, for `/health` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStatus {
    /// The node's id.
    pub id: String,
    /// The lease's length; `None` when the engine is not a member.
    pub lease: Option<Duration>,
    /// Lease renewals that succeeded.
    pub renewals: u64,
    /// Renewals that came after the lease had expired (the node was stalled).
    pub late_renewals: u64,
    /// Executions claimed from other nodes after they were lost or left.
    pub takeovers: u64,
    /// When the lease was last renewed.
    pub renewed_at: Option<Timestamp>,
}

/// The counters behind [`NodeStatus`], shared with the member's task.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    renewals: AtomicU64,
    late_renewals: AtomicU64,
    takeovers: AtomicU64,
    renewed_at: AtomicI64,
}

impl Counters {
    pub(crate) fn status(&self, id: &str, lease: Option<Duration>) -> NodeStatus {
        let renewed = self.renewed_at.load(Ordering::Relaxed);
        NodeStatus {
            id: id.to_owned(),
            lease,
            renewals: self.renewals.load(Ordering::Relaxed),
            late_renewals: self.late_renewals.load(Ordering::Relaxed),
            takeovers: self.takeovers.load(Ordering::Relaxed),
            renewed_at: (renewed > 0).then_some(Timestamp(renewed)),
        }
    }
}

/// A node that has joined.
pub(crate) struct Member {
    store: Arc<dyn Store>,
    record: NodeRecord,
    lease: Duration,
    counters: Arc<Counters>,
}

fn after(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp(t.0.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

impl Member {
    /// Joins the nodes of `store` as `config.node`: refused when a live node holds
    /// that id.
    pub(crate) async fn join(
        store: Arc<dyn Store>,
        config: &EngineConfig,
        lease: Duration,
        counters: Arc<Counters>,
    ) -> Result<Member> {
        let now = Timestamp::now();
        let mut record = NodeRecord {
            id: config.node.clone(),
            incarnation: format!("{:032x}", rand::random::<u128>()),
            address: config.address.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: now,
            renewed_at: now,
            expires_at: after(now, lease),
            owned: 0,
        };
        match store.join(&record).await {
            Ok(()) => {}
            Err(harmonia_storage::Error::Conflict(why)) => {
                // The id's holder may be this node's previous process, killed a moment ago:
                // its lease runs out within one lease. Two live processes with one id are
                // still refused after that.
                tracing::warn!(node = %record.id, "{why}; waiting one lease for it to expire");
                tokio::time::sleep(lease + Duration::from_millis(500)).await;
                let now = Timestamp::now();
                record.started_at = now;
                record.renewed_at = now;
                record.expires_at = after(now, lease);
                if let Err(e) = store.join(&record).await {
                    return Err(match e {
                        harmonia_storage::Error::Conflict(why) => {
                            harmonia_storage::Error::Conflict(format!("{why}: {SAME_ID}"))
                        }
                        e => e,
                    }
                    .into());
                }
            }
            Err(e) => return Err(e.into()),
        }
        let now = record.started_at;
        counters.renewed_at.store(now.0, Ordering::Relaxed);
        tracing::info!(node = %record.id, lease_ms = lease.as_millis() as u64, "joined the nodes sharing the store");
        Ok(Member {
            store,
            record,
            lease,
            counters,
        })
    }

    /// Renews the lease and claims orphans until `stop`; claimed executions go to the
    /// scheduler through `tx`.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        tx: mpsc::Sender<Command>,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let renew_every = me.lease / 3;
            let scan_every = SCAN.min(me.lease / 5).max(Duration::from_millis(10));
            let mut next_renewal = tokio::time::Instant::now() + renew_every;
            let mut next_prune = tokio::time::Instant::now() + PRUNE_EVERY;
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(scan_every) => {}
                }
                if tokio::time::Instant::now() >= next_renewal {
                    me.renew().await;
                    next_renewal = tokio::time::Instant::now() + renew_every;
                }
                me.take_over(&tx).await;
                if tokio::time::Instant::now() >= next_prune {
                    let before = Timestamp(
                        Timestamp::now()
                            .0
                            .saturating_sub(KEEP_GONE.as_millis() as i64),
                    );
                    if let Err(e) = me.store.prune(before).await {
                        tracing::warn!(error = %e, "cannot delete the rows of nodes long gone");
                    }
                    next_prune = tokio::time::Instant::now() + PRUNE_EVERY;
                }
            }
        })
    }

    async fn renew(&self) {
        let now = Timestamp::now();
        let expired = Timestamp(self.counters.renewed_at.load(Ordering::Relaxed));
        let late = after(expired, self.lease) <= now;
        let id = &self.record.id;
        match self
            .store
            .renew(id, &self.record.incarnation, now, after(now, self.lease))
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(node = %id, "this node's row was gone; joining again");
                let mut record = self.record.clone();
                record.renewed_at = now;
                record.expires_at = after(now, self.lease);
                if let Err(e) = self.store.join(&record).await {
                    tracing::error!(node = %id, error = %e, "cannot join again");
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(node = %id, error = %e, "the lease was not renewed; trying again");
                return;
            }
        }
        self.counters.renewed_at.store(now.0, Ordering::Relaxed);
        self.counters.renewals.fetch_add(1, Ordering::Relaxed);
        if late {
            self.counters.late_renewals.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                node = %id,
                "the lease had expired before this renewal (the node was stalled): executions other nodes took over meanwhile are let go at their next commit"
            );
        }
    }

    async fn take_over(&self, tx: &mpsc::Sender<Command>) {
        let claimed = match self
            .store
            .claim_orphans(&self.record.id, Timestamp::now(), false)
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(node = %self.record.id, error = %e, "cannot look for executions to take over");
                return;
            }
        };
        if claimed.is_empty() {
            return;
        }
        let n = claimed.len() as u64;
        self.counters.takeovers.fetch_add(n, Ordering::Relaxed);
        tracing::info!(node = %self.record.id, executions = n, "took over executions of a node that was lost or left");
        let _ = tx.send(Command::Adopt { ids: claimed }).await;
    }

    /// Leaves: deletes the row and releases what the node still owns.
    pub(crate) async fn leave(&self) {
        match self
            .store
            .leave(&self.record.id, &self.record.incarnation)
            .await
        {
            Ok(()) => {
                tracing::info!(node = %self.record.id, "left; unfinished executions are released to the other nodes")
            }
            Err(e) => {
                tracing::warn!(node = %self.record.id, error = %e, "cannot leave; the other nodes take over when the lease expires")
            }
        }
    }
}
