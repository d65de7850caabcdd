//! `harmonia bench`: the engine's throughput on durable SQLite, with no-op `set` tasks.
//!
//! Scenarios: (a) a chain of 100 tasks; (b) a fan-out 1 -> 1000 -> 1; (c) 200
//! executions of 3 sequential tasks started together; (d) a fan-out of 100,000 items.
//! Each run of a scenario is a fresh child process (`harmonia bench --child`) on a fresh
//! database in a temporary directory, so its peak RSS is its own. The wall time runs
//! from the first start request to the last execution's end, as seen by a caller of the
//! engine; registering the definition is excluded.
//!
//! The figures are medians over `--runs` runs. The same scenarios run on the in-memory
//! store in the same invocation, as the baseline: the ratio shows what durability costs.
//! `--durability` picks what SQLite's commits survive (`process`, the default, or
//! `fsync`; see `durability`); given twice (`--durability process --durability fsync`)
//! both are measured, one table each.

use crate::output::outln;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use harmonia_engine::{Engine, EngineConfig, StartRequest};
use harmonia_model::{Format, Source};
use harmonia_storage::{ExecutionStatus, MemoryStore, Store};
use harmonia_storage_sql::SqliteStore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::durability::Durability;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Scenarios to run (a, b, c, d; repeat or comma-separate); all by default.
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
    /// Skip the in-memory baseline.
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

/// One run's measurement, printed by a child as a JSON line.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Measure {
    wall_ms: f64,
    tasks: u64,
    peak_rss_kb: u64,
}

struct Scenario {
    name: &'static str,
    title: &'static str,
    bar_ms: f64,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "a",
        title: "chain of 100",
        bar_ms: 20.0,
    },
    Scenario {
        name: "b",
        title: "fan-out 1 -> 1000 -> 1",
        bar_ms: 50.0,
    },
    Scenario {
        name: "c",
        title: "200 executions x 3 tasks",
        bar_ms: 100.0,
    },
    Scenario {
        name: "d",
        title: "fan-out of 100,000",
        bar_ms: 10_000.0,
    },
];

fn definition(scenario: &str) -> (String, u64, usize) {
    match scenario {
        "a" => {
            let mut y = String::from("name: bench-chain\ntasks:\n  t0: {type: set, with: 0}\n");
            for i in 1..100 {
                y.push_str(&format!("  t{i}: {{type: set, needs: [t{}], with: {i}}}\n", i - 1));
            }
            (y, 100, 1)
        }
        "b" => (
            "name: bench-fan\ntasks:\n  start: {type: set, with: 0}\n  fan: {type: set, needs: [start], for_each: '${ [range(1000)] }', with: '${ $item }'}\n  end: {type: set, needs: [fan], with: '${ $tasks.fan.output | length }'}\n".into(),
            1002,
            1,
        ),
        "c" => (
            "name: bench-many\ntasks:\n  a: {type: set, with: 1}\n  b: {type: set, needs: [a], with: 2}\n  c: {type: set, needs: [b], with: 3}\n".into(),
            600,
            200,
        ),
        _ => (
            "name: bench-wide\ntasks:\n  fan: {type: set, for_each: '${ [range(100000)] }', with: '${ $item }'}\n".into(),
            100_000,
            1,
        ),
    }
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn child(
    scenario: &str,
    store_kind: &str,
    durability: Durability,
    inline: bool,
) -> anyhow::Result<Measure> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = if store_kind == "memory" {
        Arc::new(MemoryStore::new())
    } else {
        Arc::new(SqliteStore::open(&dir.path().join("bench.db"), durability.sqlite()).await?)
    };
    let config = EngineConfig {
        inline_pure_tasks: inline,
        ..EngineConfig::default()
    };
    let engine = Engine::builder(store).config(config).spawn().await?;
    let handle = engine.handle().clone();
    let (text, tasks, executions) = definition(scenario);
    let workflow = handle
        .plans()
        .register(&Source::new("bench.yaml", text, Format::Yaml))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let starts =
        (0..executions).map(|_| handle.start(StartRequest::new(workflow.clone(), Value::Null)));
    let ids = futures::future::try_join_all(starts).await?;
    let waits = ids.iter().map(|id| handle.wait(*id));
    let records = futures::future::try_join_all(waits).await?;
    let wall = started.elapsed();
    for r in &records {
        anyhow::ensure!(
            r.status == ExecutionStatus::Succeeded,
            "execution {} ended {}",
            r.id,
            r.status
        );
    }
    handle.shutdown();
    let _ = engine.stopped().await;
    Ok(Measure {
        wall_ms: wall.as_secs_f64() * 1000.0,
        tasks,
        peak_rss_kb: peak_rss_kb(),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn spawn_child(
    exe: &PathBuf,
    scenario: &str,
    store: &str,
    durability: Durability,
    inline: bool,
) -> anyhow::Result<Measure> {
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["bench", "--child", scenario, "--store", store]);
    cmd.args(["--durability", durability.name()]);
    if !inline {
        cmd.arg("--no-inline");
    }
    let out = cmd.output().context("cannot run a benchmark child")?;
    anyhow::ensure!(
        out.status.success(),
        "scenario {scenario} on {store} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).context("unreadable benchmark child output")
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(scenario) = &args.child {
        // The runtime `serve` and `run` use (large stacks for evaluations).
        let runtime = super::local::runtime()?;
        let durability = args.durabilities.first().copied().unwrap_or_default();
        let m = runtime.block_on(child(scenario, &args.store, durability, !args.no_inline))?;
        outln!("{}", serde_json::to_string(&m)?);
        return Ok(ExitCode::SUCCESS);
    }
    let exe = std::env::current_exe().context("cannot find this program")?;
    let wanted: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|s| args.scenarios.is_empty() || args.scenarios.iter().any(|w| w == s.name))
        .collect();
    let mut durabilities = args.durabilities.clone();
    if durabilities.is_empty() {
        durabilities.push(Durability::Process);
    }
    durabilities.dedup();
    let mut results = Vec::new();
    for durability in durabilities {
        measure(args, &exe, &wanted, durability, &mut results)?;
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        outln!(
            "medians of {} runs each; ratio = durable SQLite / in-memory store, measured in this run",
            args.runs.max(1)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the `wanted` scenarios on SQLite with `durability` (and on the in-memory store),
/// prints a table (unless `--json`) and adds the results to `results`.
fn measure(
    args: &Args,
    exe: &PathBuf,
    wanted: &[&Scenario],
    durability: Durability,
    results: &mut Vec<Value>,
) -> anyhow::Result<()> {
    if !args.json {
        outln!(
            "{:<28} {:>11} {:>11} {:>13} {:>12} {:>10} {:>9}",
            format!("scenario (SQLite, {})", durability.name()),
            "wall (ms)",
            "bar (ms)",
            "tasks/s",
            "peak RSS",
            "memory ms",
            "ratio"
        );
    }
    for s in wanted.iter().copied() {
        let mut durable = Vec::new();
        let mut memory = Vec::new();
        // Interleave the two stores so that machine noise hits both alike.
        for _ in 0..args.runs.max(1) {
            durable.push(spawn_child(
                exe,
                s.name,
                "sqlite",
                durability,
                !args.no_inline,
            )?);
            if !args.no_baseline {
                memory.push(spawn_child(
                    exe,
                    s.name,
                    "memory",
                    durability,
                    !args.no_inline,
                )?);
            }
        }
        let wall = median(durable.iter().map(|m| m.wall_ms).collect());
        let rss = median(durable.iter().map(|m| m.peak_rss_kb as f64).collect());
        let tasks = durable.first().map_or(0, |m| m.tasks);
        let base = median(memory.iter().map(|m| m.wall_ms).collect());
        let per_sec = tasks as f64 / (wall / 1000.0);
        let result = serde_json::json!({
            "scenario": s.name,
            "durability": durability.name(),
            "title": s.title,
            "runs": durable.len(),
            "wall_ms_median": wall,
            "wall_ms_all": durable.iter().map(|m| m.wall_ms).collect::<Vec<_>>(),
            "tasks": tasks,
            "tasks_per_second": per_sec,
            "peak_rss_mb": rss / 1024.0,
            "memory_wall_ms_median": if memory.is_empty() { Value::Null } else { base.into() },
            "durable_over_memory": if memory.is_empty() { Value::Null } else { (wall / base).into() },
            "bar_ms": s.bar_ms,
            "within_bar": wall <= s.bar_ms,
        });
        if !args.json {
            outln!(
                "{:<28} {:>11.1} {:>11.0} {:>13.0} {:>9.1} MB {:>10} {:>9}",
                format!("({}) {}", s.name, s.title),
                wall,
                s.bar_ms,
                per_sec,
                rss / 1024.0,
                if memory.is_empty() {
                    "-".into()
                } else {
                    format!("{base:.1}")
                },
                if memory.is_empty() {
                    "-".into()
                } else {
                    format!("{:.2}x", wall / base)
                },
            );
        }
        results.push(result);
    }
    Ok(())
}
