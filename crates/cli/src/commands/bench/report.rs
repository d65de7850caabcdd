//! The results: a scenario's runs summed up as medians, printed as a table row or a
//! JSON object, and the table's header.

use serde_json::{Value, json};

use super::child::Measure;
use super::scenario::{Drive, Scenario};
use crate::commands::durability::Durability;

/// The median of `values`; `None` when there are none.
pub(super) fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The wall time per sequential step over one fsync: how many disk flushes a step
/// costs. `None` when the scenario's work is not sequential.
pub(super) fn per_step_over_fsync(wall_ms: f64, steps: Option<u32>, fsync_ms: f64) -> Option<f64> {
    let steps = steps.filter(|s| *s > 0)?;
    (fsync_ms > 0.0).then(|| wall_ms / f64::from(steps) / fsync_ms)
}

/// One scenario's runs on one durability, and its baseline runs.
pub(super) struct Summary<'a> {
    scenario: &'a Scenario,
    durability: Durability,
    runs: Vec<Measure>,
    baseline: Vec<Measure>,
    fsync_ms: Option<f64>,
}

/// The median of `field` over the runs that know it.
fn median_of(runs: &[Measure], field: impl Fn(&Measure) -> Option<f64>) -> Option<f64> {
    median(runs.iter().filter_map(field).collect())
}

impl<'a> Summary<'a> {
    /// `baseline` is the in-memory store's runs, or for a whole-process scenario the
    /// process floor's; empty with `--no-baseline`.
    pub(super) fn new(
        scenario: &'a Scenario,
        durability: Durability,
        runs: Vec<Measure>,
        baseline: Vec<Measure>,
        fsync_ms: Option<f64>,
    ) -> Summary<'a> {
        Summary {
            scenario,
            durability,
            runs,
            baseline,
            fsync_ms,
        }
    }

    fn wall(&self) -> Option<f64> {
        median_of(&self.runs, |m| Some(m.wall_ms))
    }

    fn tasks(&self) -> u64 {
        self.runs.first().map_or(0, |m| m.tasks)
    }

    fn tasks_per_second(&self) -> Option<f64> {
        self.wall().map(|w| self.tasks() as f64 / (w / 1000.0))
    }

    fn peak_rss_mb(&self) -> Option<f64> {
        median_of(&self.runs, |m| m.peak_rss_kb.map(|kb| kb as f64)).map(|kb| kb / 1024.0)
    }

    fn cpu_us_per_task(&self) -> Option<f64> {
        median_of(&self.runs, |m| m.cpu_us_per_task)
    }

    fn switches_per_task(&self) -> Option<f64> {
        median_of(&self.runs, |m| m.ctx_switches_per_task)
    }

    fn baseline_wall(&self) -> Option<f64> {
        median_of(&self.baseline, |m| Some(m.wall_ms))
    }

    fn ratio(&self) -> Option<f64> {
        Some(self.wall()? / self.baseline_wall()?)
    }

    fn per_step_over_fsync(&self) -> Option<f64> {
        per_step_over_fsync(self.wall()?, self.scenario.sequential_steps, self.fsync_ms?)
    }

    fn whole_process(&self) -> bool {
        self.scenario.drive == Drive::WholeProcess
    }

    /// The JSON object of this scenario.
    pub(super) fn json(&self) -> Value {
        let wall = self.wall();
        let (memory, process) = if self.whole_process() {
            (None, self.baseline_wall())
        } else {
            (self.baseline_wall(), None)
        };
        let ratio = self.ratio();
        json!({
            "scenario": self.scenario.name,
            "durability": self.durability.name(),
            "title": self.scenario.title,
            "runs": self.runs.len(),
            "wall_ms_median": wall,
            "wall_ms_all": self.runs.iter().map(|m| m.wall_ms).collect::<Vec<_>>(),
            "tasks": self.tasks(),
            "tasks_per_second": self.tasks_per_second(),
            "peak_rss_mb": self.peak_rss_mb(),
            "cpu_us_per_task": self.cpu_us_per_task(),
            "ctx_switches_per_task": self.switches_per_task(),
            "memory_wall_ms_median": memory,
            "memory_cpu_us_per_task": if self.whole_process() {
                None
            } else {
                median_of(&self.baseline, |m| m.cpu_us_per_task)
            },
            "durable_over_memory": if self.whole_process() { None } else { ratio },
            "process_floor_ms_median": process,
            "over_process_floor": if self.whole_process() { ratio } else { None },
            "bar_ms": self.scenario.bar_ms,
            "within_bar": wall.is_some_and(|w| w <= self.scenario.bar_ms),
            "sequential_steps": self.scenario.sequential_steps,
            "fsync_floor_ms": self.fsync_ms,
            "per_step_over_fsync": self.per_step_over_fsync(),
        })
    }

    /// The table row of this scenario, its first column `width` wide.
    pub(super) fn line(&self, width: usize) -> String {
        let mut line = format!(
            "{:<width$} {:>9} {:>8} {:>9} {:>11} {:>11} {:>13} {:>11} {:>7}",
            label(self.scenario),
            cell(self.wall(), 1),
            format!("{:.0}", self.scenario.bar_ms),
            cell(self.tasks_per_second(), 0),
            self.peak_rss_mb()
                .map_or_else(|| "-".into(), |mb| format!("{mb:.1} MB")),
            cell(self.cpu_us_per_task(), 1),
            cell(self.switches_per_task(), 2),
            cell(self.baseline_wall(), 1),
            self.ratio()
                .map_or_else(|| "-".into(), |r| format!("{r:.2}x")),
        );
        if self.fsync_ms.is_some() {
            line.push_str(&format!(" {:>16}", cell(self.per_step_over_fsync(), 2)));
        }
        line
    }
}

/// The first column of a scenario's row.
pub(super) fn label(scenario: &Scenario) -> String {
    format!("({}) {}", scenario.name, scenario.title)
}

/// The table's header; `fsync` adds the `per step / fsync` column.
pub(super) fn header(width: usize, durability: Durability, fsync: bool) -> String {
    let mut line = format!(
        "{:<width$} {:>9} {:>8} {:>9} {:>11} {:>11} {:>13} {:>11} {:>7}",
        format!("scenario (SQLite, {})", durability.name()),
        "wall (ms)",
        "bar (ms)",
        "tasks/s",
        "peak RSS",
        "CPU µs/task",
        "switches/task",
        "baseline ms",
        "ratio",
    );
    if fsync {
        line.push_str(&format!(" {:>16}", "per step / fsync"));
    }
    line
}

/// `value` with `decimals` decimals, or `-` when unknown.
fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::bench::scenario::find;

    #[test]
    fn median_of_odd_even_and_none() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0]), Some(3.0));
        assert_eq!(median(vec![5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn per_step_over_fsync_needs_sequential_steps() {
        assert_eq!(per_step_over_fsync(40.0, Some(100), 0.2), Some(2.0));
        assert_eq!(per_step_over_fsync(40.0, None, 0.2), None);
        assert_eq!(per_step_over_fsync(40.0, Some(0), 0.2), None);
        assert_eq!(per_step_over_fsync(40.0, Some(100), 0.0), None);
    }

    #[test]
    fn a_row_shows_what_is_known() {
        let a = find("a").expect("a");
        let run = |wall_ms| Measure {
            wall_ms,
            tasks: 100,
            peak_rss_kb: Some(20 * 1024),
            cpu_us_per_task: Some(50.0),
            ctx_switches_per_task: Some(1.5),
        };
        let s = Summary::new(
            a,
            Durability::Fsync,
            vec![run(30.0), run(10.0), run(20.0)],
            vec![run(5.0)],
            Some(0.1),
        );
        let j = s.json();
        assert_eq!(j["wall_ms_median"], 20.0);
        assert_eq!(j["tasks_per_second"], 5000.0);
        assert_eq!(j["durable_over_memory"], 4.0);
        assert_eq!(j["over_process_floor"], Value::Null);
        assert_eq!(j["per_step_over_fsync"], 2.0);
        assert_eq!(j["peak_rss_mb"], 20.0);
        let line = s.line(30);
        assert!(line.ends_with("2.00"), "{line}");
        assert!(line.contains("4.00x"), "{line}");
        assert_eq!(
            header(30, Durability::Fsync, true).chars().count(),
            line.chars().count()
        );

        let whole = Summary::new(
            find("s").expect("s"),
            Durability::Process,
            vec![Measure {
                wall_ms: 8.0,
                tasks: 1,
                ..Measure::default()
            }],
            vec![Measure {
                wall_ms: 2.0,
                ..Measure::default()
            }],
            None,
        );
        let j = whole.json();
        assert_eq!(j["over_process_floor"], 4.0);
        assert_eq!(j["durable_over_memory"], Value::Null);
        assert_eq!(j["peak_rss_mb"], Value::Null);
        let line = whole.line(50);
        assert!(!line.contains("MB"), "{line}");
        assert_eq!(
            header(50, Durability::Process, false).chars().count(),
            line.chars().count()
        );
    }
}
