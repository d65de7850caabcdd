//! A child run: one in-process scenario on a fresh store (SQLite in a temporary
//! directory, or the in-memory store), in a process of its own so that its peak RSS and
//! CPU time are its own. The parent spawns it (`harmonia bench --child NAME`) and reads
//! its [`Measure`], one JSON line on stdout.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use harmonia_engine::{Engine, EngineConfig, StartRequest};
use harmonia_model::{Format, Source};
use harmonia_storage::{ExecutionStatus, MemoryStore, Store};
use harmonia_storage_sql::SqliteStore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::scenario::{Drive, Scenario, workload};
use super::usage::{self, Usage};
use crate::commands::durability::Durability;

/// One run's measurement, printed by a child as a JSON line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Measure {
    /// From the first start request to the end of the last execution (a child), or
    /// from spawn to exit (a whole process).
    pub(super) wall_ms: f64,
    pub(super) tasks: u64,
    /// The process's peak resident set, in KiB; `None` when unknown.
    pub(super) peak_rss_kb: Option<u64>,
    /// CPU time (user and system, all threads) over the wall time, per task, in µs.
    pub(super) cpu_us_per_task: Option<f64>,
    /// Context switches (voluntary and involuntary, all threads) over the wall time, per
    /// task.
    pub(super) ctx_switches_per_task: Option<f64>,
}

/// Runs `scenario` on a fresh `store_kind` store in this process and measures it.
pub(super) async fn run(
    scenario: &Scenario,
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
    let work = workload(scenario);
    let workflow = handle
        .plans()
        .register(&Source::new("bench.yaml", work.text, Format::Yaml))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let before = Usage::sample();
    let started = Instant::now();
    let records = if scenario.drive == Drive::OneAfterAnother {
        let mut records = Vec::with_capacity(work.executions);
        for _ in 0..work.executions {
            let id = handle.start(request(&workflow)).await?;
            records.push(handle.wait(id).await?);
        }
        records
    } else {
        let starts = (0..work.executions).map(|_| handle.start(request(&workflow)));
        let ids = futures::future::try_join_all(starts).await?;
        let waits = ids.iter().map(|id| handle.wait(*id));
        futures::future::try_join_all(waits).await?
    };
    let wall = started.elapsed();
    let spent = Usage::sample().since(before);
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
    let per_task = |n: u64| n as f64 / work.tasks.max(1) as f64;
    Ok(Measure {
        wall_ms: wall.as_secs_f64() * 1000.0,
        tasks: work.tasks,
        peak_rss_kb: usage::peak_rss_kb(),
        cpu_us_per_task: spent.cpu_ns.map(|ns| per_task(ns) / 1000.0),
        ctx_switches_per_task: spent.switches.map(per_task),
    })
}

/// Runs `scenario` on `store` in a child process of `exe` and reads its measurement.
pub(super) fn spawn(
    exe: &Path,
    scenario: &Scenario,
    store: &str,
    durability: Durability,
    inline: bool,
) -> anyhow::Result<Measure> {
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["bench", "--child", scenario.name, "--store", store]);
    cmd.args(["--durability", durability.name()]);
    if !inline {
        cmd.arg("--no-inline");
    }
    let out = cmd.output().context("cannot run a benchmark child")?;
    anyhow::ensure!(
        out.status.success(),
        "scenario {} on {store} failed: {}",
        scenario.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).context("unreadable benchmark child output")
}

/// A start of the benchmark's workflow: a local run, as `harmonia run` records it.
fn request(workflow: &harmonia_engine::Workflow) -> StartRequest {
    StartRequest::new(workflow.clone(), Value::Null).with_origin(harmonia_storage::Origin::new(
        harmonia_storage::OriginKind::Cli,
        None,
    ))
}
