//! `harmonia execution events ID`: an execution's event log, one line per event
//! (sequence number, time, kind, what happened), or the server's
//! `GET /api/executions/{id}/events` with `-o json|yaml`. The same lines as
//! `harmonia history` prints for a local database.

use harmonia_engine::event::Event;
use serde_json::Value;

use super::reader::{DbArg, Reader};
use crate::commands::remote::print::{self, OutputArg};
use crate::commands::remote::{Client, Failure};
use crate::output::outln;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The execution: its id or a unique prefix of it.
    #[arg(value_name = "ID")]
    id: String,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    db: DbArg,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    let reader = Reader::open(client, &args.db).await?;
    let id = reader.resolve(&args.id).await?;
    let log: Value = reader.events(&id).await?;
    if print::data(args.output.format, &log)? {
        return Ok(());
    }
    for e in log
        .get("events")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        outln!("{}", line(e));
    }
    Ok(())
}

/// One event as a line: `SEQ AT KIND DESCRIPTION`.
pub(crate) fn line(e: &Value) -> String {
    let seq = e.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let text = e
        .get("event")
        .cloned()
        .and_then(|v| serde_json::from_value::<Event>(v).ok())
        .map(|e| e.describe())
        .unwrap_or_default();
    format!(
        "{seq:>5} {} {:<20} {text}",
        print::text(e, "at"),
        print::text(e, "kind")
    )
}
