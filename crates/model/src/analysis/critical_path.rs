//! `critical_path`: the longest chain of the workflow's `tasks` through `needs`.
//!
//! With timings, a task weighs the median of its past durations (0 without samples,
//! and the finding names those tasks); without, what the definition says: a `sleep`
//! weighs its duration and every task one step, the wait first (a chain with an hour of
//! sleep is longer than any chain of quick steps). Ties go to the chain found first in
//! definition order, so the path is stable. Handlers, fallbacks and compensations are
//! not on it: they run outside the tasks' normal flow.
//!
//! The path is always returned; the finding only when there are at least two tasks.

use std::cmp::Ordering;

use serde_json::json;

use super::subjects::{Context, Subject};
use super::{Basis, CriticalPath, Finding, FindingKind, Level, Ranked, round, show_ms};
use crate::duration::Dur;
use crate::plan::Phase;

/// A chain's weight: known milliseconds, then steps.
#[derive(Debug, Clone, Copy, Default)]
struct Weight {
    ms: f64,
    steps: u32,
}

impl Weight {
    fn cmp(&self, other: &Weight) -> Ordering {
        self.ms
            .total_cmp(&other.ms)
            .then(self.steps.cmp(&other.steps))
    }

    fn plus(self, other: Weight) -> Weight {
        Weight {
            ms: self.ms + other.ms,
            steps: self.steps.saturating_add(other.steps),
        }
    }
}

/// The duration a `sleep` task's definition states, in milliseconds.
fn sleep_ms(s: &Subject<'_>) -> Option<f64> {
    if s.def.kind != "sleep" {
        return None;
    }
    let text = s.def.with.get("duration")?.as_str()?;
    Dur::parse(text)
        .ok()
        .map(|d| d.get().as_secs_f64() * 1000.0)
}

/// The critical path, and its finding.
/// `serial` holds the `needless_serial` findings, which the suggestion points to when
/// one of them is a link of the chain.
pub(super) fn check(cx: &Context<'_>, serial: &[Ranked]) -> (CriticalPath, Vec<Ranked>) {
    let basis = if cx.tasks().any(|s| cx.samples(s.name()).is_some()) {
        Basis::Timings
    } else {
        Basis::Definition
    };
    let own = |s: &Subject<'_>| -> Weight {
        let ms = match basis {
            Basis::Timings => cx
                .samples(s.name())
                .and_then(super::stats::summarize)
                .map_or(0.0, |m| m.median),
            Basis::Definition => sleep_ms(s).unwrap_or(0.0),
        };
        Weight { ms, steps: 1 }
    };
    let main = |i: usize| cx.at(i).filter(|s| s.in_tasks());

    // The heaviest chain ending at each task, and the task before it on that chain.
    let n = cx.plan.tasks.len();
    let mut best: Vec<Option<(Weight, Option<usize>)>> = vec![None; n];
    for &i in &cx.plan.order {
        let Some(s) = main(i) else { continue };
        let mut before: Option<(Weight, usize)> = None;
        for &d in &s.plan.needs {
            let Some(Some((w, _))) = best.get(d) else {
                continue;
            };
            if before.is_none_or(|(b, _)| w.cmp(&b) == Ordering::Greater) {
                before = Some((*w, d));
            }
        }
        let w = before.map_or(Weight::default(), |(w, _)| w).plus(own(s));
        if let Some(slot) = best.get_mut(i) {
            *slot = Some((w, before.map(|(_, d)| d)));
        }
    }
    let mut end: Option<(Weight, usize)> = None;
    for s in cx.tasks() {
        if let Some(Some((w, _))) = best.get(s.index)
            && end.is_none_or(|(e, _)| w.cmp(&e) == Ordering::Greater)
        {
            end = Some((*w, s.index));
        }
    }
    let mut chain = Vec::new();
    let mut at = end.map(|(_, i)| i);
    while let Some(i) = at {
        chain.push(i);
        at = best.get(i).and_then(|b| b.and_then(|(_, prev)| prev));
    }
    chain.reverse();

    let total = end.map_or(Weight::default(), |(w, _)| w);
    let path = CriticalPath {
        tasks: chain
            .iter()
            .map(|&i| cx.plan.tasks[i].name.clone())
            .collect(),
        basis,
        estimated_ms: (basis == Basis::Timings).then(|| round(total.ms, 3)),
    };
    let count = cx
        .plan
        .tasks
        .iter()
        .filter(|t| t.phase == Phase::Main && t.falls_back_for.is_none())
        .count();
    if count < 2 || chain.is_empty() {
        return (path, Vec::new());
    }
    let subjects: Vec<&Subject<'_>> = chain.iter().filter_map(|&i| main(i)).collect();
    let mut finding = match basis {
        Basis::Timings => by_timings(cx, &path, &subjects, total, &own),
        Basis::Definition => by_definition(cx, &path, &subjects, total),
    };
    let links: Vec<String> = serial
        .iter()
        .filter(|r| {
            path.tasks
                .windows(2)
                .any(|w| w == r.finding.tasks.as_slice())
        })
        .map(|r| {
            format!(
                "`{}` waits for `{}`",
                r.finding.tasks[1], r.finding.tasks[0]
            )
        })
        .collect();
    let (one, many) = (links.len() == 1, links.len() > 1);
    if let Some((last, rest)) = links.split_last() {
        let all = if rest.is_empty() {
            last.clone()
        } else {
            format!("{} and {last}", rest.join(", "))
        };
        finding.suggestion.push_str(&format!(
            " On this chain, {all} without reading {} (see `needless_serial`): removing {} shortens the chain, if nothing else needs the order.",
            if one { "it" } else { "them" },
            if many { "those dependencies" } else { "that dependency" },
        ));
    }
    (path, vec![Ranked { rank: 0, finding }])
}

fn arrows(path: &CriticalPath) -> String {
    path.tasks.join(" -> ")
}

fn by_timings(
    cx: &Context<'_>,
    path: &CriticalPath,
    chain: &[&Subject<'_>],
    total: Weight,
    own: &dyn Fn(&Subject<'_>) -> Weight,
) -> Finding {
    let untimed: Vec<&str> = chain
        .iter()
        .filter(|s| cx.samples(s.name()).is_none())
        .map(|s| s.name())
        .collect();
    // The heaviest task on the path, first in order on a tie.
    let mut heaviest: Option<(&Subject<'_>, f64)> = None;
    for s in chain {
        let ms = own(s).ms;
        if heaviest.is_none_or(|(_, h)| ms > h) {
            heaviest = Some((s, ms));
        }
    }
    let mut message = format!(
        "The longest chain through `needs` is {}: {} tasks one after another, {} by their median durations",
        arrows(path),
        chain.len(),
        show_ms(total.ms)
    );
    let mut suggestion = String::from(
        "Only tasks on this chain shorten the run: time saved on other tasks does not.",
    );
    if let Some((s, ms)) = heaviest.filter(|(_, ms)| *ms > 0.0 && total.ms > 0.0) {
        let share = ms / total.ms * 100.0;
        message.push_str(&format!(
            "; `{}` takes {} of it ({share:.0}%)",
            s.name(),
            show_ms(ms)
        ));
        suggestion = format!(
            "Speed up `{}` (median {}, {share:.0}% of the path) or move work off this chain: only tasks on it shorten the run.",
            s.name(),
            show_ms(ms)
        );
    }
    message.push('.');
    if !untimed.is_empty() {
        message.push_str(&format!(
            " {} {} no timings and count{} as 0 ms.",
            super::list(&untimed),
            if untimed.len() == 1 { "has" } else { "have" },
            if untimed.len() == 1 { "s" } else { "" },
        ));
    }
    let weights: Vec<_> = chain
        .iter()
        .map(|s| {
            let median = cx
                .samples(s.name())
                .and_then(super::stats::summarize)
                .map(|m| round(m.median, 3));
            json!({"task": s.name(), "median_ms": median})
        })
        .collect();
    Finding {
        kind: FindingKind::CriticalPath,
        severity: Level::Info,
        path: "tasks".into(),
        tasks: path.tasks.clone(),
        message,
        suggestion,
        evidence: json!({
            "basis": path.basis,
            "steps": chain.len(),
            "estimated_ms": path.estimated_ms,
            "weights": weights,
            "untimed": untimed,
            "unknown_timings": cx.unknown_timings,
        }),
    }
}

fn by_definition(
    cx: &Context<'_>,
    path: &CriticalPath,
    chain: &[&Subject<'_>],
    total: Weight,
) -> Finding {
    let sleeps: Vec<&str> = chain
        .iter()
        .filter(|s| sleep_ms(s).is_some_and(|ms| ms > 0.0))
        .map(|s| s.name())
        .collect();
    let mut message = format!(
        "The longest chain through `needs` is {}: {} tasks one after another",
        arrows(path),
        chain.len()
    );
    if total.ms > 0.0 {
        message.push_str(&format!(
            ", with {} of `sleep` ({})",
            show_ms(total.ms),
            super::list(&sleeps)
        ));
    }
    message.push_str(
        ". The execution cannot end before they have run in turn. Without timings, each task counts as one step.",
    );
    Finding {
        kind: FindingKind::CriticalPath,
        severity: Level::Info,
        path: "tasks".into(),
        tasks: path.tasks.clone(),
        message,
        suggestion: "To shorten the run, shorten this chain: drop `needs` that only order tasks, or split its longest task; pass past timings to weigh each task by its real duration.".into(),
        evidence: json!({
            "basis": path.basis,
            "steps": chain.len(),
            "sleep_ms": round(total.ms, 3),
            "unknown_timings": cx.unknown_timings,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{analyze_yaml, of_kind, timing};
    use super::*;

    const DIAMOND: &str = "name: w
tasks:
  start: {type: set, with: 1}
  quick: {type: set, needs: start, with: 2}
  slow1: {type: set, needs: start, with: 3}
  slow2: {type: set, needs: slow1, with: 4}
  end: {type: set, needs: [quick, slow2], with: 5}
";

    #[test]
    fn without_timings_the_most_steps_win() {
        let a = analyze_yaml(DIAMOND, &[]);
        assert_eq!(a.critical_path.tasks, ["start", "slow1", "slow2", "end"]);
        assert_eq!(a.critical_path.basis, Basis::Definition);
        assert_eq!(a.critical_path.estimated_ms, None);
        let f = of_kind(&a, FindingKind::CriticalPath);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("start -> slow1 -> slow2 -> end: 4 tasks"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence["steps"], 4);
        // Every link is a `needs` that reads nothing: the suggestion names them.
        assert!(
            f[0].suggestion.contains("`slow1` waits for `start`, `slow2` waits for `slow1` and `end` waits for `slow2` without reading them"),
            "{}",
            f[0].suggestion
        );
        let read = analyze_yaml(
            "name: w\ntasks:\n  a: {type: set, with: 1}\n  b: {type: set, needs: a, with: '${ $tasks.a.output }'}\n",
            &[],
        );
        let f = of_kind(&read, FindingKind::CriticalPath);
        assert!(
            !f[0].suggestion.contains("needless_serial"),
            "{}",
            f[0].suggestion
        );
    }

    #[test]
    fn a_sleep_outweighs_steps() {
        let a = analyze_yaml(
            "name: w
tasks:
  a: {type: set, with: 1}
  b: {type: set, needs: a, with: 1}
  c: {type: set, needs: b, with: 1}
  nap: {type: sleep, with: {duration: 1h}}
  after: {type: set, needs: nap, with: 1}
",
            &[],
        );
        assert_eq!(a.critical_path.tasks, ["nap", "after"]);
        let f = &of_kind(&a, FindingKind::CriticalPath)[0];
        assert!(
            f.message.contains("1.0 h of `sleep` (`nap`)"),
            "{}",
            f.message
        );
        assert_eq!(f.evidence["sleep_ms"], 3_600_000.0);
    }

    #[test]
    fn with_timings_medians_decide_and_untimed_tasks_are_named() {
        let timings = [
            timing("start", &[10.0, 10.0, 10.0]),
            timing("quick", &[5000.0, 7000.0, 6000.0]),
            timing("slow1", &[100.0]),
            timing("end", &[20.0]),
        ];
        let a = analyze_yaml(DIAMOND, &timings);
        assert_eq!(a.critical_path.tasks, ["start", "quick", "end"]);
        assert_eq!(a.critical_path.basis, Basis::Timings);
        assert_eq!(a.critical_path.estimated_ms, Some(6030.0));
        let f = &of_kind(&a, FindingKind::CriticalPath)[0];
        assert!(
            f.message.contains("`quick` takes 6.0 s of it (100%)"),
            "{}",
            f.message
        );
        assert!(
            f.suggestion.starts_with("Speed up `quick`"),
            "{}",
            f.suggestion
        );
        // `slow2` is untimed but not on the path.
        assert_eq!(f.evidence["untimed"], json!([]));

        let only_start = [timing("start", &[10.0])];
        let a = analyze_yaml(DIAMOND, &only_start);
        let f = &of_kind(&a, FindingKind::CriticalPath)[0];
        assert!(
            f.message.contains("have no timings and count as 0 ms"),
            "{}",
            f.message
        );
    }

    #[test]
    fn one_task_has_a_path_but_no_finding() {
        let a = analyze_yaml("name: w\ntasks:\n  a: {type: set, with: 1}\n", &[]);
        assert_eq!(a.critical_path.tasks, ["a"]);
        assert!(of_kind(&a, FindingKind::CriticalPath).is_empty());
    }

    #[test]
    fn handlers_and_fallbacks_are_not_on_the_path() {
        let a = analyze_yaml(
            "name: w
tasks:
  a: {type: set, with: 1, fallback: {type: sleep, with: {duration: 1d}}}
  b: {type: set, with: 1}
finally:
  z: {type: sleep, with: {duration: 1d}}
",
            &[],
        );
        assert_eq!(a.critical_path.tasks, ["a"]);
    }
}
