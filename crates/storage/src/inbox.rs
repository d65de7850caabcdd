//! The inbox role: CloudEvents received through the API, kept once each, until (and
//! after) the engine routes them to the executions that wait for them.
//!
//! The API stores an event with `receive` before it answers, so an acknowledged event is
//! durable; the engine routes what is `unrouted` (after a restart too) and records where
//! it went with `mark_routed`. Routing is at least once: an event routed but not yet
//! marked when the process stops is routed again.
//!
//! Contract, checked for every backend by the shared suite (`suite::inbox`):
//! - (source, id) is unique: `receive` stores a new event under the next `seq`
//!   (increasing, never reused) and answers [`Received::New`]; an event whose (source,
//!   id) is stored already is not stored again and the stored one comes back, unchanged,
//!   as [`Received::Duplicate`]. Of concurrent receipts of one (source, id), exactly one
//!   is `New`.
//! - An event whose JSON nests deeper than [`MAX_STORED_DEPTH`] is refused
//!   ([`Error::Invalid`]), and so are `deliveries` nested that deep; nothing is written.
//! - `mark_routed` sets `routed_at` and `deliveries` (a second call replaces both); a
//!   `seq` that was never received is [`Error::Invalid`].
//! - `unrouted` lists the events never marked routed, oldest first (by `seq`).
//! - `inbox` lists newest first (by `seq`), filtered by type, after a cursor (the `seq`
//!   of the previous page's last event), at most `limit` (0 means
//!   [`DEFAULT_LIMIT`](crate::DEFAULT_LIMIT)), with the cursor of the next page when
//!   there is one.
//!
//! [`MAX_STORED_DEPTH`]: crate::json::MAX_STORED_DEPTH

use async_trait::async_trait;
use serde_json::Value;

#[cfg(doc)]
use crate::Error;
use crate::Result;
use crate::json::RawJson;
use crate::records::{InboxEvent, InboxQuery, Page, Received};
use crate::time::Timestamp;

/// Received CloudEvents.
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Stores an event unless its (source, id) was received before (see the module
    /// doc).
    async fn receive(
        &self,
        source: &str,
        id: &str,
        ty: &str,
        event: &RawJson,
        at: Timestamp,
    ) -> Result<Received>;

    /// Records where an event went.
    async fn mark_routed(&self, seq: u64, deliveries: &Value, at: Timestamp) -> Result<()>;

    /// The events never routed, oldest first.
    async fn unrouted(&self) -> Result<Vec<InboxEvent>>;

    /// A page of events, newest first.
    async fn inbox(&self, query: &InboxQuery) -> Result<Page<InboxEvent>>;
}
