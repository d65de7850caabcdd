//! `harmonia history --db PATH EXECUTION`: an execution's event log, in order.
//!
//! The log is both the audit trail and the checkpoint that recovery replays. Text
//! output is one line per event (sequence number, time, kind, the essentials);
//! `--output json` prints the events as stored.

use crate::output::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use harmonia_engine::event::Event;
use serde_json::json;

use super::local::{Invalid, Output, runtime};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The execution: its id or a unique prefix of it.
    #[arg(value_name = "EXECUTION")]
    execution: String,
    /// The SQLite database that holds it.
    #[arg(long, value_name = "PATH", env = "HARMONIA_DB")]
    db: PathBuf,
    /// How to print it.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(history(args))
}

async fn history(args: &Args) -> anyhow::Result<ExitCode> {
    if !args.db.exists() {
        anyhow::bail!("no database at {}", args.db.display());
    }
    // Reading only: the store is enough; an engine would also resume unfinished work.
    // The history is the use case `GET /api/executions/{id}/events` calls.
    let store = harmonia_storage_sql::SqliteStore::open(&args.db, Default::default()).await?;
    let id = match super::local::resolve(&store, &args.execution).await? {
        Ok(id) => id,
        Err(invalid) => return Ok(invalid.print(args.output)),
    };
    let records = match harmonia_app::executions::history(&store, id).await {
        Ok(records) => records,
        Err(harmonia_app::Error::NotFound(_)) => {
            return Ok(Invalid::new(
                "not_found",
                format!("no execution {id} in {}", args.db.display()),
            )
            .print(args.output));
        }
        Err(e) => return Err(e.into()),
    };
    match args.output {
        Output::Json => {
            let events: Vec<_> = records
                .iter()
                .map(|r| json!({"seq": r.seq, "at": r.at, "kind": r.kind, "event": r.data}))
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(
                    &json!({"execution_id": id.to_string(), "events": events})
                )?
            );
        }
        Output::Text => {
            for r in &records {
                let text = r
                    .data
                    .decode::<Event>()
                    .map(|e| e.describe())
                    .unwrap_or_default();
                outln!("{:>5} {} {:<20} {text}", r.seq, r.at, r.kind);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
