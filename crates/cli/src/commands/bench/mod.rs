//! `harmonia bench`: the engine's throughput on durable SQLite, with no-op `set` tasks.
//!
//! Scenarios: (a) a chain of 100 tasks; (b) a fan-out 1 -> 1000 -> 1; (c) 200
//! executions of 3 sequential tasks started together; (d) a fan-out of 100,000 items;
//! (e) the executions of (c) one after another, each started when the previous one
//! ended; (s) `harmonia run` of a one-task workflow as a whole process, start-up
//! included; (t) the same with 1,000 independent tasks.
//!
//! Each run of (a) to (e) is a fresh child process (`harmonia bench --child`, see
//! `child`) on a fresh database in a temporary directory, so its peak RSS, CPU time and
//! context switches are its own. The wall time runs from the first start request to the
//! last execution's end, as seen by a caller of the engine; registering the definition
//! is excluded. (s) and (t) are timed by this process from spawn to exit (see `whole`).
//!
//! The figures are medians over `--runs` runs. The same scenarios run on the in-memory
//! store in the same invocation, as the baseline: the ratio shows what durability costs.
//! The baseline of (s) and (t) is the process floor, `harmonia --version`.
//! `--durability` picks what SQLite's commits survive (`process`, the default, or
//! `fsync`; see `durability`); given twice (`--durability process --durability fsync`)
//! both are measured, one table each. An `fsync` table starts with the fsync floor
//! measured on the same filesystem (see `fsync`), and its `per step / fsync` column
//! says how many disk flushes a sequential step costs.

mod child;
mod fsync;
mod report;
mod scenario;
mod usage;
mod whole;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::Value;

use self::report::Summary;
use self::scenario::{Drive, SCENARIOS, Scenario};
use super::durability::Durability;
use crate::output::outln;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Scenarios to run (a, b, c, d, e, s, t, m; repeat or comma-separate); all but `m`
    /// (a fan-out of 1,000,000, minutes and gigabytes) by default.
    #[arg(
        long = "scenario",
        value_name = "NAME",
        value_delimiter = ',',
        value_parser = clap::builder::PossibleValuesParser::new(SCENARIOS.map(|s| s.name))
    )]
    scenarios: Vec<String>,
    /// Runs per scenario and store; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Skip the in-memory baseline (and the process floor).
    #[arg(long)]
    no_baseline: bool,
    /// Run pure tasks as separate attempts instead of inline (to measure inlining).
    #[arg(long)]
    no_inline: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// What SQLite's commits survive: `process` (the default) or `fsync`; repeat to
    /// measure several.
    #[arg(long = "durability", value_enum, value_name = "LEVEL")]
    durabilities: Vec<Durability>,
    /// Internal: run one scenario in this process and print its measurement.
    #[arg(long, hide = true, value_name = "NAME")]
    child: Option<String>,
    /// Internal: the store of a child run (sqlite or memory).
    #[arg(long, hide = true, default_value = "sqlite")]
    store: String,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.child {
        let scenario = scenario::find(name)
            .filter(|s| s.drive != Drive::WholeProcess)
            .with_context(|| format!("no scenario {name} runs in a child"))?;
        // The runtime `serve` and `run` use (large stacks for evaluations).
        let runtime = super::local::runtime()?;
        let durability = args.durabilities.first().copied().unwrap_or_default();
        let m = runtime.block_on(child::run(
            scenario,
            &args.store,
            durability,
            !args.no_inline,
        ))?;
        outln!("{}", serde_json::to_string(&m)?);
        return Ok(ExitCode::SUCCESS);
    }
    let exe = std::env::current_exe().context("cannot find this program")?;
    let wanted: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|s| {
            if args.scenarios.is_empty() {
                s.by_default
            } else {
                args.scenarios.iter().any(|w| w == s.name)
            }
        })
        .collect();
    let mut durabilities = args.durabilities.clone();
    if durabilities.is_empty() {
        durabilities.push(Durability::Process);
    }
    durabilities.dedup();
    let fsync_table = durabilities.contains(&Durability::Fsync);
    let mut results = Vec::new();
    for durability in durabilities {
        table(args, &exe, &wanted, durability, &mut results)?;
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        outln!(
            "medians of {} each; ratio = wall / baseline ms, where the baseline is the \
             same scenario on the in-memory store in this run (a-e: what durability costs) \
             or `harmonia --version`, the process floor (s, t: what a run adds to start-up){}",
            match args.runs.max(1) {
                1 => "1 run".to_string(),
                n => format!("{n} runs"),
            },
            if fsync_table {
                "; per step / fsync = wall / sequential steps / fsync floor (the disk \
                 flushes one step costs)"
            } else {
                ""
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the `wanted` scenarios on SQLite with `durability` (and their baselines),
/// prints a table (unless `--json`) and adds the results to `results`.
fn table(
    args: &Args,
    exe: &Path,
    wanted: &[&Scenario],
    durability: Durability,
    results: &mut Vec<Value>,
) -> anyhow::Result<()> {
    let fsync_ms = if durability == Durability::Fsync {
        Some(fsync::floor_ms()?)
    } else {
        None
    };
    let width = wanted
        .iter()
        .map(|s| report::label(s).chars().count())
        .chain([format!("scenario (SQLite, {})", durability.name()).len()])
        .max()
        .unwrap_or(0);
    if !args.json {
        if let Some(ms) = fsync_ms {
            outln!(
                "fsync floor: {ms:.3} ms (median of {} appends of 4 KiB + fdatasync in {})",
                fsync::WRITES,
                std::env::temp_dir().display()
            );
        }
        outln!("{}", report::header(width, durability, fsync_ms.is_some()));
    }
    for s in wanted.iter().copied() {
        let mut runs = Vec::new();
        let mut baseline = Vec::new();
        // Interleave the runs and their baseline so that machine noise hits both alike.
        for _ in 0..args.runs.max(1) {
            if s.drive == Drive::WholeProcess {
                runs.push(whole::run(exe, s, durability)?);
                if !args.no_baseline {
                    baseline.push(whole::floor(exe)?);
                }
            } else {
                runs.push(child::spawn(exe, s, "sqlite", durability, !args.no_inline)?);
                if !args.no_baseline {
                    baseline.push(child::spawn(exe, s, "memory", durability, !args.no_inline)?);
                }
            }
        }
        let summary = Summary::new(s, durability, runs, baseline, fsync_ms);
        if !args.json {
            outln!("{}", summary.line(width));
        }
        results.push(summary.json());
    }
    Ok(())
}
