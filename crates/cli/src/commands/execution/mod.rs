//! `harmonia execution list|get|watch|events|cancel|pause|resume|retry|approve|reject`:
//! executions on a running server, the way `argo list|get|watch|logs|retry` work.
//!
//! Every command that names an execution takes its id or any unique prefix of it
//! (`commands::remote::ids`). Read commands print a table or view for people, or the
//! server's answer with `-o json|yaml`; `list`, `get` and `events` also read a local
//! database with `--db PATH` (`reader.rs`), the others always go through a server. Exit codes: 0 success, 1 the server refused (or could not be reached),
//! and for `watch`, 1 when the execution did not succeed; 2 the command line is wrong.

mod control;
mod events;
pub(crate) mod get;
mod list;
mod reader;
mod retry;
pub(crate) mod watch;

use std::process::ExitCode;

use super::local::runtime;
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
    /// List executions, newest first: ID WORKFLOW VERSION STATUS STARTED DURATION.
    List(list::Args),
    /// Show an execution: its status, timings, tasks, errors and outputs.
    Get(get::Args),
    /// Follow an execution live until it ends (exit code 1 unless it succeeded).
    Watch(watch::Args),
    /// Print an execution's event log, in order.
    Events(events::Args),
    /// Cancel an execution: running work is stopped.
    Cancel(control::CancelArgs),
    /// Pause an execution: no new task starts; running ones finish.
    Pause(control::IdArgs),
    /// Resume a paused execution.
    Resume(control::IdArgs),
    /// Run a failed execution again, reusing the outputs of what succeeded.
    Retry(retry::Args),
    /// Approve a task waiting for approval.
    Approve(control::AnswerArgs),
    /// Reject a task waiting for approval.
    Reject(control::AnswerArgs),
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.connection)?;
    runtime()?.block_on(async {
        let done = |r: Result<(), Failure>| r.map(|()| ExitCode::SUCCESS);
        let outcome = match &args.command {
            Command::List(a) => done(list::run(&client, a).await),
            Command::Get(a) => done(get::run(&client, a).await),
            Command::Watch(a) => watch::run(&client, a).await,
            Command::Events(a) => done(events::run(&client, a).await),
            Command::Cancel(a) => done(control::cancel(&client, a).await),
            Command::Pause(a) => done(control::simple(&client, a, "pause").await),
            Command::Resume(a) => done(control::simple(&client, a, "resume").await),
            Command::Retry(a) => retry::run(&client, a).await,
            Command::Approve(a) => done(control::answer(&client, a, "approve").await),
            Command::Reject(a) => done(control::answer(&client, a, "reject").await),
        };
        Ok(outcome.unwrap_or_else(|failure| failure.print()))
    })
}
