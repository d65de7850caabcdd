//! The whole-process scenarios (`s`, `t`): the wall time of the real binary running
//! `harmonia run FILE --db DB` on a fresh database in a fresh temporary directory, from
//! spawn to exit, with stdout and stderr discarded. Start-up, opening the database,
//! registering the definition and the run itself all count. Their baseline is the
//! process floor: `harmonia --version`, spawned and waited for the same way.
//!
//! The process is not ours to measure from inside, so peak RSS, CPU time and context
//! switches are unknown (`-`): reading them needs `wait4`'s rusage.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context as _;

use super::child::Measure;
use super::scenario::{Scenario, workload};
use crate::commands::durability::Durability;

/// Runs `harmonia run` on `scenario`'s workflow once and times it.
pub(super) fn run(
    exe: &Path,
    scenario: &Scenario,
    durability: Durability,
) -> anyhow::Result<Measure> {
    let dir = tempfile::tempdir()?;
    let work = workload(scenario);
    let file = dir.path().join("bench.yaml");
    std::fs::write(&file, &work.text).context("cannot write the benchmark workflow")?;
    let mut cmd = Command::new(exe);
    cmd.arg("run")
        .arg(&file)
        .arg("--db")
        .arg(dir.path().join("x.db"))
        .args(["--durability", durability.name()]);
    let wall_ms = timed(&mut cmd)
        .with_context(|| format!("scenario {}: `harmonia run` failed", scenario.name))?;
    Ok(Measure {
        wall_ms,
        tasks: work.tasks,
        ..Measure::default()
    })
}

/// The process floor: `harmonia --version`, from spawn to exit.
pub(super) fn floor(exe: &Path) -> anyhow::Result<Measure> {
    let wall_ms =
        timed(Command::new(exe).arg("--version")).context("`harmonia --version` failed")?;
    Ok(Measure {
        wall_ms,
        ..Measure::default()
    })
}

/// Runs `cmd` with no stdin, stdout or stderr and returns its wall time in ms.
fn timed(cmd: &mut Command) -> anyhow::Result<f64> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let status = cmd.status().context("cannot start the process")?;
    let wall = started.elapsed();
    anyhow::ensure!(status.success(), "it ended with {status}");
    Ok(wall.as_secs_f64() * 1000.0)
}
