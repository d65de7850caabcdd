//! The suite of the nodes role ([`Nodes`](crate::Nodes)): joining, leases, and
//! claiming executions from one node to another.

use super::{execution, expect};
use crate::prelude::*;
use crate::records::{CommitBatch, CommitReport};
use crate::{Error, ExecutionId, ExecutionRecord, ExecutionStatus, NodeRecord, Timestamp};

/// The time the cases run at.
const T0: Timestamp = Timestamp(1_000_000);

fn node(id: &str, incarnation: &str, expires_at: i64) -> NodeRecord {
    NodeRecord {
        id: id.into(),
        incarnation: incarnation.into(),
        address: Some("127.0.0.1:8080".into()),
        version: "1.2.3".into(),
        started_at: T0,
        renewed_at: T0,
        expires_at: Timestamp(expires_at),
        owned: 0,
    }
}

/// Commits one unfinished execution per owner given (and one that ended), oldest first.
async fn owned(store: &dyn Store, owners: &[Option<&str>]) -> Vec<ExecutionRecord> {
    let mut batch = CommitBatch::default();
    for (i, owner) in owners.iter().enumerate() {
        let mut x = execution(ExecutionId::new(), "w", ExecutionStatus::Running, i as i64);
        x.owner = owner.map(str::to_owned);
        batch.executions.push(x);
    }
    let mut done = execution(ExecutionId::new(), "w", ExecutionStatus::Succeeded, 99);
    done.owner = None;
    batch.executions.push(done);
    expect(store.commit(&batch).await, "commit");
    batch.executions
}

/// A node joins, renews, is listed with what it owns, and leaves; a second process
/// cannot take a live node's id, but may take it once its lease expired.
pub async fn nodes_join_renew_and_leave(store: &dyn Store) {
    let a = node("a", "i1", T0.0 + 10_000);
    expect(store.join(&a).await, "join");
    expect(store.join(&node("b", "j1", T0.0 + 10_000)).await, "join b");
    owned(store, &[Some("a"), Some("a"), Some("b")]).await;
    let listed = expect(store.nodes().await, "nodes");
    assert_eq!(
        listed
            .iter()
            .map(|n| (n.id.as_str(), n.owned))
            .collect::<Vec<_>>(),
        vec![("a", 2), ("b", 1)]
    );
    assert_eq!(
        listed[0],
        NodeRecord {
            owned: 2,
            ..a.clone()
        }
    );

    // Another process given the same id while `a` is live.
    let clash = node("a", "i2", T0.0 + 10_000);
    match store.join(&clash).await {
        Err(Error::Conflict(why)) => assert!(why.contains("`a`"), "{why}"),
        other => panic!("a live id was taken: {other:?}"),
    }
    let later = Timestamp(T0.0 + 5_000);
    assert!(expect(
        store
            .renew("a", "i1", later, Timestamp(T0.0 + 15_000))
            .await,
        "renew"
    ));
    assert!(!expect(
        store
            .renew("a", "i2", later, Timestamp(T0.0 + 15_000))
            .await,
        "renew i2"
    ));
    let a_row = expect(store.nodes().await, "nodes").remove(0);
    assert_eq!(
        (a_row.renewed_at, a_row.expires_at),
        (later, Timestamp(T0.0 + 15_000))
    );

    // Once `a`'s lease has expired, a new incarnation may take the id.
    let mut restarted = node("a", "i3", T0.0 + 30_000);
    restarted.started_at = Timestamp(T0.0 + 20_000);
    expect(store.join(&restarted).await, "join after expiry");
    assert!(!expect(
        store.renew("a", "i1", later, later).await,
        "old incarnation"
    ));

    // Leaving deletes the row and releases what it owned; a stale incarnation's leave
    // changes nothing.
    expect(store.leave("b", "other").await, "stale leave");
    assert_eq!(expect(store.nodes().await, "nodes").len(), 2);
    expect(store.leave("b", "j1").await, "leave");
    let listed = expect(store.nodes().await, "nodes");
    assert_eq!(
        listed.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        vec!["a"]
    );
    let orphans = expect(store.claim_orphans("a", T0, false).await, "claim");
    assert_eq!(orphans.len(), 1, "b's execution is released: {orphans:?}");

    // Pruning deletes the rows expired before a time, and only those.
    expect(
        store.join(&node("old", "o", T0.0 - 5_000)).await,
        "join old",
    );
    assert_eq!(
        expect(store.prune(Timestamp(T0.0 - 4_000)).await, "prune"),
        1
    );
    assert_eq!(
        expect(store.prune(Timestamp(T0.0 - 4_000)).await, "again"),
        0
    );
    let listed = expect(store.nodes().await, "nodes");
    assert_eq!(
        listed.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        vec!["a"]
    );
}

/// Orphans are the executions of no node or of an expired one; a live node's are never
/// claimed, and a node's own only with `own`.
pub async fn only_orphans_are_claimed(store: &dyn Store) {
    expect(store.join(&node("live", "l", T0.0 + 10_000)).await, "join");
    expect(store.join(&node("dead", "d", T0.0 - 1)).await, "join");
    let rows = owned(
        store,
        &[Some("live"), Some("dead"), None, Some("me"), Some("gone")],
    )
    .await;
    let id = |i: usize| rows[i].id;
    let claimed = expect(store.claim_orphans("me", T0, false).await, "claim");
    assert_eq!(claimed, vec![(id(1), 2), (id(2), 2), (id(4), 2)]);
    let stored = expect(store.execution(id(1)).await, "row").expect("stored");
    assert_eq!((stored.owner.as_deref(), stored.fence), (Some("me"), 2));
    let claimed = expect(store.claim_orphans("me", T0, true).await, "claim own");
    assert_eq!(
        claimed,
        vec![(id(1), 3), (id(2), 3), (id(3), 2), (id(4), 3)]
    );
    let live = expect(store.execution(id(0)).await, "row").expect("stored");
    assert_eq!((live.owner.as_deref(), live.fence), (Some("live"), 1));
    // Once `live`'s lease expires, its execution is an orphan too.
    let after = Timestamp(T0.0 + 10_000);
    assert_eq!(
        expect(store.claim_orphans("me", after, false).await, "claim"),
        vec![(id(0), 2)]
    );
}

/// Locks are listed by a prefix of their names (expired ones too, by name), and a
/// holder's lock is found from the holder alone.
pub async fn locks_are_listed_by_prefix_and_found_by_holder(store: &dyn Store) {
    let later = Timestamp(T0.0 + 1_000);
    let soon = Timestamp(T0.0 + 10);
    for (name, holder, until) in [
        ("worker:b", "ls_2", later),
        ("worker:a", "ls_1", soon),
        ("workers", "x", later),
        ("worker;", "y", later),
        ("concurrency:w", "n1", later),
        ("worker:\u{e9}", "ls_3", later),
    ] {
        assert!(expect(
            store.try_lock(name, holder, "", T0, until).await,
            name
        ));
    }
    // The holder extends its lock, and its note is kept with it.
    assert!(expect(
        store.try_lock("worker:a", "ls_1", "w1", T0, soon).await,
        "extended"
    ));
    let listed = expect(store.locks("worker:").await, "locks");
    let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["worker:a", "worker:b", "worker:\u{e9}"]);
    assert_eq!(listed[0].holder, "ls_1");
    assert_eq!(
        (listed[0].expires_at, listed[0].note.as_str()),
        (soon, "w1")
    );
    assert_eq!(expect(store.locks("").await, "all").len(), 6);
    assert!(expect(store.locks("nothing:").await, "none").is_empty());
    // An expired lock is still found (its holder learns it expired); a released one
    // is not.
    let held = expect(store.lock_held_by("ls_1").await, "held").expect("found");
    assert_eq!((held.name.as_str(), held.expires_at), ("worker:a", soon));
    expect(store.unlock("worker:b", "ls_2").await, "unlock");
    assert_eq!(expect(store.lock_held_by("ls_2").await, "released"), None);
    assert_eq!(expect(store.lock_held_by("nobody").await, "nobody"), None);
    // A lock taken over after it expired is its new holder's.
    let after = Timestamp(T0.0 + 20);
    assert!(expect(
        store.try_lock("worker:a", "ls_9", "", after, later).await,
        "taken over"
    ));
    assert_eq!(expect(store.lock_held_by("ls_1").await, "gone"), None);
    assert_eq!(
        expect(store.lock_held_by("ls_9").await, "new").map(|l| l.name),
        Some("worker:a".to_string())
    );
}

/// A lock is taken when free, expired or one's own, refused while another holds it,
/// and released only by its holder; of concurrent takers, one gets it.
pub async fn locks_are_taken_once_and_expire(store: &dyn Store) {
    let later = Timestamp(T0.0 + 1_000);
    assert!(expect(
        store.try_lock("w", "a", "", T0, later).await,
        "free"
    ));
    assert!(!expect(
        store.try_lock("w", "b", "", T0, later).await,
        "held"
    ));
    assert!(expect(
        store.try_lock("w", "a", "", T0, later).await,
        "own, extended"
    ));
    assert!(expect(
        store.try_lock("other", "b", "", T0, later).await,
        "another name"
    ));
    expect(store.unlock("w", "b").await, "not the holder");
    assert!(!expect(
        store.try_lock("w", "b", "", T0, later).await,
        "still held"
    ));
    // Expired: anyone may take it.
    assert!(expect(
        store
            .try_lock("w", "b", "", later, Timestamp(T0.0 + 2_000))
            .await,
        "expired"
    ));
    expect(store.unlock("w", "b").await, "unlock");
    assert!(expect(
        store.try_lock("w", "c", "", T0, later).await,
        "released"
    ));
    expect(store.unlock("w", "c").await, "unlock");

    let takers = (0..8).map(|i| {
        let holder = format!("h{i}");
        async move { expect(store.try_lock("race", &holder, "", T0, later).await, "race") }
    });
    let won = futures::future::join_all(takers).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
}

/// A lock's note is swapped only by its holder and only from the note it holds,
/// expired or not; of concurrent swappers from one note, one succeeds.
pub async fn a_lock_is_swapped_only_from_the_note_read(store: &dyn Store) {
    let later = Timestamp(T0.0 + 1_000);
    assert!(expect(
        store.try_lock("w", "a", "held", T0, later).await,
        "free"
    ));
    assert!(!expect(
        store.swap_lock("w", "b", "held", "x", later).await,
        "not the holder"
    ));
    assert!(!expect(
        store.swap_lock("w", "a", "other", "x", later).await,
        "not the note"
    ));
    assert!(!expect(
        store.swap_lock("nothing", "a", "held", "x", later).await,
        "no such lock"
    ));
    let until = Timestamp(T0.0 + 5);
    assert!(expect(
        store.swap_lock("w", "a", "held", "answered", until).await,
        "as read"
    ));
    let lock = expect(store.lock_held_by("a").await, "read").expect("held");
    assert_eq!((lock.note.as_str(), lock.expires_at), ("answered", until));
    // Expired, it is still its holder's to swap.
    assert!(expect(
        store.swap_lock("w", "a", "answered", "ended", later).await,
        "expired"
    ));

    let swappers = (0..8).map(|i| {
        let note = format!("n{i}");
        async move {
            expect(
                store.swap_lock("w", "a", "ended", &note, later).await,
                "race",
            )
        }
    });
    let won = futures::future::join_all(swappers).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
}

/// Claiming one execution: an orphan or one's own, a live node's only by stealing,
/// never one that ended or does not exist.
pub async fn claiming_one_execution(store: &dyn Store) {
    expect(store.join(&node("live", "l", T0.0 + 10_000)).await, "join");
    let rows = owned(store, &[Some("live"), None, Some("me")]).await;
    let id = |i: usize| rows[i].id;
    assert_eq!(
        expect(store.claim(id(0), "me", T0, false).await, "live"),
        None
    );
    assert_eq!(
        expect(store.claim(id(1), "me", T0, false).await, "orphan"),
        Some(2)
    );
    assert_eq!(
        expect(store.claim(id(2), "me", T0, false).await, "own"),
        Some(2)
    );
    assert_eq!(
        expect(store.claim(id(0), "me", T0, true).await, "steal"),
        Some(2)
    );
    let stolen = expect(store.execution(id(0)).await, "row").expect("stored");
    assert_eq!(stolen.owner.as_deref(), Some("me"));
    assert_eq!(
        expect(store.claim(rows[3].id, "me", T0, true).await, "ended"),
        None
    );
    assert_eq!(
        expect(
            store.claim(ExecutionId::new(), "me", T0, true).await,
            "absent"
        ),
        None
    );
}

/// Claiming orphans (no node row is live here) sets the owner and bumps the fence of
/// every unfinished execution (and of nothing else), oldest first; a commit with the fence of the node before is fenced,
/// one with the new fence lands.
pub async fn claiming_bumps_fences_and_fences_out_the_old_owner(store: &dyn Store) {
    let mut batch = CommitBatch::default();
    let mut rows = Vec::new();
    for (i, (status, fence)) in [
        (ExecutionStatus::Running, 1),
        (ExecutionStatus::Paused, 4),
        (ExecutionStatus::Succeeded, 1),
        (ExecutionStatus::Pending, 1),
    ]
    .into_iter()
    .enumerate()
    {
        let mut x = execution(ExecutionId::new(), "w", status, i as i64);
        x.fence = fence;
        rows.push(x.clone());
        batch.executions.push(x);
    }
    expect(store.commit(&batch).await, "commit");
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| rows[i].id);

    let claimed = expect(store.claim_orphans("n1", T0, false).await, "claim");
    assert_eq!(claimed, vec![(a, 2), (b, 5), (d, 2)]);
    for x in &rows {
        let stored = expect(store.execution(x.id).await, "row").expect("stored");
        let expected = if x.id == c {
            x.clone()
        } else {
            let mut y = x.clone();
            y.owner = Some("n1".into());
            y.fence = claimed
                .iter()
                .find(|(id, _)| *id == x.id)
                .map_or(0, |(_, f)| *f);
            y
        };
        assert_eq!(stored, expected);
    }
    assert_eq!(
        expect(store.claim_orphans("n2", T0, false).await, "claim again"),
        vec![(a, 3), (b, 6), (d, 3)]
    );

    // The first node still thinks it holds `a` with fence 2.
    let mut stale = rows[0].clone();
    stale.fence = 2;
    stale.status = ExecutionStatus::Failed;
    let report = expect(
        store
            .commit(&CommitBatch {
                executions: vec![stale],
                fences: vec![(a, 2)],
                ..CommitBatch::default()
            })
            .await,
        "stale",
    );
    assert_eq!(report.fenced, vec![a]);
    let mut current = rows[0].clone();
    current.fence = 3;
    current.owner = Some("n2".into());
    current.status = ExecutionStatus::Succeeded;
    let report = expect(
        store
            .commit(&CommitBatch {
                executions: vec![current.clone()],
                fences: vec![(a, 3)],
                ..CommitBatch::default()
            })
            .await,
        "current",
    );
    assert_eq!(report, CommitReport::default());
    assert_eq!(expect(store.execution(a).await, "row"), Some(current));
    assert_eq!(
        expect(store.claim_orphans("n3", T0, false).await, "claim the rest"),
        vec![(b, 7), (d, 4)]
    );
}
