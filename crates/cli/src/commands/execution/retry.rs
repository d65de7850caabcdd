//! `harmonia execution retry ID [--from TASK] [--preview] [--latest-version] [--watch]`:
//! run a failed execution again, reusing the outputs of what succeeded.
//!
//! `--preview` starts nothing and prints what would run again and what would be
//! reused, on which version. Otherwise the new execution's id is printed on stdout
//! (so `harmonia execution retry X | xargs harmonia execution watch` works) and, with
//! `--watch`, followed live until it ends.

use std::process::ExitCode;

use serde_json::{Value, json};

use super::watch;
use crate::commands::remote::{Client, Failure, ids};
use crate::output::outln;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The execution: its id or a unique prefix of it.
    #[arg(value_name = "ID")]
    id: String,
    /// Also run this task, and everything downstream of it, again.
    #[arg(long, value_name = "TASK")]
    from: Option<String>,
    /// Only say what would run again; start nothing.
    #[arg(long)]
    preview: bool,
    /// Run on the workflow's latest version instead of the one the execution ran.
    #[arg(long)]
    latest_version: bool,
    /// Follow the new execution until it ends (exit code 1 unless it succeeds).
    #[arg(long, conflicts_with = "preview")]
    watch: bool,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<ExitCode, Failure> {
    let id = ids::execution(client, &args.id).await?;
    let body = json!({
        "from": args.from,
        "preview": args.preview,
        "latest_version": args.latest_version,
    });
    let r: Value = client
        .json(
            client
                .post(&["api", "executions", &id, "retry"])
                .json(&body),
        )
        .await?;
    let names = |field: &str| {
        let list: Vec<&str> = r
            .get(field)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if list.is_empty() {
            "(none)".to_string()
        } else {
            list.join(", ")
        }
    };
    let version = r.get("version").and_then(Value::as_u64).unwrap_or(0);
    let workflow = r.get("workflow").and_then(Value::as_str).unwrap_or("");
    if args.preview {
        outln!("retry of {id} on {workflow} version {version}");
        outln!("  runs again: {}", names("rerun"));
        outln!("  reuses:     {}", names("reused"));
        return Ok(ExitCode::SUCCESS);
    }
    let new = r
        .get("execution_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    crate::output::errln!(
        "retrying {id} as {new} on {workflow} version {version}; runs again: {}",
        names("rerun")
    );
    outln!("{new}");
    if args.watch {
        return watch::follow(client, &new).await;
    }
    Ok(ExitCode::SUCCESS)
}
