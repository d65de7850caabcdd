//! `harmonia template list|show|create|export|import|instantiate`: a client of a running
//! server's template API (`/api/templates`).
//!
//! Unlike `run` or `history`, these commands never open a database: everything goes
//! through the server named by `--server` (`HARMONIA_SERVER`, default
//! `http://127.0.0.1:8007`), with `--token` (`HARMONIA_TOKEN`) as a bearer token when
//! auth is on. One file per subcommand; `commands::remote` speaks HTTP and turns every
//! way a request can fail into a `Failure`, which is printed in one place.
//!
//! Output: results on stdout, errors on stderr as `error: MESSAGE` followed by the
//! server's details (diagnostics as `FILE:LINE:COL: error: ...` when the command sent a
//! file). Exit codes: 0 success, 1 when the server refused or could not be reached (or
//! a local file could not be read or written), 2 when the command line is wrong.

mod create;
mod export;
mod import;
mod instantiate;
mod list;
pub(crate) mod pairs;
mod show;

use std::process::ExitCode;

use super::local::runtime;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    connection: crate::commands::remote::Connection,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// List the server's templates: NAME VERSION CATEGORY TAGS DESCRIPTION.
    List(list::Args),
    /// Print a template (YAML by default), or the list of its versions.
    // `--version` names a template version here, not the binary's.
    #[command(disable_version_flag = true)]
    Show(show::Args),
    /// Write templates, with all their versions, as one export document.
    Export(export::Args),
    /// Store a new template from a file (ours, or a Tekton template file, converted).
    Create(create::Args),
    /// Send an export document (or a single template file) to the server.
    Import(import::Args),
    /// Make a workflow from a template and parameter values, and optionally run it.
    #[command(disable_version_flag = true)]
    Instantiate(instantiate::Args),
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let client = crate::commands::remote::Client::new(&args.connection)?;
    let outcome = runtime()?.block_on(async {
        match &args.command {
            Command::List(a) => list::run(&client, a).await,
            Command::Show(a) => show::run(&client, a).await,
            Command::Create(a) => create::run(&client, a).await,
            Command::Export(a) => export::run(&client, a).await,
            Command::Import(a) => import::run(&client, a).await,
            Command::Instantiate(a) => instantiate::run(&client, a).await,
        }
    });
    Ok(match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.print(),
    })
}
