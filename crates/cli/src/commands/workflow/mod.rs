//! `harmonia workflow apply|list|get|versions|diff|delete`: workflows on a running
//! server (`/api/workflows`), the way `kubectl apply` and `argo template` work.
//!
//! Like the other client commands these never open a database: everything goes through
//! `--server` (`HARMONIA_SERVER`) with `--token` (`HARMONIA_TOKEN`). One file per
//! concern; failures are printed in one place (`commands::remote::Failure`). Exit
//! codes: 0 success, 1 the server refused (or could not be reached, or a file could not
//! be read), 2 the command line is wrong.

pub(crate) mod apply;
mod diff;
mod read;

use std::process::ExitCode;

use super::local::runtime;
use super::remote::print::OutputArg;
use super::remote::{Client, Connection, Failure};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create workflows from files, or store a new version of each that changed.
    Apply(apply::Args),
    /// List the server's workflows: NAME VERSION CREATED DESCRIPTION.
    List(read::ListArgs),
    /// Print a workflow's definition as written (or, with -o, the server's record).
    // `--version` names a workflow version here, not the binary's.
    #[command(disable_version_flag = true)]
    Get(read::GetArgs),
    /// List the versions of a workflow.
    Versions(read::VersionsArgs),
    /// Show what changed between two versions of a workflow.
    Diff(diff::Args),
    /// Delete a workflow (its versions stay readable by the executions that ran them).
    Delete(read::DeleteArgs),
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.connection)?;
    runtime()?.block_on(async {
        let outcome: Result<ExitCode, Failure> = match &args.command {
            Command::Apply(a) => apply::run(&client, a).await,
            Command::List(a) => read::list(&client, a).await.map(|()| ExitCode::SUCCESS),
            Command::Get(a) => read::get(&client, a).await.map(|()| ExitCode::SUCCESS),
            Command::Versions(a) => read::versions(&client, a).await.map(|()| ExitCode::SUCCESS),
            Command::Diff(a) => diff::run(&client, a).await.map(|()| ExitCode::SUCCESS),
            Command::Delete(a) => read::delete(&client, a).await.map(|()| ExitCode::SUCCESS),
        };
        Ok(outcome.unwrap_or_else(|failure| failure.print()))
    })
}

/// The `-o` option, for the read commands.
pub(crate) type Output = OutputArg;
