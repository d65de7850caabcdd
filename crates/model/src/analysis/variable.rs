//! `variable_duration`: with timings, the tasks whose durations vary most.
//!
//! A task qualifies with at least [`MIN_SAMPLES`] samples and a coefficient of
//! variation (sample standard deviation over mean) of at least [`MIN_CV`]; the
//! [`TOP`] with the highest are reported, ties in definition order. Waits on people
//! and events (`approval`, `wait_event`) vary by nature and are left out. For kinds
//! that a task `timeout` bounds, the suggestion proposes one at twice the 95th
//! percentile, unless the task has one already.

use std::time::Duration;

use serde_json::json;

use super::stats::{Summary, summarize};
use super::subjects::{Context, Subject};
use super::{Finding, FindingKind, Level, Ranked, round, show_ms};
use crate::duration::Dur;

/// The fewest samples that say anything about spread.
const MIN_SAMPLES: usize = 5;

/// The smallest coefficient of variation reported.
const MIN_CV: f64 = 0.5;

/// How many tasks are reported at most.
const TOP: usize = 3;

/// Kinds whose duration is a person's or another system's choice.
const WAITS: [&str; 2] = ["approval", "wait_event"];

/// Kinds whose attempts a task `timeout` bounds.
const TIMED_KINDS: [&str; 4] = ["http", "shell", "component", "worker"];

/// The `variable_duration` findings.
pub(super) fn check(cx: &Context<'_>) -> Vec<Ranked> {
    let mut found: Vec<(&Subject<'_>, Summary)> = cx
        .tasks()
        .filter(|s| !WAITS.contains(&s.def.kind.as_str()))
        .filter_map(|s| Some((s, cx.samples(s.name()).and_then(summarize)?)))
        .filter(|(_, m)| m.n >= MIN_SAMPLES && m.cv >= MIN_CV)
        .collect();
    // Stable: equal spreads stay in definition order.
    found.sort_by(|a, b| b.1.cv.total_cmp(&a.1.cv));
    found.truncate(TOP);
    found.into_iter().map(|(s, m)| finding(cx, s, m)).collect()
}

/// A timeout of about twice `p95`, rounded up to a duration people write.
fn timeout_for(p95_ms: f64) -> Dur {
    let ms = (p95_ms * 2.0).max(1000.0);
    let step = if ms < 120_000.0 { 1000.0 } else { 60_000.0 };
    let rounded = (ms / step).ceil() * step;
    Dur(Duration::from_millis(rounded.min(1e12) as u64))
}

fn finding(cx: &Context<'_>, s: &Subject<'_>, m: Summary) -> Ranked {
    let name = s.name();
    let message = format!(
        "`{name}` took from {} to {} over {} runs (median {}, 95th percentile {}, coefficient of variation {:.2}): how long an execution lasts depends on which of these it gets.",
        show_ms(m.min),
        show_ms(m.max),
        m.n,
        show_ms(m.median),
        show_ms(m.p95),
        m.cv
    );
    let limit = s.def.timeout.or(cx.wf.defaults.timeout);
    let timed = TIMED_KINDS.contains(&s.def.kind.as_str());
    let (path, suggestion) = match (timed, limit) {
        (true, None) => (
            s.path.key("timeout"),
            format!(
                "Find what makes the slow runs slow (input size, the load on what it calls); meanwhile `timeout: {}` (about twice the 95th percentile) with a `retry` cuts a stuck attempt short and tries again.",
                timeout_for(m.p95)
            ),
        ),
        (true, Some(t)) => (
            s.path.clone(),
            format!(
                "Find what makes the slow runs slow (input size, the load on what it calls); its `timeout: {t}` bounds each attempt."
            ),
        ),
        (false, _) => (
            s.path.clone(),
            "Find what makes the slow runs slow: the size of its input, or what it waits for."
                .to_string(),
        ),
    };
    Ranked {
        rank: s.rank,
        finding: Finding {
            kind: FindingKind::VariableDuration,
            severity: Level::Info,
            path: path.to_string(),
            tasks: vec![name.to_string()],
            message,
            suggestion,
            evidence: json!({
                "n": m.n,
                "median_ms": round(m.median, 3),
                "p95_ms": round(m.p95, 3),
                "cv": round(m.cv, 3),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{analyze_yaml, of_kind, timing};
    use super::*;

    const TEXT: &str = "name: w
tasks:
  a: {type: http, with: {url: 'http://x'}}
  b: {type: set, with: 1}
  c: {type: http, timeout: 5s, with: {url: 'http://x'}}
  d: {type: set, with: 1}
  e: {type: approval, with: {prompt: ok?}}
";

    const WILD: [f64; 5] = [100.0, 100.0, 100.0, 100.0, 1000.0];

    #[test]
    fn the_most_variable_tasks_are_found() {
        let timings = [
            timing("a", &WILD),
            timing("b", &[100.0, 100.0, 100.0, 100.0, 2000.0]),
            timing("c", &WILD),
            timing("d", &[10.0, 30.0, 10.0, 30.0, 10.0, 60.0]),
        ];
        let a = analyze_yaml(TEXT, &timings);
        let f = of_kind(&a, FindingKind::VariableDuration);
        let tasks: Vec<&str> = f.iter().map(|f| f.tasks[0].as_str()).collect();
        // `d` varies least (cv ~0.66) and only the top three are kept; the rest sort
        // by definition order.
        assert_eq!(tasks, ["a", "b", "c"]);
        assert_eq!(f[0].path, "tasks.a.timeout");
        assert!(
            f[0].suggestion.contains("`timeout: 2s`"),
            "{}",
            f[0].suggestion
        );
        assert_eq!(f[0].evidence["n"], 5);
        assert_eq!(f[0].evidence["median_ms"], 100.0);
        assert_eq!(f[0].evidence["p95_ms"], 1000.0);
        assert_eq!(f[0].evidence["cv"], 1.437);
        assert_eq!(f[1].path, "tasks.b");
        assert!(
            f[2].suggestion.contains("`timeout: 5s` bounds"),
            "{}",
            f[2].suggestion
        );
        assert!(
            f[0].message.contains("from 100 ms to 1.0 s over 5 runs"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn steady_short_or_waiting_tasks_are_not_found() {
        let timings = [
            timing("a", &[100.0, 110.0, 90.0, 105.0, 95.0]),
            timing("b", &[100.0, 1000.0, 100.0, 1000.0]),
            timing("e", &[1000.0, 3_600_000.0, 50.0, 8000.0, 90_000.0]),
        ];
        let a = analyze_yaml(TEXT, &timings);
        assert!(of_kind(&a, FindingKind::VariableDuration).is_empty());
        assert!(of_kind(&analyze_yaml(TEXT, &[]), FindingKind::VariableDuration).is_empty());
    }

    #[test]
    fn timeouts_round_up_to_written_durations() {
        assert_eq!(timeout_for(100.0).to_string(), "1s");
        assert_eq!(timeout_for(1200.0).to_string(), "3s");
        assert_eq!(timeout_for(90_000.0).to_string(), "3m");
        assert_eq!(
            timeout_for(f64::MAX).get(),
            Duration::from_millis(1_000_000_000_000)
        );
    }
}
