//! One execution cannot hold the others: expressions that run to their deadline and
//! plans of many thousand tasks leave the scheduler free between turns. Each case held
//! every other execution for as long as the slow one took before evaluations moved off
//! the scheduler's turn and turns were bounded.

use std::time::{Duration, Instant};

use harmonia_storage::ExecutionStatus;
use serde_json::json;

use super::engine;

const SMALL: &str = "name: small
tasks:
  a: {type: set, with: {x: 1}}
  b: {type: set, needs: [a], with: {y: '${ $tasks.a.output.x + 1 }'}}
outputs:
  y: ${ $tasks.b.output.y }
";

/// Runs the small workflow beside whatever is running, and says how long it took.
async fn small_beside(env: &super::Env) -> Duration {
    let started = Instant::now();
    let r = env.run(SMALL, json!({})).await;
    let took = started.elapsed();
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.outputs, Some(json!({"y": 2})));
    took
}

/// Starts `yaml` without waiting for its start (which, when evaluations ran in the
/// scheduler's turn, came only after them), and returns a way to wait for its id.
fn start_beside(
    env: &super::Env,
    yaml: &'static str,
) -> tokio::task::JoinHandle<harmonia_storage::ExecutionId> {
    let handle = env.handle.clone();
    let plans = env.handle.plans().clone();
    tokio::spawn(async move {
        let source = harmonia_model::Source::new("slow.yaml", yaml, harmonia_model::Format::Yaml);
        let w = plans.register(&source).await.expect("registers");
        handle
            .start(harmonia_engine::StartRequest::new(w, json!({})))
            .await
            .expect("starts")
    })
}

/// Runs the small workflow while `slow` goes on, checks it was quick, and returns the
/// slow one's record once it ends.
async fn small_runs_beside(
    env: &super::Env,
    slow: tokio::task::JoinHandle<harmonia_storage::ExecutionId>,
) -> harmonia_storage::ExecutionRecord {
    tokio::time::sleep(Duration::from_millis(100)).await;
    let took = small_beside(env).await;
    assert!(
        took < Duration::from_secs(3),
        "the small execution took {took:?}"
    );
    let slow = slow.await.expect("joins");
    tokio::time::timeout(Duration::from_secs(60), env.handle.wait(slow))
        .await
        .expect("the slow one ends")
        .expect("waits")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_expressions_in_a_fan_out_do_not_hold_other_executions() {
    let env = engine().await;
    // 20 items, each evaluating to its 1 s deadline: 20 s of the scheduler's time when
    // evaluations ran in its turn.
    let slow = start_beside(
        &env,
        "name: slow
tasks:
  spin:
    type: set
    for_each: ${ [range(20)] }
    with: {n: '${ [repeat(1)] | length }'}
",
    );
    let r = small_runs_beside(&env, slow).await;
    assert_eq!(r.status, ExecutionStatus::Failed);
    let error = r.error.expect("an error");
    assert!(
        error.to_string().contains("did not finish within"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_conditions_and_outputs_do_not_hold_other_executions() {
    let env = engine().await;
    // Eight conditions and an output, each evaluating to its 1 s deadline.
    let slow = start_beside(
        &env,
        "name: slow-decisions
tasks:
  g1: {type: set, if: '${ [repeat(1)] | length > 0 }', on_error: continue}
  g2: {type: set, if: '${ [repeat(1)] | length > 0 }', on_error: continue}
  g3: {type: set, if: '${ [repeat(1)] | length > 0 }', on_error: continue}
  g4: {type: set, if: '${ [repeat(1)] | length > 0 }', on_error: continue}
  g5: {type: set, if: '${ [repeat(1)] | length > 0 }', on_error: continue}
  g6: {type: set, if: '${ [repeat(1)] | length > 0 }', on_error: continue}
  g7: {type: set, if: '${ [repeat(1)] | length > 0 }', on_error: continue}
  g8: {type: set, if: '${ [repeat(1)] | length > 0 }', on_error: continue}
outputs:
  spin: ${ [repeat(1)] | length }
",
    );
    let r = small_runs_beside(&env, slow).await;
    assert_eq!(r.status, ExecutionStatus::Failed, "{r:?}");
    let error = r.error.clone().expect("an error").to_string();
    assert!(
        error.contains("failed: the expression did not finish within"),
        "{error}"
    );
    let g1 = env.task(&r, "g1", None).await;
    assert!(
        g1.error
            .as_ref()
            .is_some_and(|e| e.to_string().contains("`if` failed")),
        "{g1:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_of_twenty_thousand_tasks_does_not_hold_other_executions() {
    let env = engine().await;
    let mut yaml = String::from("name: huge\ntasks:\n");
    for i in 0..20_000 {
        yaml.push_str(&format!("  t{i}: {{type: set, with: {{i: {i}}}}}\n"));
    }
    let big = env.register(&yaml).await;
    let handle = env.handle.clone();
    let start = tokio::spawn(async move {
        handle
            .start(harmonia_engine::StartRequest::new(big, json!({})))
            .await
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let took = small_beside(&env).await;
    assert!(
        took < Duration::from_secs(3),
        "the small execution took {took:?}"
    );
    let id = start.await.expect("joins").expect("starts");
    let r = tokio::time::timeout(Duration::from_secs(120), env.handle.wait(id))
        .await
        .expect("the big one ends")
        .expect("waits");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
}
