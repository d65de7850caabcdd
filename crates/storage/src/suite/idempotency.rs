//! The suite of the idempotency role ([`Idempotency`]): lookups see
//! unexpired keys only; pruning deletes the expired ones.

use super::{expect, key_record};
use crate::prelude::*;
use crate::records::CommitBatch;
use crate::{ExecutionId, Timestamp};

/// A key is found while it holds (`now < expires_at`), in its scope only.
pub async fn lookups_see_unexpired_keys_only(store: &dyn Store) {
    let a = ExecutionId::new();
    let record = key_record("wf1", "k", a, 10, 100);
    let report = expect(
        store
            .commit(&CommitBatch {
                idempotency: vec![record.clone()],
                ..CommitBatch::default()
            })
            .await,
        "commit",
    );
    assert!(report.is_clean());
    let find = |scope: &'static str, key: &'static str, now: i64| async move {
        expect(store.idempotency(scope, key, Timestamp(now)).await, "find")
    };
    assert_eq!(find("wf1", "k", 10).await, Some(record.clone()));
    assert_eq!(find("wf1", "k", 99).await, Some(record));
    assert_eq!(find("wf1", "k", 100).await, None);
    assert_eq!(find("wf2", "k", 50).await, None);
    assert_eq!(find("wf1", "other", 50).await, None);
}

/// Pruning deletes the records expired at `now` and counts them; the others stay, and a
/// pruned key is free for a new execution.
pub async fn pruning_deletes_expired_keys_only(store: &dyn Store) {
    let (a, b) = (ExecutionId::new(), ExecutionId::new());
    let report = expect(
        store
            .commit(&CommitBatch {
                idempotency: vec![
                    key_record("wf", "k1", a, 1, 50),
                    key_record("wf", "k2", a, 1, 100),
                    key_record("wf", "k3", a, 1, 200),
                ],
                ..CommitBatch::default()
            })
            .await,
        "commit",
    );
    assert!(report.is_clean());
    assert_eq!(
        expect(store.prune_idempotency(Timestamp(40)).await, "prune"),
        0
    );
    assert_eq!(
        expect(store.prune_idempotency(Timestamp(100)).await, "prune"),
        2
    );
    assert_eq!(
        expect(store.prune_idempotency(Timestamp(100)).await, "again"),
        0
    );
    assert_eq!(
        expect(store.idempotency("wf", "k3", Timestamp(100)).await, "k3"),
        Some(key_record("wf", "k3", a, 1, 200))
    );
    assert_eq!(
        expect(store.idempotency("wf", "k1", Timestamp(1)).await, "k1"),
        None
    );
    let report = expect(
        store
            .commit(&CommitBatch {
                idempotency: vec![key_record("wf", "k1", b, 101, 300)],
                ..CommitBatch::default()
            })
            .await,
        "reuse",
    );
    assert!(report.is_clean());
    assert_eq!(
        expect(store.idempotency("wf", "k1", Timestamp(101)).await, "k1"),
        Some(key_record("wf", "k1", b, 101, 300))
    );
}
