//! A long turn written in parts: while one part is written, the scheduler applies the
//! next. What a part holds must never be seen before it is written, and a part that
//! cannot be written takes what followed it down with it.

use std::sync::Arc;
use std::time::Duration;

use harmonia_engine::EngineConfig;
use harmonia_storage::{ExecutionStatus, Store};
use serde_json::json;
use tempfile::TempDir;

use super::{Env, engine_on, sqlite};

/// A fan-out long enough that its turns are cut into parts many times over.
const WIDE: &str =
    "name: wide\ntasks:\n  t: {type: set, for_each: '${ [range(20000)] }', with: '${ $item }'}\n";

/// The stored sequence numbers of `id`'s events, in order.
async fn stored_seqs(store: &Arc<dyn Store>, id: harmonia_storage::ExecutionId) -> Vec<u64> {
    store
        .events(id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.seq)
        .collect()
}

/// What [`with_trigger`] makes: the store, the directory holding its file (removed
/// when dropped), an engine on it and a connection to the file.
type Triggered = (Arc<dyn Store>, Arc<TempDir>, Env, rusqlite::Connection);

/// A SQLite store, an engine on it, and a connection to its file on which `trigger`
/// was created (kept open for the test to change the file again).
async fn with_trigger(trigger: &str) -> Triggered {
    let (store, dir) = sqlite().await;
    let engine = engine_on(store.clone(), EngineConfig::default()).await;
    let db = rusqlite::Connection::open(dir.path().join("engine.db")).expect("opens the file");
    db.execute_batch(trigger).expect("creates the trigger");
    (store, dir, engine, db)
}

/// The write of the part holding event `FAILS_AT` fails (a trigger refuses that one
/// event, so a part after it could still be written if the engine tried), while
/// parts after it were already applied in memory. Nothing of those parts, nor of the
/// failed one, is written or broadcast; the engine stops; the store holds an unbroken
/// prefix of the log, from which a restarted engine finishes the execution.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_that_cannot_be_written_takes_the_parts_after_it_down() {
    const FAILS_AT: u64 = 6_000;
    let (store, _dir, first, db) = with_trigger(&format!(
        "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.seq = {FAILS_AT}
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
    ))
    .await;
    let mut seen = first.handle.subscribe();
    let listener = tokio::spawn(async move {
        let mut highest = 0;
        loop {
            match seen.recv().await {
                Ok(e) => highest = highest.max(e.seq),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return highest,
            }
        }
    });
    let id = first.start(WIDE, json!({})).await;
    let ended = tokio::time::timeout(Duration::from_secs(60), first.handle.wait(id))
        .await
        .expect("the engine stops in time");
    assert!(ended.is_err(), "the execution cannot end: {ended:?}");
    drop(first);
    let highest_seen = tokio::time::timeout(Duration::from_secs(10), listener)
        .await
        .expect("the broadcast closes with the engine")
        .expect("joins");

    let seqs = stored_seqs(&store, id).await;
    let written = seqs.len() as u64;
    assert!(
        written > 0 && written < FAILS_AT,
        "{written} events written"
    );
    assert!(
        seqs.iter().copied().eq(1..=written),
        "the stored log has a gap: it ends with {:?}",
        &seqs[seqs.len().saturating_sub(5)..]
    );
    assert!(
        highest_seen <= written,
        "event {highest_seen} was broadcast, but only {written} were written"
    );

    db.execute_batch("DROP TRIGGER refuse;")
        .expect("drops the trigger");
    let second = engine_on(store.clone(), EngineConfig::default()).await;
    let r = tokio::time::timeout(Duration::from_secs(60), second.handle.wait(id))
        .await
        .expect("finishes in time")
        .expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded, "{r:?}");
    let seqs = stored_seqs(&store, id).await;
    assert!(seqs.len() > 40_000, "{} events", seqs.len());
    assert!(seqs.iter().copied().eq(1..=seqs.len() as u64));
}

/// Another engine takes the execution over in the middle of a long turn (its fence is
/// bumped in the commit of the part holding event `TAKEN_AT`), while the part after it
/// is already applied in memory. That part and every one after it are left out: the
/// log ends with the part the takeover came in, without a gap, nothing more is
/// written, and the row keeps the new owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_after_a_takeover_are_written_no_more() {
    const TAKEN_AT: u64 = 6_000;
    let (store, _dir, first, _db) = with_trigger(&format!(
        "CREATE TRIGGER take_over AFTER INSERT ON events WHEN NEW.seq = {TAKEN_AT}
         BEGIN UPDATE executions SET fence = fence + 1, owner = 'elsewhere'
               WHERE id = NEW.execution; END;"
    ))
    .await;
    let id = first.start(WIDE, json!({})).await;

    // Written up to the takeover, then nothing more.
    let mut written = 0;
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = stored_seqs(&store, id).await.len();
        if now >= TAKEN_AT as usize && now == written {
            break;
        }
        written = now;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seqs = stored_seqs(&store, id).await;
    assert_eq!(seqs.len(), written, "written after the takeover");
    assert!(
        seqs.len() as u64 >= TAKEN_AT && seqs.len() < 40_000,
        "{} events written",
        seqs.len()
    );
    assert!(
        seqs.iter().copied().eq(1..=seqs.len() as u64),
        "the stored log has a gap"
    );
    let row = store.execution(id).await.expect("reads").expect("stored");
    assert_eq!(row.owner.as_deref(), Some("elsewhere"));
    assert_eq!(row.status, ExecutionStatus::Running);
}
