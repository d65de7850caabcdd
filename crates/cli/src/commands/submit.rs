//! `harmonia submit FILE|NAME [-i KEY=VALUE]... [--watch]`: start an execution on a
//! running server, like `argo submit`.
//!
//! A path to a file is applied first (`harmonia workflow apply`: created, a new version,
//! or unchanged), then its workflow is executed; anything else names a workflow the
//! server has. The new execution's id goes to stdout, so scripts can capture it; with
//! `--watch` the execution is followed live until it ends, its outputs are printed,
//! and the exit code is its outcome (0 succeeded, 1 otherwise).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value, json};

use super::execution::watch;
use super::local::runtime;
use super::remote::{Client, Connection, Failure};
use super::template::pairs::{self, Pair};
use super::workflow::apply;
use crate::output::outln;

#[derive(Debug, clap::Args)]
// `--version` names a workflow version here, not the binary's.
#[command(disable_version_flag = true)]
pub(crate) struct Args {
    #[command(flatten)]
    connection: Connection,
    /// A definition file to apply and run, or the name of a workflow on the server.
    #[arg(value_name = "FILE|NAME")]
    target: String,
    /// An input, as KEY=VALUE (KEY may be dotted; VALUE is JSON when it parses as JSON).
    #[arg(long = "input", short = 'i', value_name = "KEY=VALUE", value_parser = pairs::parse_pair)]
    inputs: Vec<Pair>,
    /// A file holding an object of inputs (JSON for *.json, else YAML), under --input.
    #[arg(long, value_name = "FILE")]
    input_file: Option<PathBuf>,
    /// The version to run (default: the latest).
    #[arg(long, value_name = "N")]
    version: Option<u32>,
    /// Follow the execution live until it ends; exit 0 only when it succeeded.
    #[arg(long, short = 'w')]
    watch: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.connection)?;
    runtime()?.block_on(async {
        Ok(submit(&client, args)
            .await
            .unwrap_or_else(|failure| failure.print()))
    })
}

async fn submit(client: &Client, args: &Args) -> Result<ExitCode, Failure> {
    let base = match &args.input_file {
        Some(path) => pairs::read_object(path).map_err(Failure::Local)?,
        None => Map::new(),
    };
    let inputs = pairs::object(base, &args.inputs);
    let path = Path::new(&args.target);
    let name = if path.is_file() {
        let applied = apply::apply(client, path).await?;
        crate::output::errln!(
            "workflow/{} {} (version {})",
            applied.name,
            applied.outcome,
            applied.version
        );
        applied.name
    } else if looks_like_a_file(&args.target) {
        return Err(Failure::Local(format!(
            "no file {}; give a definition file or the name of a workflow on the server",
            args.target
        )));
    } else {
        args.target.clone()
    };
    let mut body = json!({"inputs": inputs});
    if let Some(v) = args.version {
        body["version"] = json!(v);
    }
    let started: Value = client
        .json(
            client
                .post(&["api", "workflows", &name, "execute"])
                .json(&body),
        )
        .await?;
    let id = started
        .get("execution_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    crate::output::errln!(
        "execution {id} started: {name} version {}",
        started.get("version").and_then(Value::as_u64).unwrap_or(0)
    );
    if args.watch {
        return watch::follow(client, &id).await;
    }
    outln!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// Whether a target that is not a file was probably meant as one (a workflow's name
/// has no `/` and no extension).
fn looks_like_a_file(target: &str) -> bool {
    target.contains('/')
        || [".yaml", ".yml", ".json"]
            .iter()
            .any(|e| target.to_ascii_lowercase().ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_are_told_apart() {
        assert!(looks_like_a_file("flows/etl.yaml"));
        assert!(looks_like_a_file("etl.JSON"));
        assert!(!looks_like_a_file("etl"));
        assert!(!looks_like_a_file("city-report_2"));
    }
}
