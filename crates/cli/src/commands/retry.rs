//! `harmonia retry --db PATH EXECUTION`: run a failed execution again, reusing what
//! succeeded.
//!
//! The retry is a new execution linked to the original, on the same workflow version
//! (or the latest, with `--latest`), with the same inputs. Tasks that succeeded keep
//! their outputs and do not run; failed, cancelled and skipped ones run again, and so
//! does everything downstream of them. `--from TASK` also runs TASK and everything
//! downstream again. `--preview` only says which tasks would run again and which
//! outputs would be reused.

use crate::output::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use harmonia_app::Error as AppError;
use harmonia_app::executions::RetryMode;
use harmonia_engine::RetryOptions;

use super::durability::Durability;
use super::local::{Invalid, Local, Output, exit_code, print_report};
use super::report::execution_report;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The execution to retry: its id or a unique prefix of it.
    #[arg(value_name = "EXECUTION")]
    execution: String,
    /// The SQLite database that holds it.
    #[arg(long, value_name = "PATH", env = "HARMONIA_DB")]
    db: PathBuf,
    /// Also run this task and everything downstream of it again.
    #[arg(long, value_name = "TASK")]
    from: Option<String>,
    /// Run on the workflow's latest version.
    #[arg(long)]
    latest: bool,
    /// Only show what would run again and what would be reused.
    #[arg(long)]
    preview: bool,
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
    super::local::run_to_end(retry(args))
}

async fn retry(args: &Args) -> anyhow::Result<ExitCode> {
    if !args.db.exists() {
        anyhow::bail!("no database at {}", args.db.display());
    }
    let local = Local::open(Some(&args.db), args.durability, args.allow_shell, None).await?;
    let id = match super::local::resolve(local.store().as_ref(), &args.execution).await? {
        Ok(id) => id,
        Err(invalid) => {
            local.close().await;
            return Ok(invalid.print(args.output));
        }
    };
    let options = RetryOptions {
        from: args.from.clone(),
        latest_version: args.latest,
    };
    let mode = if args.preview {
        RetryMode::Preview
    } else {
        RetryMode::Start
    };
    let events = local.subscribe();
    // The use case `POST /api/executions/{id}/retry` calls.
    let (new, plan) = match local.app.executions().retry(id, &options, mode).await {
        Ok(retried) => (retried.execution, retried.plan),
        Err(e) => {
            local.close().await;
            let invalid = match e {
                AppError::Conflict(m) => Invalid::new("conflict", m),
                AppError::NotFound(m) => Invalid::new("not_found", m),
                e @ AppError::UnknownTask { .. } => Invalid::new("unknown_task", e.to_string()),
                other => super::run::start_error(other)?,
            };
            return Ok(invalid.print(args.output));
        }
    };
    let Some(new) = new else {
        local.close().await;
        match args.output {
            Output::Json => outln!("{}", serde_json::to_string_pretty(&plan)?),
            Output::Text => {
                outln!(
                    "retry of {} ({} version {}):",
                    plan.original,
                    plan.workflow,
                    plan.version
                );
                outln!(
                    "  run again: {}",
                    if plan.rerun.is_empty() {
                        "-".into()
                    } else {
                        plan.rerun.join(", ")
                    }
                );
                outln!(
                    "  reuse:     {}",
                    if plan.reused.is_empty() {
                        "-".into()
                    } else {
                        plan.reused.join(", ")
                    }
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    if args.output == Output::Text {
        crate::output::errln!(
            "retrying {} as execution {new}: running again {}",
            plan.original,
            plan.rerun.join(", ")
        );
    }
    let workflow = local
        .plans()
        .get(&plan.workflow, Some(plan.version))
        .await?;
    let (record, elapsed) = local
        .watch(new, &workflow.plan, args.output, events)
        .await?;
    let report = execution_report(local.store().as_ref(), &record, &workflow.plan).await?;
    local.close().await;
    print_report(&report, elapsed, args.output);
    Ok(exit_code(&record))
}
