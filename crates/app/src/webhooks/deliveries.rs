//! Webhook deliveries: recording each with its verdict, listing a trigger's, and
//! replaying a stored one.
//!
//! A delivery is recorded after it is judged, whatever the verdict: `started`,
//! `duplicate` (its `dedup` value was seen: the first execution answers), `rejected`
//! (the signature is missing, wrong or stale), `forbidden` (`preset: none` beyond
//! loopback), `paused`, `invalid` (its mapping failed or the inputs do not match the
//! workflow), or `failed` (anything else). Headers whose name says they carry a
//! credential (a signature, a token, a key, a cookie, authorization) are stored as
//! `[redacted]`, and so is the header a `hmac` hook is signed in.
//!
//! A replay maps the stored request again under the hook's current definition and
//! starts anew, without `dedup` (replaying is asking for another run), and is recorded
//! as a delivery of its own (`replay_of`). Only a delivery that passed verification is
//! replayed (its `verified` flag, set when it was received: verification comes before
//! any other check): one that was `rejected` or `forbidden`, or that could not be
//! checked (its secret unset), never proved its sender, and an operator's click must
//! not start what a forger sent.
//!
//! Invariant: failing to store a delivery does not undo or hide what it did (the
//! execution it started stands; the failure is logged and the receipt says `None`).

use harmonia_model::WebhookPlan;
use harmonia_storage::{DeliveryQuery, DeliveryRecord, NewDelivery, Page, Timestamp};
use serde_json::{Map, Value};

use super::{HookReceipt, HookRequest, Webhooks, lowercase};
use crate::{Ctx, Error, Result};

/// What a stored secret header reads as.
const REDACTED: &str = "[redacted]";

/// Parts of a header name that say it carries a credential.
const SECRET_HEADER_PARTS: [&str; 7] = [
    "auth",
    "token",
    "secret",
    "signature",
    "cookie",
    "key",
    "password",
];

impl Webhooks {
    /// A page of the deliveries of trigger `id`, newest first: at most `limit` (1 to
    /// 500, default 50), after `cursor` (the previous page's `next`).
    pub async fn deliveries(
        &self,
        id: &str,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<Page<DeliveryRecord>> {
        let query = DeliveryQuery {
            after: crate::seq_cursor(cursor)?,
            limit: crate::limit(limit, 50, 500)?,
        };
        crate::Triggers(self.0.clone()).get(id).await?;
        Ok(self.0.store().deliveries(id, &query).await?)
    }

    /// Delivery `seq`.
    pub async fn delivery(&self, seq: u64) -> Result<DeliveryRecord> {
        self.0
            .store()
            .delivery(seq)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no delivery {seq}")))
    }

    /// Maps stored delivery `seq` again and starts anew (see the module doc).
    pub async fn replay(&self, seq: u64) -> Result<HookReceipt> {
        let stored = self.delivery(seq).await?.delivery;
        if !stored.verified {
            return Err(Error::Conflict(format!(
                "delivery {seq} was {} ({}) before its sender was verified: only a delivery that passed verification can be replayed",
                stored.verdict,
                stored.reason.as_deref().unwrap_or("no reason recorded")
            )));
        }
        let (workflow, plan) = self.find(&stored.hook).await?;
        let trigger = crate::triggers::trigger_id(&workflow.record.name, plan.index);
        let request = HookRequest {
            name: stored.hook.clone(),
            method: stored.method.clone(),
            headers: pairs(&stored.headers),
            query: pairs(&stored.query),
            body: stored.body.clone(),
            loopback: false,
        };
        let received_at = Timestamp::now();
        let outcome = async {
            self.refuse_paused(&trigger, &request.name).await?;
            self.start(workflow, &plan, &trigger, &request, false).await
        }
        .await;
        record(
            &self.0,
            &plan,
            &trigger,
            &request,
            received_at,
            outcome,
            Origin {
                // It was verified when it arrived; its signature is not kept to check
                // again.
                verified: true,
                replay_of: Some(seq),
            },
        )
        .await
    }
}

/// Where a recorded delivery comes from: whether it proved its sender, and the
/// delivery it replays.
#[derive(Debug, Clone, Copy)]
pub(super) struct Origin {
    pub(super) verified: bool,
    pub(super) replay_of: Option<u64>,
}

/// Records a judged delivery, and gives back its outcome with the delivery's number.
pub(super) async fn record(
    ctx: &Ctx,
    plan: &WebhookPlan,
    trigger: &str,
    request: &HookRequest,
    received_at: Timestamp,
    outcome: Result<HookReceipt>,
    origin: Origin,
) -> Result<HookReceipt> {
    let (verdict, reason, execution) = match &outcome {
        Ok(r) if r.duplicate => ("duplicate", None, Some(r.execution)),
        Ok(r) => ("started", None, Some(r.execution)),
        Err(e) => (verdict(e), Some(e.to_string()), None),
    };
    let delivery = NewDelivery {
        trigger: trigger.to_string(),
        hook: request.name.clone(),
        verified: origin.verified,
        received_at,
        verdict: verdict.to_string(),
        reason,
        execution,
        method: request.method.clone(),
        headers: redacted(plan, request),
        query: Value::Object(
            request
                .query
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
        body: request.body.clone(),
        replay_of: origin.replay_of,
    };
    let stored = match ctx.store().record_delivery(&delivery).await {
        Ok(d) => Some(d.seq),
        Err(e) => {
            tracing::error!(hook = %request.name, error = %e, "storing a webhook delivery failed");
            None
        }
    };
    outcome.map(|mut r| {
        r.delivery = stored;
        r
    })
}

fn verdict(e: &Error) -> &'static str {
    match e {
        Error::BadSignature(_) => "rejected",
        Error::Forbidden(_) => "forbidden",
        Error::Conflict(_) => "paused",
        Error::InvalidRequest(_) | Error::InvalidInputs(_) => "invalid",
        _ => "failed",
    }
}

/// The headers to store: names lower-cased, credentials redacted.
fn redacted(plan: &WebhookPlan, request: &HookRequest) -> Value {
    let signed_in = plan.verify.header.as_deref().map(str::to_ascii_lowercase);
    let headers: Map<String, Value> = lowercase(&request.headers)
        .into_iter()
        .map(|(name, value)| {
            let secret = SECRET_HEADER_PARTS.iter().any(|p| name.contains(p))
                || signed_in.as_deref() == Some(name.as_str());
            let value = if secret { REDACTED.to_string() } else { value };
            (name, Value::String(value))
        })
        .collect();
    Value::Object(headers)
}

/// A stored `{name: value}` object as pairs.
fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}
