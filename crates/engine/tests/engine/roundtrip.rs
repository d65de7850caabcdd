//! Property: any value an expression can produce either round-trips through the store
//! (written as a task's output, in an event and in its row, and read back the same) or
//! is refused by the evaluation with a clear error. Before, a value nested 200 deep was
//! committed and could never be read back.

use std::sync::Arc;
use std::time::Duration;

use harmonia_expr::{Context, Limits, Template, Val, Var, VarSet};
use harmonia_storage::json::RawJson;
use harmonia_storage::{
    CommitBatch, EventRecord, ExecutionId, Store, TaskRunRecord, TaskStatus, Timestamp,
};
use proptest::prelude::*;
use serde_json::json;

/// Pieces of programs that build values of every kind: deep, wide, odd numbers,
/// strings with escapes and non-ASCII, keys of every sort.
fn program() -> impl Strategy<Value = String> {
    let seed = prop_oneof![
        Just("null".to_string()),
        Just("$inputs".to_string()),
        Just("\"é\\\"\\n\\u0000 ✓\"".to_string()),
        Just("1e308 * 10".to_string()),
        Just("-0".to_string()),
        Just("nan".to_string()),
        Just("18446744073709551616".to_string()),
        Just("0.1 + 0.2".to_string()),
        Just("[range(50)]".to_string()),
        Just("{\"\": 1, \"a.b\": [true]}".to_string()),
        (1usize..300).prop_map(|n| format!("reduce range({n}) as $i (0; [.])")),
        (1usize..300).prop_map(|n| format!("reduce range({n}) as $i (0; {{k: .}})")),
        (1usize..300).prop_map(|n| format!("\"{}\" | fromjson", "[".repeat(n) + &"]".repeat(n))),
    ];
    let step = prop_oneof![
        Just("[.]"),
        Just("{a: ., b: [.]}"),
        Just("tojson"),
        Just("tostring"),
        Just("[., .]"),
        Just(".[0]?"),
        Just("(.. |= .)"),
        Just("[paths]"),
        Just("to_entries?"),
        Just("keys?"),
    ];
    (seed, prop::collection::vec(step, 0..4)).prop_map(|(seed, steps)| {
        let mut p = seed;
        for s in steps {
            p = format!("({p}) | {s}");
        }
        p
    })
}

fn store() -> (Arc<dyn Store>, tempfile::TempDir, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = rt
        .block_on(harmonia_storage_sql::SqliteStore::open(
            &dir.path().join("roundtrip.db"),
            Default::default(),
        ))
        .expect("opens");
    (Arc::new(store), dir, rt)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_value_round_trips_or_is_refused_clearly(src in program()) {
        let (store, _dir, rt) = store();
        let limits = Limits {
            timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        let ctx = Context::new().with(Var::Inputs, Val::from(json!({"deep": [[[{"x": 1}]]]})));
        let t = Template::compile(&format!("${{ {src} }}"), VarSet::ALL).expect("compiles");
        match t.eval(&ctx, &limits).and_then(|v| v.to_json(limits.max_output_bytes)) {
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.len() > 10, "{src}: an unclear error: {message:?}");
            }
            Ok(value) => {
                let id = ExecutionId::new();
                let event = json!({"type": "attempt_succeeded", "task": "a", "attempt": 1, "output": value});
                let batch = CommitBatch {
                    events: vec![EventRecord {
                        execution: id,
                        seq: 1,
                        at: Timestamp::now(),
                        kind: "attempt_succeeded".into(),
                        data: RawJson::from(&event),
                    }],
                    task_runs: vec![TaskRunRecord {
                        execution: id,
                        task: "a".into(),
                        item: None,
                        status: TaskStatus::Succeeded,
                        attempts: 1,
                        output: Some(value.clone()),
                        error: None,
                        skip_reason: None,
                        started_at: None,
                        ended_at: None,
                        wait: None,
                        wait_for: None,
                        wait_key: None,
                    }],
                    ..CommitBatch::default()
                };
                rt.block_on(store.commit(&batch)).expect("what evaluation allows is stored");
                let events = rt.block_on(store.events(id)).expect("the event reads back");
                prop_assert_eq!(&events[0].data.value()["output"], &value, "{}", src);
                let runs = rt.block_on(store.task_runs(id)).expect("the row reads back");
                prop_assert_eq!(runs[0].output.as_ref(), Some(&value), "{}", src);
            }
        }
    }
}

#[test]
fn a_value_at_the_limit_round_trips_and_one_beyond_is_refused() {
    let limits = Limits::default();
    let at = Template::compile(
        &format!(
            "${{ reduce range({}) as $i (0; [.]) }}",
            harmonia_expr::MAX_DEPTH
        ),
        VarSet::ALL,
    )
    .expect("compiles");
    assert!(at.eval(&Context::new(), &limits).is_ok());
    let beyond = Template::compile(
        &format!(
            "${{ reduce range({}) as $i (0; [.]) }}",
            harmonia_expr::MAX_DEPTH + 1
        ),
        VarSet::ALL,
    )
    .expect("compiles");
    let e = beyond.eval(&Context::new(), &limits).expect_err("refused");
    assert!(e.to_string().contains("nested more than 100 levels"), "{e}");
}
