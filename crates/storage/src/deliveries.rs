//! The deliveries role: every request a webhook received, with its verdict, kept so that
//! an operator can see why a sender's calls did or did not start anything, and replay
//! one.
//!
//! A delivery is stored after it is judged (verified, mapped, started or refused), with
//! the headers as the app chose to keep them (secret ones redacted before they reach
//! the store) and the body as received, byte for byte.
//!
//! Contract, checked for every backend by the shared suite (`suite::deliveries`):
//! - `record_delivery` stores a delivery under the next `seq` (increasing, never
//!   reused) and returns it; `delivery(seq)` reads it back exactly (the body's bytes
//!   included); a seq never stored is `None`.
//! - `deliveries(trigger, query)` lists one trigger's deliveries newest first (by
//!   `seq`), after a cursor, at most `limit` (0 means [`DEFAULT_LIMIT`]), with the
//!   cursor of the next page when there is one.
//! - A trigger keeps its newest [`KEPT_PER_TRIGGER`] deliveries: recording one more
//!   forgets its oldest.
//!
//! [`DEFAULT_LIMIT`]: crate::DEFAULT_LIMIT

use async_trait::async_trait;
use serde_json::Value;

use crate::records::{Page, Paged};
use crate::{ExecutionId, Result, Timestamp};

/// How many deliveries a trigger keeps (the newest).
pub const KEPT_PER_TRIGGER: usize = 500;

/// A delivery to record (its `seq` is the store's to give).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// The trigger that took it (`workflow.position`).
    pub trigger: String,
    /// The hook's name.
    pub hook: String,
    /// Whether it proved its sender (a signature checked, or a loopback-only hook on
    /// loopback): only a verified delivery may be replayed.
    pub verified: bool,
    /// When it arrived.
    pub received_at: Timestamp,
    /// `started`, `duplicate`, `rejected`, `forbidden`, `paused`, `invalid` or `failed`.
    pub verdict: String,
    /// Why it was refused, when it was.
    pub reason: Option<String>,
    /// The execution it started (or, for a duplicate, the first one).
    pub execution: Option<ExecutionId>,
    /// The HTTP method.
    pub method: String,
    /// The headers as kept (`{name: value}`, names lower-cased, secret ones redacted).
    pub headers: Value,
    /// The query parameters (`{name: value}`).
    pub query: Value,
    /// The body, as received.
    pub body: Vec<u8>,
    /// The delivery this one replays, for a replay.
    pub replay_of: Option<u64>,
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    /// Its number, from 1, increasing.
    pub seq: u64,
    /// What was recorded.
    pub delivery: NewDelivery,
}

impl Paged for DeliveryRecord {
    type Cursor = u64;
    fn cursor(&self) -> u64 {
        self.seq
    }
}

/// A listing of one trigger's deliveries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryQuery {
    /// Only deliveries older than this one (the previous page's `next`).
    pub after: Option<u64>,
    /// At most this many (0 means the default).
    pub limit: usize,
}

/// Webhook deliveries.
#[async_trait]
pub trait Deliveries: Send + Sync {
    /// Stores a delivery (see the module doc).
    async fn record_delivery(&self, delivery: &NewDelivery) -> Result<DeliveryRecord>;

    /// The delivery `seq`, if stored.
    async fn delivery(&self, seq: u64) -> Result<Option<DeliveryRecord>>;

    /// A page of one trigger's deliveries, newest first.
    async fn deliveries(
        &self,
        trigger: &str,
        query: &DeliveryQuery,
    ) -> Result<Page<DeliveryRecord>>;
}
