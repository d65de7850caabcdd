//! Events: CloudEvents received through the API, kept once, and delivered to the
//! tasks that wait for them.
//!
//! [`Events::receive`] checks an event (CloudEvents 1.0, structured JSON; every
//! problem reported, [`Error::InvalidEvent`]), stores it in the inbox unless its
//! (`source`, `id`) was received before, and, when it is new, delivers it to every
//! `wait_event` task waiting on its type whose filter it matches, recording where it
//! went. A repeat (the same `source` and `id`) stores and delivers nothing and answers
//! the first receipt: an event delivered twice starts nothing twice. An event that
//! matches no waiting task is kept all the same (the triggers will use it).
//!
//! Invariants: an acknowledged event is stored before it is delivered; one stored but
//! not yet routed when the process stops is routed at the next start
//! ([`Events::route_unrouted`]), so delivery is at least once and a waiting task takes
//! at most one event (its wait ends with the first).

pub mod binary;
pub mod cloudevent;
mod triggers;

use harmonia_engine::Delivery;
use harmonia_storage::json::RawJson;
use harmonia_storage::{InboxEvent, InboxQuery, Received, Timestamp};
use serde_json::{Value, json};

use crate::{Ctx, Error, Result};

/// Events (see the module doc).
#[derive(Clone)]
pub struct Events(pub(crate) Ctx);

/// What receiving an event did.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The stored event (the first receipt's, for a repeat).
    pub event: InboxEvent,
    /// Whether it repeats an event received before (nothing was stored or delivered).
    pub duplicate: bool,
}

/// A page of received events, newest first.
#[derive(Debug, Clone)]
pub struct EventPage {
    /// The events.
    pub items: Vec<InboxEvent>,
    /// Pass as `cursor` to get the next page.
    pub next_cursor: Option<String>,
}

impl Events {
    /// Receives an event (see the module doc).
    pub async fn receive(&self, body: Value) -> Result<Receipt> {
        let event = cloudevent::check(body).map_err(Error::InvalidEvent)?;
        let raw = RawJson::to_raw(&event.raw).map_err(|m| {
            Error::InvalidEvent(vec![cloudevent::Problem {
                attribute: String::new(),
                message: m,
            }])
        })?;
        let store = self.0.store();
        let received = store
            .receive(&event.source, &event.id, &event.ty, &raw, Timestamp::now())
            .await?;
        match received {
            Received::Duplicate(first) => Ok(Receipt {
                event: first,
                duplicate: true,
            }),
            Received::New(stored) => {
                let event = self.route(stored).await?;
                Ok(Receipt {
                    event,
                    duplicate: false,
                })
            }
        }
    }

    /// Delivers the events stored but never routed (after a stop between the two).
    /// Returns how many.
    pub async fn route_unrouted(&self) -> Result<usize> {
        let pending = self.0.store().unrouted().await?;
        let n = pending.len();
        for event in pending {
            self.route(event).await?;
        }
        Ok(n)
    }

    /// A page of received events, newest first, of one type if `ty` is set.
    pub async fn list(
        &self,
        ty: Option<String>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<EventPage> {
        let after = crate::seq_cursor(cursor)?;
        let page = self
            .0
            .store()
            .inbox(&InboxQuery {
                ty: crate::present(ty),
                after,
                limit: crate::limit(limit, 50, 500)?,
            })
            .await?;
        Ok(EventPage {
            items: page.items,
            next_cursor: page.next.map(|n| n.to_string()),
        })
    }

    /// Delivers a stored event and records where it went.
    async fn route(&self, mut event: InboxEvent) -> Result<InboxEvent> {
        let value: Value = event
            .event
            .decode()
            .map_err(|m| Error::Internal(format!("a stored event does not read: {m}")))?;
        let delivered = self.0.handle.deliver_event(value.clone()).await?;
        let started = self.fire_triggers(&value).await?;
        let deliveries = Value::Array(delivered.iter().map(delivery).chain(started).collect());
        let at = Timestamp::now();
        self.0
            .store()
            .mark_routed(event.seq, &deliveries, at)
            .await?;
        event.routed_at = Some(at);
        event.deliveries = Some(deliveries);
        Ok(event)
    }
}

fn delivery(d: &Delivery) -> Value {
    json!({"execution_id": d.execution.to_string(), "task": d.task, "item": d.item})
}
