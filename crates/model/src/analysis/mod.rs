//! Optimization findings: what could make a workflow faster or sturdier, found
//! deterministically from its [`Plan`] and, optionally, the durations of past runs.
//!
//! [`analyze`] returns an [`Analysis`]: the critical path (the longest chain through
//! `needs`) and a list of [`Finding`]s, each with the field a fix goes in (the dotted
//! path that validation diagnostics use), the tasks concerned, a message that says what
//! and why with numbers, the concrete change to make, and its evidence as JSON. It is
//! the deterministic half of "optimize a workflow": an LLM may explain the findings,
//! never invent them.
//!
//! One check, one module: `critical_path`, `serial` (`needless_serial`), `http`
//! (`http_without_timeout`, `http_without_retry`), `fan_out` (`unbounded_fan_out`),
//! `repeated` (`repeated_expression`) and `variable` (`variable_duration`); `subjects`
//! walks the plan's tasks with their definitions and paths, and `stats` computes
//! medians and spreads.
//!
//! Invariants:
//! - The output depends only on the plan and the timings, never on hash order: findings
//!   are sorted warnings first, then by kind, then by the definition order of the task
//!   the fix goes in.
//! - Checks prefer silence to a false alarm: each skips the cases where what it would
//!   suggest could change what the workflow does (a `needs` that gates on a condition, a
//!   fan-out over a short written list, an expression that reads `$secrets`).
//! - Timings are user data: non-finite and negative samples are ignored, timings of
//!   unknown tasks are ignored, and nothing here panics on them.

mod critical_path;
mod fan_out;
mod http;
mod repeated;
mod serial;
mod stats;
mod subjects;
mod variable;

#[cfg(test)]
mod test_support;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::Plan;
use subjects::Context;

/// The past durations of one task, supplied by the caller (from the event log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// The task's name, as in `tasks`.
    pub task: String,
    /// Durations of its succeeded attempts, in milliseconds. Non-finite and negative
    /// values are ignored.
    pub samples_ms: Vec<f64>,
}

/// What [`analyze`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The longest chain of tasks through `needs`.
    pub critical_path: CriticalPath,
    /// The findings: warnings first, then by kind, then in definition order.
    pub findings: Vec<Finding>,
}

/// The longest chain of tasks through `needs`: the execution lasts at least as long as
/// these tasks one after another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalPath {
    /// The tasks, first to last.
    pub tasks: Vec<String>,
    /// What the tasks were weighed by.
    pub basis: Basis,
    /// The sum of the path's median durations (only with [`Basis::Timings`]).
    pub estimated_ms: Option<f64>,
}

/// What a critical path's tasks were weighed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The definition alone: a `sleep` weighs its duration, any other task one step.
    Definition,
    /// The median of each task's past durations (0 for a task without any).
    Timings,
}

/// One finding: what, why, where the fix goes, and the fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What kind of finding it is.
    pub kind: FindingKind,
    /// How much it matters.
    pub severity: Level,
    /// The field the fix goes in, as validation diagnostics write it
    /// (`tasks.fetch.timeout`).
    pub path: String,
    /// The tasks concerned, in definition order (upstream first for a dependency).
    pub tasks: Vec<String>,
    /// What was found and why it matters, with numbers.
    pub message: String,
    /// The concrete change to make.
    pub suggestion: String,
    /// The facts behind the finding, as JSON (fields depend on the kind).
    pub evidence: Value,
}

/// The kinds of findings, in the order findings of the same severity are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The longest chain through `needs`.
    CriticalPath,
    /// A `needs` whose task reads nothing of the task it waits for.
    NeedlessSerial,
    /// An `http` task that nothing bounds in time.
    HttpWithoutTimeout,
    /// An `http` task that is never retried.
    HttpWithoutRetry,
    /// A fan-out without `concurrency`.
    UnboundedFanOut,
    /// The same expression written in several tasks.
    RepeatedExpression,
    /// A task whose past durations vary widely.
    VariableDuration,
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing; the workflow is fine without a change.
    Info,
    /// Likely to hurt: a hang, a flood.
    Warning,
}

/// A finding with the definition position of the task its fix goes in, for sorting.
#[derive(Debug)]
struct Ranked {
    rank: usize,
    finding: Finding,
}

/// Analyzes `plan`, weighing tasks by `timings` when given.
pub fn analyze(plan: &Plan, timings: &[Timing]) -> Analysis {
    let cx = Context::new(plan, timings);
    let serial = serial::check(&cx);
    let (critical_path, mut ranked) = critical_path::check(&cx, &serial);
    ranked.extend(serial);
    ranked.extend(http::check(&cx));
    ranked.extend(fan_out::check(&cx));
    ranked.extend(repeated::check(&cx));
    ranked.extend(variable::check(&cx));
    // A stable sort: findings of one kind and task keep the order their check made.
    ranked.sort_by(|a, b| {
        b.finding
            .severity
            .cmp(&a.finding.severity)
            .then(a.finding.kind.cmp(&b.finding.kind))
            .then(a.rank.cmp(&b.rank))
    });
    Analysis {
        critical_path,
        findings: ranked.into_iter().map(|r| r.finding).collect(),
    }
}

/// `ms` as people read it: `850 ms`, `12.5 s`, `3.2 min`.
fn show_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms < 3_600_000.0 {
        format!("{:.1} min", ms / 60_000.0)
    } else {
        format!("{:.1} h", ms / 3_600_000.0)
    }
}

/// `x` rounded to `places` decimals, for evidence (no `0.30000000000000004`).
fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Names as a message lists them: `` `a`, `b` and `c` ``.
fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names
        .iter()
        .map(|n| format!("`{}`", harmonia_expr::clip(n)))
        .collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::analyze_yaml;
    use super::*;

    #[test]
    fn findings_are_sorted_warnings_first_then_kind_then_definition_order() {
        let a = analyze_yaml(
            "name: w
tasks:
  a: {type: set, with: 1}
  b: {type: http, needs: a, with: {url: 'http://x'}}
  c: {type: http, for_each: '${ $inputs.xs }', with: {url: 'http://x'}}
",
            &[],
        );
        let got: Vec<(Level, FindingKind, &str)> = a
            .findings
            .iter()
            .map(|f| (f.severity, f.kind, f.path.as_str()))
            .collect();
        use FindingKind::*;
        use Level::*;
        assert_eq!(
            got,
            vec![
                (Warning, HttpWithoutTimeout, "tasks.b.timeout"),
                (Warning, HttpWithoutTimeout, "tasks.c.timeout"),
                (Warning, UnboundedFanOut, "tasks.c.concurrency"),
                (Info, CriticalPath, "tasks"),
                (Info, NeedlessSerial, "tasks.b.needs"),
                (Info, HttpWithoutRetry, "tasks.b.retry"),
                (Info, HttpWithoutRetry, "tasks.c.retry"),
            ]
        );
    }

    #[test]
    fn the_output_serializes_in_snake_case() {
        let a = analyze_yaml(
            "name: w\ntasks:\n  a: {type: set, with: 1}\n  b: {type: set, needs: a, with: '${ $tasks.a.output }'}\n",
            &[],
        );
        let v = serde_json::to_value(&a).expect("serializable");
        assert_eq!(v["critical_path"]["basis"], "definition");
        assert_eq!(v["critical_path"]["tasks"], serde_json::json!(["a", "b"]));
        assert_eq!(v["findings"][0]["kind"], "critical_path");
        assert_eq!(v["findings"][0]["severity"], "info");
    }

    #[test]
    fn the_repository_examples_analyze_the_same_twice() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
            .expect("the examples directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no examples in {}", dir.display());
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable");
            let plan = super::test_support::load_yaml(&text);
            let timings: Vec<Timing> = plan
                .tasks
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    super::test_support::timing(&t.name, &[10.0 * i as f64, 5.0, 900.0, 7.0, 30.0])
                })
                .collect();
            for timings in [&[][..], &timings[..]] {
                let first = serde_json::to_string(&analyze(&plan, timings)).expect("json");
                let second = serde_json::to_string(&analyze(&plan, timings)).expect("json");
                assert_eq!(first, second, "{}", file.display());
            }
        }
    }

    #[test]
    fn helpers_format_numbers_and_lists() {
        assert_eq!(show_ms(850.0), "850 ms");
        assert_eq!(show_ms(12_500.0), "12.5 s");
        assert_eq!(show_ms(192_000.0), "3.2 min");
        assert_eq!(show_ms(5_400_000.0), "1.5 h");
        assert_eq!(round(0.1 + 0.2, 3), 0.3);
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` and `c`");
    }
}
