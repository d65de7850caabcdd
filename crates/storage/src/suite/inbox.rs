//! The suite of the inbox role ([`Inbox`]): events are kept once by
//! (source, id), concurrent receipts included; routing is recorded; listings page
//! newest first.

use serde_json::json;

use super::expect;
use crate::json::RawJson;
use crate::prelude::*;
use crate::records::{InboxEvent, InboxQuery, Received};
use crate::{Error, Timestamp};

fn cloud_event(source: &str, id: &str, ty: &str) -> RawJson {
    RawJson::from(&json!({
        "specversion": "1.0",
        "source": source,
        "id": id,
        "type": ty,
        "data": {"n": 1, "text": "é \u{1F600}"}
    }))
}

async fn receive(store: &dyn Store, source: &str, id: &str, ty: &str, at: i64) -> Received {
    expect(
        store
            .receive(source, id, ty, &cloud_event(source, id, ty), Timestamp(at))
            .await,
        "receive",
    )
}

async fn new(store: &dyn Store, source: &str, id: &str, ty: &str, at: i64) -> InboxEvent {
    match receive(store, source, id, ty, at).await {
        Received::New(e) => e,
        Received::Duplicate(e) => panic!("a new event came back as a duplicate: {e:?}"),
    }
}

/// A new (source, id) is stored under an increasing seq, exactly as given; the same
/// (source, id) again returns the first, unchanged, whatever the second carried.
pub async fn an_event_is_received_once(store: &dyn Store) {
    let first = new(store, "/shop", "e1", "order.paid", 10).await;
    assert_eq!(
        first,
        InboxEvent {
            seq: first.seq,
            source: "/shop".into(),
            id: "e1".into(),
            ty: "order.paid".into(),
            received_at: Timestamp(10),
            event: cloud_event("/shop", "e1", "order.paid"),
            routed_at: None,
            deliveries: None,
        }
    );
    let again = expect(
        store
            .receive(
                "/shop",
                "e1",
                "order.refunded",
                &RawJson::from(&json!({"other": true})),
                Timestamp(20),
            )
            .await,
        "again",
    );
    assert!(!again.is_new());
    assert_eq!(again, Received::Duplicate(first.clone()));
    let other_source = new(store, "/bank", "e1", "order.paid", 30).await;
    let other_id = new(store, "/shop", "e2", "order.paid", 40).await;
    assert!(first.seq < other_source.seq && other_source.seq < other_id.seq);
    assert_eq!(
        expect(store.unrouted().await, "unrouted"),
        vec![first, other_source, other_id]
    );
}

/// Of many concurrent receipts of one (source, id), exactly one is new, and every
/// other returns that one; receipts of other ids beside them are all new.
pub async fn concurrent_receipts_make_one_new_event(store: &dyn Store) {
    let same = (0..32).map(|i| receive(store, "/s", "same", "t", i));
    let others = (0..8).map(|i| async move {
        let id = format!("other-{i}");
        receive(store, "/s", &id, "t", i).await
    });
    let (same, others) = futures::future::join(
        futures::future::join_all(same),
        futures::future::join_all(others),
    )
    .await;
    let news: Vec<&InboxEvent> = same
        .iter()
        .filter_map(|r| match r {
            Received::New(e) => Some(e),
            Received::Duplicate(_) => None,
        })
        .collect();
    assert_eq!(news.len(), 1, "{same:?}");
    assert!(same.iter().all(|r| r.event() == news[0]));
    assert!(others.iter().all(Received::is_new));
    assert_eq!(expect(store.unrouted().await, "unrouted").len(), 9);
}

/// Marking an event routed records when and where it went, and takes it out of
/// `unrouted`; a second mark replaces the first. An unknown seq, or deliveries nested
/// too deep, are refused and change nothing.
pub async fn routing_is_recorded(store: &dyn Store) {
    let e1 = new(store, "/s", "1", "t", 1).await;
    let e2 = new(store, "/s", "2", "t", 2).await;
    let e3 = new(store, "/s", "3", "t", 3).await;
    let deliveries = json!([{"execution": "x", "task": "wait", "item": null}]);
    expect(
        store.mark_routed(e2.seq, &deliveries, Timestamp(50)).await,
        "mark",
    );
    assert_eq!(
        expect(store.unrouted().await, "unrouted"),
        vec![e1.clone(), e3.clone()]
    );
    let listed = expect(store.inbox(&InboxQuery::default()).await, "list");
    let routed = InboxEvent {
        routed_at: Some(Timestamp(50)),
        deliveries: Some(deliveries),
        ..e2.clone()
    };
    assert_eq!(listed.items, vec![e3.clone(), routed, e1.clone()]);

    expect(
        store.mark_routed(e2.seq, &json!([]), Timestamp(60)).await,
        "again",
    );
    let listed = expect(store.inbox(&InboxQuery::default()).await, "list");
    assert_eq!(listed.items[1].routed_at, Some(Timestamp(60)));
    assert_eq!(listed.items[1].deliveries, Some(json!([])));

    let unknown = store
        .mark_routed(e3.seq + 100, &json!([]), Timestamp(70))
        .await;
    assert!(matches!(unknown, Err(Error::Invalid(_))), "{unknown:?}");
    let mut deep = json!(1);
    for _ in 0..=crate::json::MAX_STORED_DEPTH {
        deep = json!([deep]);
    }
    let deep = store.mark_routed(e1.seq, &deep, Timestamp(70)).await;
    assert!(matches!(deep, Err(Error::Invalid(_))), "{deep:?}");
    assert_eq!(expect(store.unrouted().await, "unrouted"), vec![e1, e3]);
}

/// The inbox lists newest first, by type, in pages that say where the next begins.
pub async fn the_inbox_pages_newest_first(store: &dyn Store) {
    let mut events = Vec::new();
    for i in 0..7 {
        let ty = if i % 2 == 0 { "a" } else { "b" };
        events.push(new(store, "/s", &format!("e{i}"), ty, i).await);
    }
    let seqs = |items: &[InboxEvent]| items.iter().map(|e| e.seq).collect::<Vec<_>>();
    let list = |q: InboxQuery| async move { expect(store.inbox(&q).await, "list") };

    let all = list(InboxQuery::default()).await;
    assert_eq!(
        seqs(&all.items),
        events.iter().rev().map(|e| e.seq).collect::<Vec<_>>()
    );
    assert_eq!(all.next, None);

    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = list(InboxQuery {
            limit: 3,
            after,
            ..InboxQuery::default()
        })
        .await;
        pages.push(seqs(&page.items));
        match page.next {
            Some(next) => {
                assert_eq!(page.items.last().map(|e| e.seq), Some(next));
                after = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(
        pages,
        vec![
            vec![events[6].seq, events[5].seq, events[4].seq],
            vec![events[3].seq, events[2].seq, events[1].seq],
            vec![events[0].seq],
        ]
    );

    let of_a = list(InboxQuery {
        ty: Some("a".into()),
        ..InboxQuery::default()
    })
    .await;
    assert_eq!(
        seqs(&of_a.items),
        vec![events[6].seq, events[4].seq, events[2].seq, events[0].seq]
    );
    // A page that ends exactly at the last event says there is no next page.
    let exact = list(InboxQuery {
        ty: Some("a".into()),
        limit: 4,
        ..InboxQuery::default()
    })
    .await;
    assert_eq!(exact.items.len(), 4);
    assert_eq!(exact.next, None);
    let first_two = list(InboxQuery {
        ty: Some("a".into()),
        limit: 2,
        ..InboxQuery::default()
    })
    .await;
    assert_eq!(first_two.next, Some(events[4].seq));
    let rest = list(InboxQuery {
        ty: Some("a".into()),
        limit: 2,
        after: first_two.next,
    })
    .await;
    assert_eq!(seqs(&rest.items), vec![events[2].seq, events[0].seq]);
    assert_eq!(rest.next, None);
    let none = list(InboxQuery {
        ty: Some("c".into()),
        ..InboxQuery::default()
    })
    .await;
    assert!(none.items.is_empty() && none.next.is_none());
}

/// An event nested deeper than the store can read back is refused, and not stored.
pub async fn deep_events_are_refused(store: &dyn Store) {
    let mut value = json!(1);
    for _ in 0..=crate::json::MAX_STORED_DEPTH {
        value = json!([value]);
    }
    let deep = RawJson::from(&value);
    let r = store.receive("/s", "deep", "t", &deep, Timestamp(1)).await;
    assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");
    assert!(expect(store.unrouted().await, "unrouted").is_empty());
    assert!(
        expect(store.inbox(&InboxQuery::default()).await, "list")
            .items
            .is_empty()
    );
}
