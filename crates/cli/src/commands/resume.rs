//! `harmonia resume --db PATH`: finish what a local database holds unfinished.
//!
//! After `harmonia run --db` was killed, interrupted, or the machine rebooted, this
//! reloads every unfinished execution, replays its log and continues it: tasks that
//! succeeded keep their outputs and do not run again, attempts that were in flight run
//! again (recorded as `recovered`), timers go on with their remaining time. It waits
//! until all of them end. `--output json` prints `{"executions": [...]}`, each in the
//! shape of `harmonia run --output json`. Exit 0 when every one succeeded (or there was
//! nothing to resume), 1 otherwise. A paused execution stays paused and is not waited
//! for.

use crate::output::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use harmonia_storage::ExecutionStatus;
use serde_json::{Value, json};

use super::durability::Durability;
use super::local::{Local, Output};
use super::report::execution_report;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SQLite database of the interrupted runs.
    #[arg(long, value_name = "PATH", env = "HARMONIA_DB")]
    db: PathBuf,
    /// Allow `shell` tasks to run processes on this machine.
    #[arg(long)]
    allow_shell: bool,
    /// What a commit survives: `process` (the process being killed) or `fsync` (also a
    /// power loss; slower).
    #[arg(long, value_enum, env = "HARMONIA_DURABILITY", default_value_t = Durability::Process)]
    durability: Durability,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    super::local::run_to_end(resume(args))
}

async fn resume(args: &Args) -> anyhow::Result<ExitCode> {
    if !args.db.exists() {
        anyhow::bail!("no database at {}", args.db.display());
    }
    let local = Local::open(Some(&args.db), args.durability, args.allow_shell, None).await?;
    let pending: Vec<_> = local
        .store()
        .unfinished()
        .await?
        .into_iter()
        .filter(|x| x.status != ExecutionStatus::Paused && x.parent.is_none())
        .collect();
    if args.output == Output::Text {
        crate::output::errln!(
            "resuming {} execution{}",
            pending.len(),
            if pending.len() == 1 { "" } else { "s" }
        );
    }
    let mut reports: Vec<Value> = Vec::new();
    let mut all_ok = true;
    for x in pending {
        let workflow = local.plans().get(&x.workflow, Some(x.version)).await?;
        if args.output == Output::Text {
            crate::output::errln!("{} (execution {})", x.workflow, x.id);
        }
        let (record, elapsed) = local
            .watch(x.id, &workflow.plan, args.output, local.subscribe())
            .await?;
        all_ok &= record.status == ExecutionStatus::Succeeded;
        let report = execution_report(local.store().as_ref(), &record, &workflow.plan).await?;
        if args.output == Output::Text {
            crate::output::errln!("{} in {:.2}s", record.status, elapsed.as_secs_f64());
            if let Some(m) = report["error"]["message"].as_str() {
                crate::output::errln!("error: {m}");
            }
        }
        reports.push(report);
    }
    local.close().await;
    match args.output {
        Output::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&json!({"executions": reports}))?
        ),
        Output::Text => {
            for r in &reports {
                if r["status"] == "succeeded" {
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(
                            &json!({"execution_id": r["execution_id"], "outputs": r["outputs"]})
                        )?
                    );
                }
            }
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
