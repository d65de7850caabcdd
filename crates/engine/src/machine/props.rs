//! Property tests of the state machine over random DAGs with random outcomes.
//!
//! Whatever the graph and whatever happens to the attempts (success, failure, retries,
//! a cancel at a random moment), the machine must: never start a task before its
//! dependencies ended; keep every fan-out within its concurrency; end every task and
//! the execution; follow the join rules; and produce a log whose replay gives the same
//! state.

use harmonia_model::{ErrorClass, Join};
use harmonia_storage::TaskStatus;
use proptest::prelude::*;
use serde_json::json;

use super::tests::Sim;
use super::*;

#[derive(Debug, Clone)]
struct TaskSpec {
    needs: Vec<usize>,
    join: u8,
    on_error_continue: bool,
    condition: Option<bool>,
    attempts: u32,
    fan_out: Option<(u8, u8)>,
}

fn task_spec(i: usize) -> impl Strategy<Value = TaskSpec> {
    let needs = if i == 0 {
        Just(Vec::new()).boxed()
    } else {
        prop::collection::btree_set(0..i, 0..=i.min(3))
            .prop_map(|s| s.into_iter().collect())
            .boxed()
    };
    (
        needs,
        0u8..3,
        any::<bool>(),
        prop::option::weighted(0.2, any::<bool>()),
        1u32..4,
        prop::option::weighted(0.3, (0u8..4, 1u8..3)),
    )
        .prop_map(
            |(needs, join, on_error_continue, condition, attempts, fan_out)| TaskSpec {
                needs,
                join,
                on_error_continue,
                condition,
                attempts,
                fan_out,
            },
        )
}

fn workflow() -> impl Strategy<Value = Vec<TaskSpec>> {
    (1usize..9).prop_flat_map(|n| (0..n).map(task_spec).collect::<Vec<_>>())
}

fn yaml(specs: &[TaskSpec]) -> String {
    let mut out = String::from("name: random\ntasks:\n");
    for (i, s) in specs.iter().enumerate() {
        out.push_str(&format!("  t{i}:\n    type: set\n"));
        if !s.needs.is_empty() {
            let needs: Vec<String> = s.needs.iter().map(|n| format!("t{n}")).collect();
            out.push_str(&format!("    needs: [{}]\n", needs.join(", ")));
            out.push_str(&format!(
                "    join: {}\n",
                ["all", "any", "all_done"][s.join as usize]
            ));
        }
        if s.on_error_continue {
            out.push_str("    on_error: continue\n");
        }
        if let Some(c) = s.condition {
            out.push_str(&format!("    if: ${{ {c} }}\n"));
        }
        out.push_str(&format!(
            "    retry: {{max_attempts: {}, initial_delay: 10ms, retry_on: [timeout]}}\n",
            s.attempts
        ));
        if let Some((n, c)) = s.fan_out {
            out.push_str(&format!(
                "    for_each: ${{ [range({n})] }}\n    concurrency: {c}\n"
            ));
        }
    }
    out
}

/// What happens next, drawn by proptest.
#[derive(Debug, Clone, Copy)]
enum Step {
    Succeed(u8),
    FailRetryable(u8),
    FailFinal(u8),
    FireTimer(u8),
    Cancel,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => any::<u8>().prop_map(Step::Succeed),
        2 => any::<u8>().prop_map(Step::FailRetryable),
        1 => any::<u8>().prop_map(Step::FailFinal),
        2 => any::<u8>().prop_map(Step::FireTimer),
        1 => Just(Step::Cancel),
    ]
}

/// Checks the invariants that hold after every event.
fn check_always(s: &Sim) -> Result<(), TestCaseError> {
    for (t, ts) in s.x.tasks.iter().enumerate() {
        let summed: u32 = ts.units.iter().map(|u| u.attempt).sum();
        prop_assert_eq!(ts.attempts(), summed, "task {}: attempts counted", t);
        if let Some(limit) = s.x.plan.tasks[t].concurrency {
            prop_assert!(
                ts.in_flight <= limit,
                "task {t}: {} in flight > {limit}",
                ts.in_flight
            );
        }
        if ts.status != TaskStatus::Pending
            && ts.status != TaskStatus::Skipped
            && ts.status != TaskStatus::Cancelled
        {
            for &d in &s.x.plan.tasks[t].needs {
                prop_assert!(
                    s.x.tasks[d].status.is_terminal(),
                    "task {t} started before its dependency {d} ended"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_workflows_always_terminate_and_follow_the_rules(
        specs in workflow(),
        steps in prop::collection::vec(step(), 0..200),
    ) {
        let mut s = Sim::new(&yaml(&specs), json!({}));
        let mut running: Vec<AttemptRef> = Vec::new();
        let mut cancelled = false;
        let mut steps = steps.into_iter();
        // Drive until the execution ends; once the drawn steps run out, succeed everything.
        for _ in 0..2000 {
            if s.finished {
                break;
            }
            while !s.dispatched.is_empty() {
                running.push(s.start_next());
                check_always(&s)?;
            }
            let step = steps.next().unwrap_or(Step::Succeed(0));
            match step {
                Step::Succeed(i) | Step::FailRetryable(i) | Step::FailFinal(i) if !running.is_empty() => {
                    let a = running.remove(i as usize % running.len());
                    match step {
                        Step::Succeed(_) => { s.succeed(a, json!(1)); }
                        Step::FailRetryable(_) => { s.fail(a, ErrorClass::Timeout); }
                        _ => { s.fail(a, ErrorClass::Validation); }
                    }
                }
                Step::Cancel if !cancelled => {
                    cancelled = true;
                    s.feed(Event::CancelRequested { reason: None });
                }
                _ => {
                    if !s.timers.is_empty() {
                        let i = match step { Step::FireTimer(i) => i as usize, _ => 0 } % s.timers.len();
                        let key = s.timers[i].0.clone();
                        s.fire(key);
                    } else if running.is_empty() && s.dispatched.is_empty() {
                        prop_assert!(false, "stuck: nothing running, nothing dispatched, no timer; {:?}", s.kinds());
                    }
                }
            }
            check_always(&s)?;
        }
        prop_assert!(s.finished, "did not finish: {:?}", s.kinds());
        prop_assert!(s.x.status.is_terminal());
        for (t, ts) in s.x.tasks.iter().enumerate() {
            prop_assert!(ts.status.is_terminal(), "task {t} ended {:?}", ts.status);
            let deps: Vec<TaskStatus> = s.x.plan.tasks[t].needs.iter().map(|&d| s.x.tasks[d].status).collect();
            let ran = matches!(ts.status, TaskStatus::Succeeded | TaskStatus::Failed) && ts.attempts() > 0;
            if ran && !deps.is_empty() {
                match s.x.plan.tasks[t].join {
                    Join::All => prop_assert!(deps.iter().all(|d| *d == TaskStatus::Succeeded)),
                    Join::Any => prop_assert!(deps.contains(&TaskStatus::Succeeded)),
                    Join::AllDone => {}
                }
            }
            if ts.status == TaskStatus::Skipped
                && matches!(
                    ts.skip_reason,
                    Some(crate::event::SkipReason::UpstreamFailed | crate::event::SkipReason::UpstreamSkipped)
                )
                && s.x.plan.tasks[t].join == Join::All
            {
                prop_assert!(deps.iter().any(|d| *d != TaskStatus::Succeeded));
            }
        }
        // Replay gives the same state.
        let (first, at) = s.log[0].clone();
        let mut r = start(s.x.id, s.x.plan.clone(), &first, at).expect("start");
        for (e, at) in &s.log {
            replay(&mut r, e, *at);
        }
        prop_assert_eq!(r.status, s.x.status);
        prop_assert_eq!(r.seq as usize, s.log.len());
        prop_assert_eq!(&r.outputs, &s.x.outputs);
        for (x, y) in r.tasks.iter().zip(&s.x.tasks) {
            prop_assert_eq!(x.status, y.status);
            prop_assert_eq!(&x.units, &y.units);
        }
    }
}
