//! `needless_serial`: task `B` needs task `A` but reads nothing of it, so the two could
//! run in parallel, unless `B` depends on what `A` does (a write, a file, a call); the
//! suggestion says so.
//!
//! "Reads" means a static `$tasks.A` in any expression of `B` or of its fallback
//! (which runs with `B`'s dependencies): `with`, `if`, `for_each`, `output`, deferred
//! parameters. The check stays silent whenever removing `A` from `needs` could change
//! more than timing:
//! - `B` has a `join` other than `all`, or reads `$tasks` in a way that cannot be known
//!   statically (`$tasks[$name]`), or is a `transform` whose jq `expr` mentions
//!   `$tasks` (it is not a `${ }` expression, so its reads are not compiled as such);
//! - `A` or `B` is an `approval`, `wait_event` or `sleep`: the ordering is the point;
//! - `A` may be skipped or fail without failing the execution (an `if` on it or on a
//!   task before it, `on_error: continue`): under `join: all`, the `needs` then skips
//!   `B` too, a condition it would lose;
//! - both have a `compensate`: `needs` orders the compensations;
//! - `A` stays before `B` through another of `B`'s `needs` (nothing to gain);
//! - a read of `B`, of its fallback or of a task after `B` would lose the task it reads
//!   from upstream (`C` reads `$tasks.A` and has `A` upstream only through `B`): the
//!   workflow would no longer validate.

use std::collections::BTreeSet;

use serde_json::json;

use super::subjects::{Context, Subject};
use super::{Finding, FindingKind, Level, Ranked, round, show_ms};
use crate::definition::{Join, OnError};
use crate::plan::{Condition, Phase};

/// Kinds whose place in the order is their purpose.
const ORDERING_KINDS: [&str; 3] = ["approval", "wait_event", "sleep"];

/// What each plan task reads of the others.
struct Reads {
    /// The tasks it reads statically, by plan index.
    tasks: Vec<BTreeSet<usize>>,
    /// Whether it may read tasks that cannot be known statically.
    dynamic: Vec<bool>,
}

impl Reads {
    fn new(cx: &Context<'_>) -> Reads {
        let n = cx.plan.tasks.len();
        let mut tasks = vec![BTreeSet::new(); n];
        let mut dynamic = vec![false; n];
        for s in cx.all() {
            for (_, p) in s.programs() {
                dynamic[s.index] |= p.reads_tasks_dynamically();
                for r in p.task_refs() {
                    match cx.plan.task_index(&r.task) {
                        Some(t) => {
                            tasks[s.index].insert(t);
                        }
                        None => dynamic[s.index] = true,
                    }
                }
            }
            // A jq program in `transform`'s `expr` may read `$tasks` too.
            let in_expr = s.def.kind == "transform"
                && s.def
                    .with
                    .get("expr")
                    .and_then(|e| e.as_str())
                    .is_some_and(|e| e.contains("$tasks"));
            dynamic[s.index] |= in_expr;
        }
        Reads { tasks, dynamic }
    }
}

/// Whether `target` is upstream of `from` through `needs`, leaving out the edges in
/// `cut` (each `(task, need)`).
fn upstream(cx: &Context<'_>, from: usize, target: usize, cut: &[(usize, usize)]) -> bool {
    let mut seen = vec![false; cx.plan.tasks.len()];
    let mut stack = vec![from];
    while let Some(i) = stack.pop() {
        let Some(t) = cx.plan.tasks.get(i) else {
            continue;
        };
        for &d in &t.needs {
            if cut.contains(&(i, d)) {
                continue;
            }
            if d == target {
                return true;
            }
            if let Some(slot) = seen.get_mut(d)
                && !*slot
            {
                *slot = true;
                stack.push(d);
            }
        }
    }
    false
}

/// `own` (a task and its fallback) and every task of the main phase after the task.
fn affected(cx: &Context<'_>, task: usize, own: &[usize]) -> Vec<usize> {
    let mut seen = vec![false; cx.plan.tasks.len()];
    let mut out = own.to_vec();
    let mut stack = vec![task];
    while let Some(i) = stack.pop() {
        let Some(t) = cx.plan.tasks.get(i) else {
            continue;
        };
        for &d in &t.dependents {
            let main = cx.plan.tasks.get(d).is_some_and(|t| t.phase == Phase::Main);
            if let Some(slot) = seen.get_mut(d)
                && main
                && !*slot
            {
                *slot = true;
                out.push(d);
                stack.push(d);
            }
        }
    }
    out
}

/// For each plan task: whether it may end skipped or failed while the execution goes
/// on, which a `join: all` dependency passes on.
fn skippable(cx: &Context<'_>) -> Vec<bool> {
    let mut out = vec![false; cx.plan.tasks.len()];
    for &i in &cx.plan.order {
        let Some(t) = cx.plan.tasks.get(i) else {
            continue;
        };
        let own = !matches!(t.condition, Condition::Always) || t.on_error == OnError::Continue;
        let inherited = t.needs.iter().any(|&d| out.get(d).copied().unwrap_or(true));
        if let Some(slot) = out.get_mut(i) {
            *slot = own || inherited;
        }
    }
    out
}

/// The `needless_serial` findings.
pub(super) fn check(cx: &Context<'_>) -> Vec<Ranked> {
    let reads = Reads::new(cx);
    let skippable = skippable(cx);
    let mut out = Vec::new();
    for b in cx.tasks() {
        if b.plan.join != Join::All || ORDERING_KINDS.contains(&b.def.kind.as_str()) {
            continue;
        }
        let fallback = b.plan.fallback;
        let own: Vec<usize> = std::iter::once(b.index).chain(fallback).collect();
        if own.iter().any(|&i| reads.dynamic[i]) {
            continue;
        }
        let b_reads: BTreeSet<usize> = own.iter().flat_map(|&i| reads.tasks[i].clone()).collect();
        for &a_index in &b.plan.needs {
            let Some(a) = cx.at(a_index).filter(|a| a.in_tasks()) else {
                continue;
            };
            let ordering = ORDERING_KINDS.contains(&a.def.kind.as_str());
            let compensated = a.def.compensate.is_some() && b.def.compensate.is_some();
            if ordering || compensated || b_reads.contains(&a_index) || skippable[a_index] {
                continue;
            }
            let cut: Vec<(usize, usize)> = own.iter().map(|&i| (i, a_index)).collect();
            if upstream(cx, b.index, a_index, &cut) {
                continue;
            }
            // Every read of `B`, its fallback and the tasks after it must stay valid.
            let breaks_a_read = affected(cx, b.index, &own).into_iter().any(|r| {
                let lost = |t: usize| upstream(cx, r, t, &[]) && !upstream(cx, r, t, &cut);
                (reads.dynamic[r] && lost(a_index)) || reads.tasks[r].iter().any(|&t| lost(t))
            });
            if !breaks_a_read {
                out.push(finding(cx, a, b));
            }
        }
    }
    out
}

fn finding(cx: &Context<'_>, a: &Subject<'_>, b: &Subject<'_>) -> Ranked {
    let (an, bn) = (a.name(), b.name());
    let median = cx
        .samples(an)
        .and_then(super::stats::summarize)
        .map(|m| m.median);
    let mut message = format!(
        "`{bn}` needs `{an}` (`{}`) but no expression of `{bn}` reads `$tasks.{an}`: the `needs` only makes `{bn}` wait until `{an}` has ended",
        a.def.kind
    );
    if let Some(ms) = median {
        message.push_str(&format!(", a median of {} each run", show_ms(ms)));
    }
    message.push('.');
    let rest: Vec<&str> = b
        .def
        .needs
        .iter()
        .map(String::as_str)
        .filter(|n| *n != an)
        .collect();
    let change = if rest.is_empty() {
        format!("remove `needs: {an}` from `{bn}`")
    } else {
        format!(
            "remove `{an}` from `needs` of `{bn}` (`needs: [{}]`)",
            rest.join(", ")
        )
    };
    let suggestion = format!(
        "If `{bn}` does not depend on what `{an}` does (a record it writes, a file, a call it makes), {change} so that they run in parallel."
    );
    Ranked {
        rank: b.rank,
        finding: Finding {
            kind: FindingKind::NeedlessSerial,
            severity: Level::Info,
            path: b.path.key("needs").to_string(),
            tasks: vec![an.to_string(), bn.to_string()],
            message,
            suggestion,
            evidence: json!({
                "task": bn,
                "needs": an,
                "needs_kind": a.def.kind,
                "needs_median_ms": median.map(|m| round(m, 3)),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{analyze_yaml, of_kind, timing};
    use super::*;

    fn serial(text: &str) -> Vec<(String, Vec<String>)> {
        of_kind(&analyze_yaml(text, &[]), FindingKind::NeedlessSerial)
            .into_iter()
            .map(|f| (f.path.clone(), f.tasks.clone()))
            .collect()
    }

    #[test]
    fn a_needs_read_by_nothing_is_found() {
        let text = "name: w
tasks:
  a: {type: http, with: {url: 'http://x/a'}}
  b: {type: http, needs: a, with: {url: 'http://x/b'}}
";
        assert_eq!(
            serial(text),
            vec![(
                "tasks.b.needs".to_string(),
                vec!["a".to_string(), "b".to_string()]
            )]
        );
        let a = analyze_yaml(text, &[timing("a", &[1500.0])]);
        let f = &of_kind(&a, FindingKind::NeedlessSerial)[0];
        assert!(f.message.contains("a median of 1.5 s"), "{}", f.message);
        assert!(
            f.suggestion.contains("remove `needs: a` from `b`"),
            "{}",
            f.suggestion
        );
        assert_eq!(f.evidence["needs_median_ms"], 1500.0);
    }

    #[test]
    fn the_suggestion_keeps_the_other_needs() {
        let a = analyze_yaml(
            "name: w
tasks:
  a: {type: set, with: 1}
  c: {type: set, with: 1}
  b: {type: set, needs: [a, c], with: '${ $tasks.c.output }'}
",
            &[],
        );
        let f = of_kind(&a, FindingKind::NeedlessSerial);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].suggestion.contains("(`needs: [c]`)"),
            "{}",
            f[0].suggestion
        );
    }

    #[test]
    fn reads_anywhere_in_the_task_count() {
        for place in [
            "with: {x: '${ $tasks.a.output }'}",
            "if: '${ $tasks.a.status == \"succeeded\" }'\n    with: 1",
            "for_each: '${ $tasks.a.output }'\n    with: 1",
            "output: '${ $tasks.a.output }'\n    with: 1",
            "with: 1\n    fallback: {type: set, with: '${ $tasks.a.output }'}",
            "with: {input: null, expr: '$tasks.a.output'}",
            "with: '${ $tasks[\"a\"].output }'",
        ] {
            let kind = if place.contains("expr:") {
                "transform"
            } else {
                "set"
            };
            let text = format!(
                "name: w\ntasks:\n  a: {{type: set, with: 1}}\n  b:\n    type: {kind}\n    needs: a\n    {place}\n"
            );
            assert_eq!(serial(&text), vec![], "{place}");
        }
    }

    #[test]
    fn ordering_joins_conditions_and_compensations_are_left_alone() {
        for (a, b) in [
            (
                "{type: approval, with: {prompt: ok?}}",
                "{type: set, needs: a, with: 1}",
            ),
            (
                "{type: sleep, with: {duration: 1s}}",
                "{type: set, needs: a, with: 1}",
            ),
            (
                "{type: set, with: 1}",
                "{type: wait_event, needs: a, with: {type: x}}",
            ),
            (
                "{type: set, with: 1}",
                "{type: set, needs: a, join: all_done, with: 1}",
            ),
            (
                "{type: set, if: '${ $inputs.go }', with: 1}",
                "{type: set, needs: a, with: 1}",
            ),
            (
                "{type: set, on_error: continue, with: 1}",
                "{type: set, needs: a, with: 1}",
            ),
            (
                "{type: set, with: 1, compensate: {type: set, with: 0}}",
                "{type: set, needs: a, with: 1, compensate: {type: set, with: 0}}",
            ),
        ] {
            let text = format!("name: w\ntasks:\n  a: {a}\n  b: {b}\n");
            assert_eq!(serial(&text), vec![], "{a} / {b}");
        }
        // A condition further up is passed on too.
        let text = "name: w
tasks:
  z: {type: set, if: '${ $inputs.go }', with: 1}
  a: {type: set, needs: z, with: '${ $tasks.z.output }'}
  b: {type: set, needs: a, with: 1}
";
        assert_eq!(serial(text), vec![]);
    }

    #[test]
    fn redundant_edges_and_readers_downstream_are_left_alone() {
        // `a` stays before `b` through `c`: nothing to gain.
        let text = "name: w
tasks:
  a: {type: set, with: 1}
  c: {type: set, needs: a, with: '${ $tasks.a.output }'}
  b: {type: set, needs: [a, c], with: '${ $tasks.c.output }'}
";
        assert_eq!(serial(text), vec![]);
        // `d` reads `a` and has it upstream only through `b`: neither `needs` can go.
        let text = "name: w
tasks:
  a: {type: set, with: 1}
  b: {type: set, needs: a, with: 1}
  d: {type: set, needs: b, with: '${ $tasks.a.output }'}
";
        assert_eq!(serial(text), vec![]);
        // With `a` in its own `needs`, both can.
        let text = "name: w
tasks:
  a: {type: set, with: 1}
  b: {type: set, needs: a, with: 1}
  d: {type: set, needs: [a, b], with: '${ $tasks.a.output }'}
";
        let paths: Vec<String> = serial(text).into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["tasks.b.needs", "tasks.d.needs"]);
    }
}
