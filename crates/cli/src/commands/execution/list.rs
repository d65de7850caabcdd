//! `harmonia execution list [--status a,b] [--workflow W] [--since 1h] [--origin a,b]
//! [--trigger ID] [--input TEXT] [--limit N]`: executions, newest first, as a table
//! (`ID WORKFLOW VERSION STATUS STARTED DURATION`) or the server's summaries with
//! `-o json|yaml`.
//!
//! Filters go to the server (`GET /api/executions?status=&workflow=&since=&origin=&
//! trigger=&input=`), one option to one parameter, or to a local database with `--db`;
//! the listing follows the pages up to `--limit` (default 50; 0 for all).

use jiff::Timestamp;
use serde_json::Value;

use super::reader::{DbArg, Filter, Reader};
use crate::commands::remote::print::{self, OutputArg};
use crate::commands::remote::{Client, Failure, table, when};
use crate::output::out;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only these statuses, comma-separated: pending, running, paused, succeeded,
    /// failed, cancelled.
    #[arg(long, value_name = "STATUS,...", value_delimiter = ',')]
    status: Vec<String>,
    /// Only executions of this workflow.
    #[arg(long, value_name = "NAME")]
    workflow: Option<String>,
    /// Only executions created since then: a duration back from now (30m, 1h, 2d,
    /// 1h30m) or a time (2026-11-24T10:00:00Z).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only executions started by these kinds of origin, comma-separated: api, mcp,
    /// cli, schedule, webhook, event, retry, workflow, template.
    #[arg(long, value_name = "KIND,...", value_delimiter = ',')]
    origin: Vec<String>,
    /// Only executions this trigger started (its id, as `harmonia trigger list` shows
    /// it: `WORKFLOW.POSITION`).
    #[arg(long, value_name = "ID")]
    trigger: Option<String>,
    /// Only executions whose inputs, as compact JSON, contain this text
    /// (case-sensitive: `--input '"name":"alice"'`; at most 200 characters).
    #[arg(long, value_name = "TEXT")]
    input: Option<String>,
    /// At most this many (0: all).
    #[arg(long, default_value_t = 50, value_name = "N")]
    limit: usize,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    db: DbArg,
}

pub(crate) async fn run(client: &Client, args: &Args) -> Result<(), Failure> {
    let now = Timestamp::now();
    let mut filter = Filter {
        statuses: args
            .status
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        workflow: args.workflow.clone(),
        since: None,
        origins: args
            .origin
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        trigger: args.trigger.clone().filter(|t| !t.is_empty()),
        input: args.input.clone().filter(|i| !i.is_empty()),
    };
    if let Some(s) = &args.since {
        let since = when::since(s, now).map_err(|e| Failure::Local(format!("--since: {e}")))?;
        filter.since = Some(since);
    }
    let max = (args.limit > 0).then_some(args.limit);
    let reader = Reader::open(client, &args.db).await?;
    let items = reader.executions(&filter, max).await?;
    if print::data(args.output.format, &Value::Array(items.clone()))? {
        return Ok(());
    }
    if items.is_empty() {
        crate::output::errln!("no executions");
        return Ok(());
    }
    out!("{}", render(&items, now));
    Ok(())
}

/// The table of `execution list`.
pub(crate) fn render(items: &[Value], now: Timestamp) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|x| {
            let started = x.get("started_at").and_then(Value::as_str);
            let ended = x.get("ended_at").and_then(Value::as_str);
            vec![
                print::text(x, "id"),
                print::text(x, "workflow"),
                print::text(x, "version"),
                print::text(x, "status"),
                started.map_or_else(|| "-".to_string(), |s| when::ago(s, now)),
                when::took(started, ended, now),
            ]
        })
        .collect();
    table::render(
        &["ID", "WORKFLOW", "VERSION", "STATUS", "STARTED", "DURATION"],
        &rows,
        usize::MAX,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_list_shows_what_ran_when_and_for_how_long() {
        let now: Timestamp = "2026-11-30T12:00:00Z".parse().expect("a time");
        let items = [
            json!({"id": "01a22e3b-fe43-7679-b4d6-3a5543f5a959", "workflow": "etl", "version": 3, "status": "running", "started_at": "2026-11-30T11:59:30Z", "ended_at": null}),
            json!({"id": "01a22e3a-35c8-7202-a0f7-7fe52d1d4d48", "workflow": "hello", "version": 1, "status": "failed", "started_at": "2026-11-30T10:00:00Z", "ended_at": "2026-11-30T10:00:01.250Z"}),
            json!({"id": "01a22e3a-35c8-7202-a0f7-7fe52d1d4d47", "workflow": "hello", "version": 1, "status": "pending", "started_at": null, "ended_at": null}),
        ];
        insta::assert_snapshot!(render(&items, now), @r"
        ID                                    WORKFLOW  VERSION  STATUS   STARTED  DURATION
        01a22e3b-fe43-7679-b4d6-3a5543f5a959  etl       3        running  30s ago  30.0s
        01a22e3a-35c8-7202-a0f7-7fe52d1d4d48  hello     1        failed   2h ago   1.2s
        01a22e3a-35c8-7202-a0f7-7fe52d1d4d47  hello     1        pending  -        -
        ");
    }
}
