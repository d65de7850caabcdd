//! The suite of the triggers role ([`TriggerStates`](crate::TriggerStates)).

use super::expect;
use crate::Timestamp;
use crate::prelude::*;

/// Pausing keeps its first time; resuming clears it; the list is by id.
pub async fn pausing_and_resuming(store: &dyn Store) {
    assert!(expect(store.paused_triggers().await, "fresh").is_empty());
    expect(
        store.set_trigger_paused("b.0", true, Timestamp(10)).await,
        "pause",
    );
    expect(
        store.set_trigger_paused("a.1", true, Timestamp(20)).await,
        "pause",
    );
    expect(
        store.set_trigger_paused("b.0", true, Timestamp(30)).await,
        "again",
    );
    assert_eq!(
        expect(store.paused_triggers().await, "list"),
        vec![
            ("a.1".to_string(), Timestamp(20)),
            ("b.0".to_string(), Timestamp(10))
        ]
    );
    expect(
        store.set_trigger_paused("b.0", false, Timestamp(40)).await,
        "resume",
    );
    expect(
        store.set_trigger_paused("zz.9", false, Timestamp(50)).await,
        "resume none",
    );
    assert_eq!(
        expect(store.paused_triggers().await, "list"),
        vec![("a.1".to_string(), Timestamp(20))]
    );
}
