//! The suite of the deliveries role ([`Deliveries`](crate::Deliveries)) and of the
//! schedules' fire marks ([`TriggerStates`](crate::TriggerStates)).

use serde_json::json;

use super::expect;
use crate::prelude::*;
use crate::{DeliveryQuery, ExecutionId, KEPT_PER_TRIGGER, NewDelivery, Timestamp};

fn delivery(trigger: &str, n: u8) -> NewDelivery {
    NewDelivery {
        trigger: trigger.to_string(),
        hook: "push".to_string(),
        verified: n.is_multiple_of(2),
        received_at: Timestamp(1_000 + i64::from(n)),
        verdict: if n.is_multiple_of(2) {
            "started"
        } else {
            "rejected"
        }
        .to_string(),
        reason: (!n.is_multiple_of(2)).then(|| "the signature does not match".to_string()),
        execution: (n.is_multiple_of(2)).then(ExecutionId::new),
        method: "POST".to_string(),
        headers: json!({"content-type": "application/json", "x-hub-signature-256": "[redacted]"}),
        query: json!({"n": n.to_string()}),
        // Bytes that are not UTF-8 come back as they went in.
        body: vec![0, 159, 146, 150, n, b'{', b'}'],
        replay_of: (n == 3).then_some(1),
    }
}

/// A delivery comes back exactly; a seq never stored is `None`.
pub async fn a_delivery_comes_back_exactly(store: &dyn Store) {
    let first = expect(store.record_delivery(&delivery("a.0", 0)).await, "record");
    let second = expect(store.record_delivery(&delivery("a.0", 3)).await, "record");
    assert!(second.seq > first.seq, "seqs increase");
    assert_eq!(
        expect(store.delivery(first.seq).await, "read"),
        Some(first.clone())
    );
    assert_eq!(
        expect(store.delivery(second.seq).await, "read"),
        Some(second)
    );
    assert_eq!(expect(store.delivery(9_999).await, "read"), None);
    assert_eq!(expect(store.delivery(0).await, "read"), None);
    assert_eq!(expect(store.delivery(u64::MAX).await, "read"), None);
}

/// One trigger's deliveries, newest first, by pages; another trigger's are apart.
pub async fn deliveries_list_newest_first_by_trigger(store: &dyn Store) {
    for n in 0..5 {
        expect(store.record_delivery(&delivery("a.0", n)).await, "record");
        expect(store.record_delivery(&delivery("b.0", n)).await, "record");
    }
    let q = DeliveryQuery {
        after: None,
        limit: 2,
    };
    let page = expect(store.deliveries("a.0", &q).await, "list");
    let queries: Vec<_> = page
        .items
        .iter()
        .map(|d| d.delivery.query.clone())
        .collect();
    assert_eq!(queries, vec![json!({"n": "4"}), json!({"n": "3"})]);
    let mut seen = page.items.len();
    let mut next = page.next;
    while let Some(after) = next {
        let page = expect(
            store
                .deliveries(
                    "a.0",
                    &DeliveryQuery {
                        after: Some(after),
                        limit: 2,
                    },
                )
                .await,
            "page",
        );
        assert!(page.items.iter().all(|d| d.delivery.trigger == "a.0"));
        assert!(page.items.iter().all(|d| d.seq < after));
        seen += page.items.len();
        next = page.next;
    }
    assert_eq!(seen, 5);
    let none = expect(
        store.deliveries("zz.0", &DeliveryQuery::default()).await,
        "none",
    );
    assert!(none.items.is_empty() && none.next.is_none());
}

/// A trigger keeps its newest deliveries; another trigger's are not forgotten for it.
pub async fn a_trigger_keeps_its_newest_deliveries(store: &dyn Store) {
    let other = expect(store.record_delivery(&delivery("b.0", 0)).await, "other");
    let mut seqs = Vec::new();
    for n in 0..KEPT_PER_TRIGGER + 3 {
        let d = expect(
            store
                .record_delivery(&delivery("a.0", u8::try_from(n % 200).unwrap_or(0)))
                .await,
            "record",
        );
        seqs.push(d.seq);
    }
    let mut kept = 0;
    let mut next = None;
    loop {
        let page = expect(
            store
                .deliveries(
                    "a.0",
                    &DeliveryQuery {
                        after: next,
                        limit: 200,
                    },
                )
                .await,
            "list",
        );
        kept += page.items.len();
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    assert_eq!(kept, KEPT_PER_TRIGGER);
    assert_eq!(expect(store.delivery(seqs[0]).await, "oldest"), None);
    assert!(expect(store.delivery(seqs[3]).await, "kept").is_some());
    assert!(expect(store.delivery(other.seq).await, "other").is_some());
}

/// Fire marks only move forward, by schedule.
pub async fn fire_marks_only_move_forward(store: &dyn Store) {
    assert!(expect(store.fire_marks().await, "fresh").is_empty());
    expect(store.mark_fired("b.0", Timestamp(100)).await, "mark");
    expect(store.mark_fired("a.2", Timestamp(50)).await, "mark");
    expect(store.mark_fired("b.0", Timestamp(300)).await, "later");
    expect(store.mark_fired("b.0", Timestamp(200)).await, "earlier");
    assert_eq!(
        expect(store.fire_marks().await, "list"),
        vec![
            ("a.2".to_string(), Timestamp(50)),
            ("b.0".to_string(), Timestamp(300))
        ]
    );
}
